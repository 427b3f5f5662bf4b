"""Scheduling on a real Prefect server on 127.0.0.1: `minetax serve` and a work pool with a process worker."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import prefect_api as _api
from tests.conftest import wait_for as _wait

BIN = Path(sys.executable).parent


def _deployments(url):
    return {d["name"]: d for d in _api(url, "/deployments/filter", {})}


def _run_and_wait(url, deployment_id, seconds=180):
    """Start a flow run of the deployment; wait until it ends; return its final state type and its id."""
    run = _api(url, f"/deployments/{deployment_id}/create_flow_run", {})
    return _wait(lambda: (lambda s: s if s in ("COMPLETED", "FAILED", "CRASHED") else None)(
        _api(url, f"/flow_runs/{run['id']}")["state"]["type"]), seconds, "the flow run"), run["id"]


def _shows_its_work(url, flow_run_id):
    """The run's minetax log lines and artifacts reached the server (tests/flows/test_artifacts.py checks them)."""
    logs = [r["message"] for r in _api(url, "/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run_id]}}})]
    assert any(m.startswith("file farms.csv: dataset farms") for m in logs), logs
    found = {a["key"] for a in _api(url, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})}
    assert {"minetax-revenue-kz-baseline", "minetax-validation-kz-baseline", "minetax-snapshot"} <= found, found


def test_serve_runs_a_deployment_and_says_schedules_are_paused(prefect_server):
    url, env, base, data = prefect_server
    home = base / "serve-home"
    env = {k: v for k, v in env.items() if k != "PREFECT_LOGGING_LEVEL"}  # as an operator starts it
    proc = subprocess.Popen([sys.executable, "-m", "minetax.cli", "serve", "--home", str(home), "--data-dir",
                             str(data)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deps = _wait(lambda: (lambda d: d if {"monthly-close", "network-refresh"} <= set(d) else None)(
            _deployments(url)), 120, "the served deployments")
        monthly = deps["monthly-close"]
        assert monthly["schedules"][0]["schedule"] == {"cron": "0 6 5 * *", "timezone": "Asia/Almaty", "day_or": True}
        assert deps["network-refresh"]["schedules"][0]["schedule"]["cron"] == "0 7 * * *"
        assert monthly["paused"] is False
        state, run_id = _run_and_wait(url, monthly["id"])
        assert state == "COMPLETED"
        assert (home / "published" / "minetax.duckdb").exists()
        _shows_its_work(url, run_id)
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=60)[0]
    assert "now PAUSED on the server" in " ".join(out.split())
    assert _deployments(url)["monthly-close"]["paused"] is True  # Prefect pauses them; serve said so


def test_work_pool_with_process_worker(prefect_server):
    url, env, base, data = prefect_server
    home = base / "pool-home"
    subprocess.run([str(BIN / "prefect"), "work-pool", "create", "minetax-test", "--type", "process"], env=env,
                   check=True, capture_output=True, timeout=60)
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "deploy", "--pool", "minetax-test", "--home", str(home),
                        "--data-dir", str(data)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    worker = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "minetax-test"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        dep = _deployments(url)["monthly-close"]
        assert dep["work_pool_name"] == "minetax-test"
        state, run_id = _run_and_wait(url, dep["id"])
        assert state == "COMPLETED"
        assert (home / "published" / "minetax.duckdb").exists()
        _shows_its_work(url, run_id)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
