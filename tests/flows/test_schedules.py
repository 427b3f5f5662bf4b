"""Scheduling on a real Prefect server on 127.0.0.1: `minetax serve` and a work pool with a process worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import make_data_dir

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url: str, path: str, body: dict | None = None):
    req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _wait(predicate, seconds: float, what: str):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("prefect")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(base / "prefect"), "PREFECT_API_URL": url,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "INFO"}
    log = open(base / "server.log", "w")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)

    def healthy():
        try:
            return _api(url, "/health") is True
        except OSError:
            return False

    try:
        _wait(healthy, 120, "the Prefect server")
        data = make_data_dir(base / "data", {"S1": ["coal", "grid", True, "2022-01-01", None]},
                             [["S1", "2023-01", 1000, 10]])
        yield url, env, base, data
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _deployments(url):
    return {d["name"]: d for d in _api(url, "/deployments/filter", {})}


def _run_and_wait(url, deployment_id, seconds=180):
    run = _api(url, f"/deployments/{deployment_id}/create_flow_run", {})
    return _wait(lambda: (lambda s: s if s in ("COMPLETED", "FAILED", "CRASHED") else None)(
        _api(url, f"/flow_runs/{run['id']}")["state"]["type"]), seconds, "the flow run")


def test_serve_runs_a_deployment_and_says_schedules_are_paused(server):
    url, env, base, data = server
    home = base / "serve-home"
    proc = subprocess.Popen([sys.executable, "-m", "minetax.cli", "serve", "--home", str(home), "--data-dir",
                             str(data)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deps = _wait(lambda: (lambda d: d if {"monthly-close", "network-refresh"} <= set(d) else None)(
            _deployments(url)), 120, "the served deployments")
        monthly = deps["monthly-close"]
        assert monthly["schedules"][0]["schedule"] == {"cron": "0 6 5 * *", "timezone": "Asia/Almaty", "day_or": True}
        assert deps["network-refresh"]["schedules"][0]["schedule"]["cron"] == "0 7 * * *"
        assert monthly["paused"] is False
        assert _run_and_wait(url, monthly["id"]) == "COMPLETED"
        assert (home / "published" / "minetax.duckdb").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=60)[0]
    assert "now PAUSED on the server" in " ".join(out.split())
    assert _deployments(url)["monthly-close"]["paused"] is True  # Prefect pauses them; serve said so


def test_work_pool_with_process_worker(server):
    url, env, base, data = server
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
        assert _run_and_wait(url, dep["id"]) == "COMPLETED"
        assert (home / "published" / "minetax.duckdb").exists()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
