"""`minetax deploy --pool P`, then `minetax serve` with the same deployment names, on one real Prefect server: serve
takes the deployments over and the run it is asked for completes (issue 15: they kept the pool's pull steps and lost
their path, and every run serve started crashed loading the flow)."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import prefect_api, wait_for

BIN = Path(sys.executable).parent
POOL = "minetax-then-serve"
NAMES = {"monthly-close", "network-refresh"}


def _ours(url: str) -> dict[str, dict]:
    return {d["name"]: d for d in prefect_api(url, "/deployments/filter", {}) if d["name"] in NAMES}


def _final_state(url: str, deployment_id: str) -> tuple[str, str]:
    run = prefect_api(url, f"/deployments/{deployment_id}/create_flow_run", {})

    def ended():
        state = prefect_api(url, f"/flow_runs/{run['id']}")["state"]
        return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

    state = wait_for(ended, 240, "the flow run serve started")
    return state["type"], state.get("message") or ""


def test_serve_after_deploy_to_a_pool_runs_the_deployment(prefect_server):
    url, env, base, data = prefect_server
    home = base / "deploy-then-serve-home"
    subprocess.run([str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process"], env=env,
                   check=True, capture_output=True, timeout=60)
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "deploy", "--pool", POOL, "--home", str(home),
                        "--data-dir", str(data)], env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    before = _ours(url)
    assert {d["work_pool_name"] for d in before.values()} == {POOL}
    assert all(d["pull_steps"] for d in before.values())  # what used to break serve

    log = base / "deploy-then-serve.log"
    with open(log, "w") as out:
        serve = subprocess.Popen([sys.executable, "-m", "minetax.cli", "serve", "--home", str(home), "--data-dir",
                                  str(data)], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        # Prefect's serve says this once it has applied the deployments, before it polls for runs
        wait_for(lambda: "being served" in log.read_text() or serve.poll() is not None, 180, "serve to start")
        assert serve.poll() is None, log.read_text()
        state, message = _final_state(url, before["monthly-close"]["id"])
        assert state == "COMPLETED", message
        assert (home / "published" / "minetax.duckdb").exists()
        for name, d in _ours(url).items():
            assert d["id"] == before[name]["id"]  # the same deployment (its run history), now served
            assert d["work_pool_name"] is None and not d["pull_steps"] and d["job_variables"] == {}
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=90)
        for d in _ours(url).values():  # the session's server is shared: other tests register the same names
            urllib.request.urlopen(urllib.request.Request(f"{url}/deployments/{d['id']}", method="DELETE"),
                                   timeout=10).close()
    said = " ".join(log.read_text().split())
    assert f"minetax-run/monthly-close (pool {POOL}): was registered for a work pool" in said, said
    assert "now served here" in said
