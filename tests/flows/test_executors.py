"""Executors (flows/executors.py): in-process by default; on a real Dask cluster (dask scheduler + workers on
127.0.0.1, fixture dask_cluster) reporting to a real Prefect server; the refusals of the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows import executors
from minetax.config import Settings
from minetax.errors import MinetaxError
from tests.conftest import free_port, prefect_api


def minetax_cli(*args: str, env: dict, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    """Run the command line as a user does; the result and its wall time."""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "minetax.cli", *args], capture_output=True, text=True, env=env,
                       timeout=timeout)
    return r, time.perf_counter() - t0


def refused(r: subprocess.CompletedProcess, *phrases: str) -> str:
    """Exit code 1, one `error:` line first, no traceback; stderr on one line, holding every phrase."""
    assert r.returncode == 1, (r.returncode, r.stdout[-2000:], r.stderr)
    assert r.stderr.startswith("error:") and "Traceback" not in r.stderr, r.stderr
    assert sum(line.startswith("error:") for line in r.stderr.splitlines()) == 1, r.stderr
    text = " ".join(r.stderr.split())
    for phrase in phrases:
        assert phrase in text, (phrase, r.stderr)
    return text


def no_server_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "MINETAX_CLUSTER",
                                                            "MINETAX_READINGS_STORE")}
    return {**env, "MINETAX_HOME": str(tmp_path / "home")}


# ---- the setting ------------------------------------------------------------------------------------------------

def test_default_is_in_process(tmp_path, monkeypatch):
    monkeypatch.delenv("MINETAX_CLUSTER", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    settings = Settings.make(tmp_path)
    assert settings.cluster is None and settings.readings_store is None
    assert executors.task_runner(settings) is None
    assert executors.require_server(settings) is None  # nothing required without a cluster


def test_settings_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MINETAX_CLUSTER", " tcp://10.0.0.5:8786 ")
    monkeypatch.setenv("MINETAX_READINGS_STORE", "s3://bucket/readings")
    s = Settings.make(tmp_path)
    assert (s.cluster, s.readings_store) == ("tcp://10.0.0.5:8786", "s3://bucket/readings")
    s = Settings.make(tmp_path, cluster="tcp://127.0.0.1:8786", readings_store=str(tmp_path / "r"))
    assert (s.cluster, s.readings_store) == ("tcp://127.0.0.1:8786", str(tmp_path / "r"))  # arguments win
    runner = executors.task_runner(s)
    assert type(runner).__name__ == "DaskTaskRunner" and runner.address == "tcp://127.0.0.1:8786"
    monkeypatch.setenv("MINETAX_CLUSTER", "")
    assert Settings.make(tmp_path).cluster is None


@pytest.mark.parametrize("address", ["10.0.0.5:8786", "tcp://10.0.0.5", "tcp://:8786", "http://10.0.0.5:8786",
                                     "tcp://10.0.0.5:port", "tcp://10.0.0.5:8786/x", "tls://10.0.0.5:8786"])
def test_address_form(address):
    with pytest.raises(MinetaxError) as e:
        executors.check_address(address)
    assert repr(address) in str(e.value) and "tcp://HOST:PORT" in str(e.value) and "--cluster" in str(e.value)


def test_address_accepted():
    assert executors.check_address("tcp://10.0.0.5:8786") == ("10.0.0.5", 8786)
    assert executors.check_address("tcp://scheduler.internal:8786") == ("scheduler.internal", 8786)


# ---- the command line refuses at once ---------------------------------------------------------------------------

def test_run_on_cluster_without_server_refused_at_once(tmp_path):
    r, seconds = minetax_cli("run", "--cluster", "tcp://127.0.0.1:1", env=no_server_env(tmp_path))
    refused(r, "--cluster tcp://127.0.0.1:1 needs a running Prefect server (PREFECT_API_URL)",
            "each worker would start a temporary Prefect API", "prefect server start",
            "export PREFECT_API_URL=http://127.0.0.1:4200/api")
    assert not (tmp_path / "home").exists()  # refused before anything: no state folder, no Prefect database
    assert seconds < 20, seconds  # no Prefect started (the temporary API alone takes longer on this machine)


def test_environment_setting_refused_the_same(tmp_path):
    env = {**no_server_env(tmp_path), "MINETAX_CLUSTER": "tcp://127.0.0.1:1"}
    refused(minetax_cli("run", env=env)[0], "needs a running Prefect server")
    env["PREFECT_API_URL"] = f"http://127.0.0.1:{free_port()}/api"
    refused(minetax_cli("run", env=env)[0], f"PREFECT_API_URL={env['PREFECT_API_URL']} does not answer")
    refused(minetax_cli("run", "--cluster", "127.0.0.1:8786", env=env)[0], "'127.0.0.1:8786' is not a Dask "
            "scheduler address: expected tcp://HOST:PORT")
    del env["MINETAX_CLUSTER"]
    refused(minetax_cli("run", "--readings-store", "gs://bucket/x", env=env)[0], "store 'gs://bucket/x'",
            "--readings-store", "s3://bucket/prefix")
    assert not (tmp_path / "home").exists()


def test_unreachable_scheduler_refused_at_once(prefect_server, tmp_path):
    url, env, _, _ = prefect_server
    env = {**no_server_env(tmp_path), "PREFECT_API_URL": url}
    address = f"tcp://127.0.0.1:{free_port()}"
    r, seconds = minetax_cli("run", "--cluster", address, env=env)
    refused(r, f"cannot reach the Dask scheduler at {address}", "Connection refused", "dask scheduler")
    assert not (tmp_path / "home").exists() and seconds < 20, seconds
    r, _ = minetax_cli("serve", "--cluster", address, env=env)
    refused(r, f"cannot reach the Dask scheduler at {address}")


def test_deployments_carry_the_settings(prefect_server, tmp_path):
    """`minetax deploy --cluster … --readings-store …`: the scheduled runs get both (job variables of the work pool's
    process worker: the flows read them from the environment)."""
    url, env, _, data = prefect_server
    env = {**no_server_env(tmp_path), "PREFECT_API_URL": url, "PREFECT_HOME": env["PREFECT_HOME"]}
    subprocess.run([str(Path(sys.executable).parent / "prefect"), "work-pool", "create", "minetax-cluster", "--type",
                    "process"], env=env, check=True, capture_output=True, timeout=120)
    store = str(tmp_path / "readings")
    r, _ = minetax_cli("deploy", "--pool", "minetax-cluster", "--data-dir", str(data), "--cluster",
                       "tcp://10.0.0.5:8786", "--readings-store", store, env=env)
    assert r.returncode == 0, r.stderr
    deployments = [d for d in prefect_api(url, "/deployments/filter", {}) if d["work_pool_name"] == "minetax-cluster"]
    assert {d["name"] for d in deployments} == {"monthly-close", "network-refresh"}
    for d in deployments:
        assert d["job_variables"]["env"] == {"MINETAX_CLUSTER": "tcp://10.0.0.5:8786",
                                             "MINETAX_READINGS_STORE": store}, d["job_variables"]
    r, _ = minetax_cli("deploy", "--pool", "minetax-cluster", "--cluster", "10.0.0.5", env=env)
    refused(r, "'10.0.0.5' is not a Dask scheduler address")
