"""Crash safety: a run killed (SIGKILL) at 13 points leaves the warehouse and the snapshot consistent, and a
rerun gives the same estimates as a run that was never interrupted."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from minetax import pipeline, warehouse
from minetax.config import Settings
from minetax.faults import POINTS
from tests.conftest import make_data_dir, month_reading, write_csv

FARMS = {"C1": ["coal", "grid", True, "2022-01-01", None], "C2": ["hydro", "own_generation", True, "2022-01-01", None]}
FIRST = [[f, f"2023-{m:02d}", 1000 * m, 9 + m] for f in FARMS for m in range(1, 7)]
NEW_MONTH = [["C1", "2023-07", 5000, 17], ["C2", "2023-07", 700, 4]]
RUN = ("import sys; from minetax import pipeline; from minetax.config import Settings; "
       "pipeline.run(Settings.make(sys.argv[1], sys.argv[2]), 'kz-baseline')")


def _setup(base):
    data = make_data_dir(base / "data", FARMS, FIRST)
    settings = Settings.make(base / "home", data)
    pipeline.run(settings, "kz-baseline")
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    write_csv(settings.inbox_dir / "energy_readings-2023-07.csv",
              ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"], [month_reading(*r) for r in NEW_MONTH])
    return settings


def _estimates(path) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT * EXCLUDE (run_id) FROM estimates ORDER BY scenario_id, scheme_id, farm_id, "
                           "period_start").df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    settings = _setup(tmp_path_factory.mktemp("uninterrupted"))
    _, path = pipeline.run(settings, "kz-baseline")
    return _estimates(path)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for c in a.columns:
        if a[c].dtype.kind == "f":
            assert a[c].fillna(-1).to_numpy() == pytest.approx(b[c].fillna(-1).to_numpy(), rel=1e-12, abs=1e-9), c
        else:
            assert a[c].astype(str).tolist() == b[c].astype(str).tolist(), c


@pytest.mark.parametrize("point", POINTS)
def test_killed_run_leaves_consistent_state_and_rerun_matches(tmp_path, reference, point):
    settings = _setup(tmp_path)
    before = _estimates(settings.published_path)
    env = {**os.environ, "MINETAX_CRASH_AT": point}
    r = subprocess.run([sys.executable, "-c", RUN, str(settings.home), str(settings.data_dir)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == -9, r.stderr[-2000:]  # killed where we said
    # the snapshot is whole: either the one before the run or the run's own
    after = _estimates(settings.published_path)
    if point == "publish:renamed":
        _same(after, reference)
    else:
        _same(after, before)
    # the warehouse opens (DuckDB replays its WAL) and holds no half-applied load
    con = warehouse.connect(settings.warehouse_path)
    try:
        n = con.execute("SELECT count(*) FROM core.energy_readings").fetchall()[0][0]
        running = con.execute("SELECT count(*) FROM meta.runs WHERE status IN ('running', 'publishing')"
                              ).fetchall()[0][0]
    finally:
        con.close()
    assert n in (len(FIRST), len(FIRST) + len(NEW_MONTH))
    assert running == 1  # the killed run; the next run marks it crashed
    ctx, path = pipeline.run(settings, "kz-baseline")
    _same(_estimates(path), reference)
    con = duckdb.connect(str(path), read_only=True)
    statuses = dict(con.execute("SELECT status, count(*) FROM runs GROUP BY 1").fetchall())
    con.close()
    # a run killed after its snapshot was swapped in did publish; every other killed run crashed
    assert statuses == ({"succeeded": 3} if point == "publish:renamed" else {"succeeded": 2, "crashed": 1})
