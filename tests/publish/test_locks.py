"""Locks that mean what they say (issue 13, point 6): one lock for a whole run; read-only commands read the
snapshot and the run log and never block or fail a run; a run is marked crashed only when its process is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.publish.query import run_query
from minetax.publish.runs import list_runs
from tests.conftest import make_data_dir, month_reading, write_csv

FARMS = {"A1": ["coal", "grid", True, "2022-01-01", None]}
RUN = ("import sys; from minetax import pipeline; from minetax.config import Settings; "
       "pipeline.run(Settings.make(sys.argv[1], sys.argv[2]), 'kz-baseline')")


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings.make(tmp_path / "home", make_data_dir(tmp_path / "data", FARMS, [["A1", "2023-01", 1000, 12]]))
    pipeline.run(s, "kz-baseline")
    write_csv(s.inbox_dir / "energy_readings-feb.csv", ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"],
              [month_reading("A1", "2023-02", 800, 12)])
    return s


def _paused_run(settings: Settings, point: str, tmp_path) -> tuple[subprocess.Popen, object]:
    """A run in another process, held at `point` until the release file is written."""
    release = tmp_path / "release"
    env = {**os.environ, "MINETAX_PAUSE_AT": point, "MINETAX_PAUSE_FILE": str(release)}
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(settings.home), str(settings.data_dir)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / "release.paused").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "timeout"
        time.sleep(0.05)
    return proc, release


def _status(settings: Settings, run_id: str) -> str:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute("SELECT status FROM meta.runs WHERE run_id = ?", [run_id]).fetchall()[0][0]
    finally:
        con.close()


def test_readers_never_block_or_fail_a_run(settings, tmp_path):
    proc, release = _paused_run(settings, "estimate:modelled", tmp_path)
    try:
        for _ in range(4):  # minetax runs and minetax sql while the run holds the warehouse
            r = subprocess.run([sys.executable, "-m", "minetax.cli", "runs", "--home", str(settings.home)],
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0 and "running" in r.stdout, r.stderr[-2000:]
            assert run_query(settings, "SELECT count(*) AS n FROM runs").n[0] >= 1
    finally:
        release.write_text("go")
    assert proc.wait(timeout=120) == 0, proc.stderr.read()[-2000:]
    df, _ = list_runs(settings)
    assert df.status[0] == "succeeded" and (df.status == "succeeded").all()


def test_second_run_is_refused_and_the_first_is_not_marked_crashed(settings, tmp_path):
    proc, release = _paused_run(settings, "ingest:merged-all", tmp_path)
    try:
        with pytest.raises(MinetaxError, match=rf"another minetax run \(PID {proc.pid}, started .*\) is running"):
            pipeline.run(settings, "kz-baseline")
    finally:
        release.write_text("go")
    assert proc.wait(timeout=120) == 0, proc.stderr.read()[-2000:]
    df, _ = list_runs(settings)
    assert list(df.status) == ["succeeded", "succeeded"]  # the refused run recorded nothing, the first succeeded


def test_killed_run_shows_as_crashed_and_the_next_run_records_it(settings, tmp_path):
    proc, _ = _paused_run(settings, "estimate:taxed", tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    df, source = list_runs(settings)  # no new run yet: the run log knows the process is gone
    assert df.status[0] == "crashed" and "run log" in source
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "runs", "--home", str(settings.home)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "crashed" in r.stdout and "Traceback" not in r.stderr
    ctx, _ = pipeline.run(settings, "kz-baseline")
    df, _ = list_runs(settings)
    assert list(df.status[:2]) == ["succeeded", "crashed"]
    assert _status(settings, df.run_id[1]) == "crashed"


def test_runs_after_a_refused_input_lists_it(settings):
    (settings.inbox_dir / "energy_readings-feb.csv").write_text("farm_id,ts_start,ts_end,kwh,price_kzt_per_kwh\n"
                                                               "A1,2023-02-01,2023-03-01,lots,12\n")
    with pytest.raises(MinetaxError):
        pipeline.run(settings, "kz-baseline")
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "runs", "--home", str(settings.home)],
                       capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0 and "failed" in r.stdout and "quarantined" in r.stdout, r.stdout + r.stderr[-2000:]
