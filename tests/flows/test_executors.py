"""Executors (flows/executors.py): in-process by default; on a real Dask cluster (dask scheduler + workers on
127.0.0.1, fixture dask_cluster) reporting to a real Prefect server; the refusals of the command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import cloudpickle
import pytest
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import executors
from minetax.config import Settings
from minetax.errors import MinetaxError
from tests.conftest import free_port, prefect_api, wait_for


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
    monkeypatch.setenv("MINETAX_CLUSTER", "")
    assert Settings.make(tmp_path).cluster is None


def test_task_runner_on_a_cluster(tmp_path):
    """A DaskTaskRunner for the address when something listens there; a clear error at once when nothing does
    (a scheduled run reaches the runner without the command line's checks)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        runner = executors.task_runner(Settings.make(tmp_path, cluster=address))
        assert type(runner).__name__ == "DaskTaskRunner" and runner.address == address
    down = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.perf_counter()
    with pytest.raises(MinetaxError, match=rf"cannot reach the Dask scheduler at {down} .*Connection refused"):
        executors.task_runner(Settings.make(tmp_path, cluster=down))
    assert time.perf_counter() - t0 < executors.CONNECT_TIMEOUT_S + 1


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
    try:
        assert {d["name"] for d in deployments} == {"monthly-close", "network-refresh"}
        for d in deployments:
            assert d["job_variables"]["env"] == {"MINETAX_CLUSTER": "tcp://10.0.0.5:8786",
                                                 "MINETAX_READINGS_STORE": store}, d["job_variables"]
    finally:  # the session's server is shared: later tests serve deployments of the same names
        for d in deployments:
            urllib.request.urlopen(urllib.request.Request(f"{url}/deployments/{d['id']}", method="DELETE"),
                                   timeout=10).close()
    r, _ = minetax_cli("deploy", "--pool", "minetax-cluster", "--cluster", "10.0.0.5", env=env)
    refused(r, "'10.0.0.5' is not a Dask scheduler address")


# ---- on a real cluster ------------------------------------------------------------------------------------------
# The tasks below travel to the workers by value: the workers cannot import this test module by the name pytest
# gives it (the basename, from tests/flows on pytest's path).

cloudpickle.register_pickle_by_value(sys.modules[__name__])


@task(name="square", cache_policy=NO_CACHE)
def square(x: int, seconds: float = 0.0) -> dict:
    """x², slowly; and where it ran: the process and the Prefect API it reported to."""
    time.sleep(seconds)
    return {"x": x, "square": x * x, "pid": os.getpid(), "api": os.environ.get("PREFECT_API_URL"),
            "api_setting": PREFECT_API_URL.value()}


@flow(name="executors-demo", validate_parameters=False)
def demo_flow(home: str, n: int, seconds: float = 0.0) -> list[dict]:
    """Map `square` over range(n) with the runner the settings give (the cluster from MINETAX_CLUSTER), from inside
    the flow, as a flow that learns its settings only when it runs (a scheduled deployment) must."""
    runner = executors.task_runner(Settings.make(home))
    assert runner is not None, "no cluster set"
    with runner:
        futures = runner.map(square, {"x": list(range(n)), "seconds": seconds})
        return [f.result() for f in futures]


def run_demo(cluster, url: str, home, monkeypatch, n: int, seconds: float) -> tuple[list[dict], str]:
    """Run demo_flow against the session's Prefect server and cluster; (its results, its flow run id)."""
    monkeypatch.setenv("MINETAX_CLUSTER", cluster.address)
    monkeypatch.setenv("PREFECT_API_URL", url)
    assert executors.require_server(Settings.make(home)) == url
    with temporary_settings({PREFECT_API_URL: url}):
        state = demo_flow(str(home), n, seconds, return_state=True)
        assert state.is_completed(), state
        return state.result(), str(state.state_details.flow_run_id)


def task_runs(url: str, flow_run_id: str, n: int) -> list[dict]:
    """The flow run's task runs as the server has them, once all n are in a final state."""
    def final():
        runs = prefect_api(url, "/task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}})
        return runs if len(runs) == n and all(r["state_type"] in ("COMPLETED", "FAILED") for r in runs) else None

    return wait_for(final, 60, f"{n} finished task runs of flow run {flow_run_id} on the server")


@pytest.mark.cluster
def test_map_on_cluster_reports_to_server(dask_cluster, prefect_server, tmp_path, monkeypatch):
    url = prefect_server[0]
    print(f"dask_cluster fixture started in {dask_cluster.seconds:.1f} s")
    results, flow_run_id = run_demo(dask_cluster, url, tmp_path / "home", monkeypatch, n=8, seconds=1.0)
    assert [(r["x"], r["square"]) for r in results] == [(x, x * x) for x in range(8)]
    workers = set(dask_cluster.worker_pids().values())
    assert {r["pid"] for r in results} == workers and os.getpid() not in workers  # both workers did work
    runs = task_runs(url, flow_run_id, 8)
    assert {r["state_type"] for r in runs} == {"COMPLETED"} and {r["name"].split("-")[0] for r in runs} == {"square"}


@pytest.mark.cluster
def test_no_temporary_api_on_workers(dask_cluster, prefect_server, tmp_path, monkeypatch):
    """The tasks reported to the session's server: each worker had its PREFECT_API_URL and used it; no worker
    started a temporary API (Prefect logs "Starting temporary server on …" when it does, and it would run as a
    uvicorn child of the worker)."""
    import psutil

    url = prefect_server[0]
    results, _ = run_demo(dask_cluster, url, tmp_path / "home", monkeypatch, n=4, seconds=0.2)
    assert {(r["api"], r["api_setting"]) for r in results} == {(url, url)}
    log = dask_cluster.log.read_text()
    assert "Finished in state Completed()" in log  # the workers' Prefect log lines are in this log
    assert "temporary server" not in log.lower(), log[-3000:]
    for pid in dask_cluster.worker_pids().values():
        children = [" ".join(c.cmdline()) for c in psutil.Process(pid).children(recursive=True)]
        assert not [c for c in children if "uvicorn" in c or "prefect" in c], children


@pytest.mark.cluster
def test_killed_worker_during_map_same_results(dask_cluster, prefect_server, tmp_path, monkeypatch):
    """kill -9 of a worker while it runs a task of the map and holds the result of one it finished: Dask runs both
    again elsewhere (the finished one too: its result was in the dead worker's memory) and the flow completes with
    the same results; its nanny starts a new worker."""
    url = prefect_server[0]
    dask_cluster.wait_for_workers(2)
    killed: dict = {}

    def kill_when_busy():
        def busy():
            client = dask_cluster.client
            holding, processing = client.has_what(), client.processing()
            return next(((w, holding[w], processing[w]) for w in sorted(processing)
                         if processing[w] and holding.get(w)), None)

        address, held, running = wait_for(busy, 60, "a worker holding a result and running a task")
        killed.update(pid=dask_cluster.kill_worker(address), held=list(held), running=list(running))

    killer = threading.Thread(target=kill_when_busy, daemon=True)
    killer.start()
    results, flow_run_id = run_demo(dask_cluster, url, tmp_path / "home", monkeypatch, n=8, seconds=2.0)
    killer.join(timeout=5)
    assert killed.get("running") and killed.get("held"), killed  # it died running one task, holding another's result
    assert [(r["x"], r["square"]) for r in results] == [(x, x * x) for x in range(8)]
    assert all(r["api"] == url for r in results)
    dask_cluster.wait_for_workers(2)  # its nanny started a new one
    assert killed["pid"] not in dask_cluster.worker_pids().values()
    runs = task_runs(url, flow_run_id, 8)
    assert {r["state_type"] for r in runs} == {"COMPLETED"}, [(r["name"], r["state_type"]) for r in runs]


@task(name="capped-duckdb", cache_policy=NO_CACHE)
def capped_duckdb(share: float) -> dict:
    """DuckDB in a map task with the worker's caps: its settings, and a sort bigger than a small cap (spilled)."""
    import duckdb

    config = executors.duckdb_config(share)
    con = duckdb.connect(config=config)
    rows = con.execute("SELECT count(*), count(DISTINCT s) FROM (SELECT range AS i, md5(range::VARCHAR) AS s "
                       "FROM range(3000000) ORDER BY s)").fetchone()
    return {"config": config, "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
            "rows": rows}


@flow(name="executors-capped", validate_parameters=False)
def capped_flow(home: str, shares: list[float]) -> list[dict]:
    runner = executors.task_runner(Settings.make(home))
    assert runner is not None
    with runner:
        return [f.result() for f in runner.map(capped_duckdb, {"share": shares})]


def test_duckdb_config_in_process():
    assert executors.duckdb_config() == {}  # not in a Dask task: DuckDB's defaults, as before


@pytest.mark.cluster
def test_duckdb_capped_on_workers(dask_cluster, prefect_server, tmp_path, monkeypatch):
    """On a worker (3 GB limit, 1 thread) DuckDB gets half the limit and one thread by default; with a cap far below
    what a 3M-row sort of 32-byte strings needs (about 60 MB of 3 GB) the sort spills to the worker's folder and
    completes, the worker alive."""
    url = prefect_server[0]
    monkeypatch.setenv("MINETAX_CLUSTER", dask_cluster.address)
    pids = dask_cluster.worker_pids()
    with temporary_settings({PREFECT_API_URL: url}):
        state = capped_flow(str(tmp_path / "home"), [executors.DUCKDB_SHARE, 0.02], return_state=True)
    assert state.is_completed(), state
    default, small = state.result()
    assert default["config"]["memory_limit"] == f"{int(3e9 * 0.5) // 2**20}MiB" and default["threads"] == 1
    assert small["config"]["memory_limit"] == f"{int(3e9 * 0.02) // 2**20}MiB"
    assert small["config"]["temp_directory"].endswith("/duckdb") and default["config"]["threads"] == 1
    assert default["rows"] == small["rows"] == (3_000_000, 3_000_000)
    assert dask_cluster.worker_pids() == pids  # no worker was killed or restarted


@task(name="write-part", cache_policy=NO_CACHE)
def write_part(store, part: int) -> int:
    """A map task's shape: compute a partition's rows in DuckDB on the worker, write them to the store."""
    import duckdb

    con = duckdb.connect(config=executors.duckdb_config())
    return store.write_parquet(con, "SELECT ? AS part, range AS i FROM range(?)", f"part={part}/rows.parquet",
                               [part, 1000 * (part + 1)])


@flow(name="executors-s3", validate_parameters=False)
def s3_flow(home: str, store, parts: int) -> list[int]:
    runner = executors.task_runner(Settings.make(home))
    assert runner is not None
    with runner:
        return [f.result() for f in runner.map(write_part, {"store": unmapped(store), "part": list(range(parts))})]


@pytest.mark.cluster
def test_workers_write_to_s3_store(dask_cluster, prefect_server, s3_server, tmp_path, monkeypatch):
    """Map tasks on the workers write Parquet files to a real S3 server through the store they were handed (its
    endpoint and credentials travel with it: the workers' environment has no S3 settings), and this process
    reads them all back."""
    import duckdb

    from minetax.storage import Store

    assert not set(s3_server.env) & set(dask_cluster.env)  # no endpoint, credentials or region on the workers
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    store = Store.open(f"s3://{s3_server.bucket}/cluster-{tmp_path.name}")
    monkeypatch.setenv("MINETAX_CLUSTER", dask_cluster.address)
    with temporary_settings({PREFECT_API_URL: prefect_server[0]}):
        state = s3_flow(str(tmp_path / "home"), store, 4, return_state=True)
    assert state.is_completed(), state
    assert state.result() == [1000, 2000, 3000, 4000]
    assert store.list() == [f"part={p}/rows.parquet" for p in range(4)]
    con = duckdb.connect()
    store.relation(con, store.list(), "parts")
    assert con.execute("SELECT part, count(*), sum(i) FROM parts GROUP BY part ORDER BY part").fetchall() == [
        (p, 1000 * (p + 1), sum(range(1000 * (p + 1)))) for p in range(4)]
