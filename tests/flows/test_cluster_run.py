"""`minetax run --cluster`: the map tasks of a real run on a real Dask cluster (fixture dask_cluster: a scheduler and
two workers on 127.0.0.1) reporting to a real Prefect server (fixture prefect_server). The published figures equal
those of the same run in one process (to float summation order: DuckDB's parallel sums may differ in the last
digits, relative 1e-12); a worker killed with kill -9 during the map changes nothing; a failed partition fails the
run, names the partition and the file, and publishes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from minetax import pipeline
from minetax.config import Settings
from tests.conftest import make_data_dir, prefect_api, wait_for, write_csv
from tests.test_embedded_totals import COUNTRY, FARM, KEY

HEADER = ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"]
FARMS = {f"G{i:02d}": ["coal", "grid", True, "2022-01-01", None] for i in range(16)}


def figures(published: Path) -> pd.DataFrame:
    con = duckdb.connect(str(published), read_only=True)
    try:
        df = pd.concat([con.execute(FARM).df(), con.execute(COUNTRY).df()])
    finally:
        con.close()
    return df.sort_values(KEY).reset_index(drop=True)


def same_figures(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a[KEY].astype(str).values.tolist() == b[KEY].astype(str).values.tolist()
    for col in ("base_kwh", "tax_low_kzt", "tax_kzt", "tax_high_kzt"):
        assert a[col].tolist() == pytest.approx(b[col].tolist(), rel=1e-12, abs=1e-3), col


def cluster_env(cluster, url: str, home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINETAX_")}
    return {**env, "PREFECT_API_URL": url, "MINETAX_HOME": str(home), "MINETAX_SETTLE_SECONDS": "0.2",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", **extra}


def minetax(*args: str, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minetax.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def generated(folder: Path) -> Path:
    """16 farms × 6 months of 6-hourly readings: with 4 buckets, about 24 partitions and as many map tasks."""
    data = make_data_dir(folder, FARMS, [])
    rows = []
    for i, farm in enumerate(FARMS):
        t = pd.Timestamp("2023-01-01")
        while t < pd.Timestamp("2023-07-01"):
            rows.append([farm, str(t), str(t + pd.Timedelta(hours=6)), 100 + i + t.hour, 10 + (i % 3)])
            t += pd.Timedelta(hours=6)
    write_csv(data / "energy_readings.csv", HEADER, rows)
    return data


def map_task_runs(url: str, flow_run_id: str) -> list[dict]:
    runs = prefect_api(url, "/task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}})
    return [r for r in runs if r["name"].startswith("map-partitions")]


def last_flow_run(url: str, flow: str = "minetax-run") -> dict:
    runs = prefect_api(url, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 1,
                                                   "flows": {"name": {"any_": [flow]}}})
    return runs[0]


@pytest.mark.cluster
def test_embedded_run_on_the_cluster_publishes_the_in_process_figures(dask_cluster, prefect_server, embedded_run,
                                                                       tmp_path):
    url = prefect_server[0]
    home = tmp_path / "home"
    r = minetax("run", "--cluster", dask_cluster.address, env=cluster_env(dask_cluster, url, home))
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    same_figures(figures(home / "published" / "minetax.duckdb"), figures(embedded_run[2]))
    runs = map_task_runs(url, last_flow_run(url)["id"])
    assert runs and {x["state_type"] for x in runs} == {"COMPLETED"}  # the map ran as Prefect tasks on the server
    assert "temporary server" not in dask_cluster.log.read_text().lower()


@pytest.mark.cluster
def test_generated_partitions_on_the_cluster_equal_in_process_and_survive_a_killed_worker(
        dask_cluster, prefect_server, tmp_path, monkeypatch):
    """Four buckets, six months: in process, then on the cluster while one worker is killed (kill -9) in the
    middle of a map task (it pauses there until the test has killed it; Dask runs the task again on a new worker,
    which does not pause): the same figures."""
    url = prefect_server[0]
    data = generated(tmp_path / "data")
    monkeypatch.setenv("MINETAX_READINGS_BUCKETS", "4")
    monkeypatch.setenv("MINETAX_SETTLE_SECONDS", "0.2")
    _, path = pipeline.run(Settings.make(tmp_path / "local", data), "kz-baseline")
    local = figures(path)

    release = tmp_path / "release"
    pause = {"MINETAX_PAUSE_AT": "map:task", "MINETAX_PAUSE_FILE": str(release)}
    dask_cluster.wait_for_workers(2)
    dask_cluster.client.run(lambda: os.environ.update(pause))
    home = tmp_path / "cluster"
    env = cluster_env(dask_cluster, url, home, MINETAX_READINGS_BUCKETS="4")
    proc = subprocess.Popen([sys.executable, "-m", "minetax.cli", "run", "--cluster", dask_cluster.address,
                             "--data-dir", str(data)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        paused = Path(f"{release}.paused")
        wait_for(lambda: paused.exists() and paused.read_text().strip(), 300, "a map task paused on a worker")
        victim = int(paused.read_text())
        assert victim in dask_cluster.worker_pids().values()
        os.kill(victim, signal.SIGKILL)
        time.sleep(1)
        release.write_text("go")  # the other worker's paused task goes on
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
        release.write_text("go")
        dask_cluster.wait_for_workers(2)
        dask_cluster.client.run(lambda: [os.environ.pop(k, None) for k in pause])
    assert proc.returncode == 0, (out[-3000:], err[-3000:])
    assert victim not in dask_cluster.worker_pids().values()  # its nanny started a new worker
    same_figures(figures(home / "published" / "minetax.duckdb"), local)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT buckets FROM core.readings_layout").fetchall() == [(4,)]
        assert con.execute("SELECT count(*) FROM core.energy_reading_partitions").fetchall()[0][0] > 12
    finally:
        con.close()


@pytest.mark.cluster
def test_a_failed_partition_on_the_cluster_fails_the_run_and_names_it(dask_cluster, prefect_server, tmp_path):
    url = prefect_server[0]
    data = generated(tmp_path / "data")
    home = tmp_path / "home"
    env = cluster_env(dask_cluster, url, home, MINETAX_READINGS_BUCKETS="4")
    r = minetax("run", "--cluster", dask_cluster.address, "--data-dir", str(data), env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    store = home / "core" / "energy_readings"
    victim = sorted(store.glob("bucket=*/ym=202304/*.parquet"))[0]
    victim.write_bytes(b"PAR1 not a parquet file")
    for p in (store / "_partials").iterdir():
        p.unlink()
    before = (home / "published" / "minetax.duckdb").read_bytes()
    # a time-of-use scenario: another model (hours), so the map runs (a reform of the tax only, kz-fee-10, copies
    # kz-baseline's model rows and reads no partition)
    r = minetax("run", "--cluster", dask_cluster.address, "--data-dir", str(data), "--scenario", "et-eep-tou",
                env=env)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-3000:]
    text = " ".join(r.stderr.split())
    rel = str(victim.relative_to(store))
    assert "map over the readings partitions failed" in text and rel in text, text
    assert (home / "published" / "minetax.duckdb").read_bytes() == before


@pytest.mark.cluster
def test_backfill_maps_on_the_cluster(dask_cluster, prefect_server, tmp_path):
    """`minetax backfill --cluster`: with the partials gone, the backfill's map tasks run on the cluster as Prefect
    tasks of the backfill's flow run, and the figures are those the run published."""
    url = prefect_server[0]
    data = generated(tmp_path / "data")
    home = tmp_path / "home"
    env = cluster_env(dask_cluster, url, home, MINETAX_READINGS_BUCKETS="4")
    r = minetax("run", "--data-dir", str(data), env=env)  # in process
    assert r.returncode == 0, r.stderr[-3000:]
    before = figures(home / "published" / "minetax.duckdb")
    for p in (home / "core" / "energy_readings" / "_partials").iterdir():
        p.unlink()
    r = minetax("backfill", "--from", "2023-02", "--to", "2023-03", "--cluster", dask_cluster.address,
                "--data-dir", str(data), env=env)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    runs = map_task_runs(url, last_flow_run(url, "minetax-backfill")["id"])
    assert runs and {x["state_type"] for x in runs} == {"COMPLETED"}
    same_figures(figures(home / "published" / "minetax.duckdb"), before)
