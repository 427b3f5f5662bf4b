"""The forecast reads the validated warehouse: what the last committed run left in core (files from --data-dir and the
drop folder count), never a CSV in the repo; before any run it refuses; its run takes the lock and is recorded."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys

import duckdb
import numpy as np
import pytest

from minetax import pipeline, warehouse
from minetax.config import DEFAULT_DATA_DIR, Settings
from minetax.errors import MinetaxError
from minetax.forecast import engine
from minetax.forecast.assumptions import ForecastError
from minetax.forecast.backtest import backtest
from minetax.forecast.history import read_only
from minetax.forecast.store import run_forecast
from minetax.runlock import RunLock

RUNS = 200
CHANGED = {"2024-06-03": 1.05, "2025-12-31": 1.05}  # price_usd × factor on these days


def _nothing_loaded(settings: Settings) -> str:
    return re.escape(f"nothing loaded yet under {settings.home}: run `minetax run` first")


def _scale_prices(path, factors: dict[str, float], only_changed: bool = False) -> None:
    """Rewrite a network_daily CSV with the prices of some days scaled (and optionally only those days kept)."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    out = []
    for r in rows:
        if r["date"] in factors:
            r["price_usd"] = repr(float(r["price_usd"]) * factors[r["date"]])
            out.append(r)
        elif not only_changed:
            out.append(r)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(out)


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    """A home whose one run read a data folder with two network days changed."""
    root = tmp_path_factory.mktemp("changed")
    data = root / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    _scale_prices(data / "reference" / "network_daily.csv", CHANGED)
    settings = Settings.make(root / "home", data_dir=data)
    pipeline.run(settings, "kz-baseline")
    return settings


# ---- before any run -------------------------------------------------------------------------------------------------

def test_forecast_before_any_run_refuses_and_creates_nothing(tmp_path):
    settings = Settings.make(tmp_path / "home")
    with pytest.raises(ForecastError, match=_nothing_loaded(settings)):
        run_forecast(settings, "kz-baseline", 2028, 50, 1)
    with pytest.raises(ForecastError, match=_nothing_loaded(settings)):
        with read_only(settings):
            pass
    assert not settings.home.exists()
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "forecast", "--to", "2027", "--runs", "10",
                        "--home", str(settings.home)], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    assert "nothing loaded yet under" in r.stdout + r.stderr and "minetax run" in r.stdout + r.stderr
    assert "Traceback" not in r.stderr


def test_forecast_on_an_empty_warehouse_refuses_and_is_recorded_as_failed(tmp_path):
    settings = Settings.make(tmp_path / "home")
    settings.ensure()
    warehouse.connect(settings.warehouse_path).close()  # schema only: no run has committed anything
    with pytest.raises(ForecastError, match=_nothing_loaded(settings)):
        run_forecast(settings, "kz-baseline", 2028, 50, 1)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    rows = con.execute("SELECT scenario_id, status, message FROM meta.runs").fetchall()
    stored = con.execute("SELECT count(*) FROM tax.forecast_by_year").fetchall()[0][0]
    con.close()
    assert len(rows) == 1 and rows[0][:2] == ("forecast:kz-baseline", "failed")
    assert "nothing loaded yet" in rows[0][2]
    assert stored == 0
    RunLock.acquire(settings.home).release()  # the forecast released the run lock


def test_forecast_takes_the_run_lock(changed):
    lock = RunLock.acquire(changed.home)
    try:
        with pytest.raises(MinetaxError, match="another minetax run"):
            run_forecast(changed, "kz-baseline", 2028, 50, 1)
    finally:
        lock.release()


# ---- after a run: what the run loaded is what the forecast reads ----------------------------------------------------

def test_history_is_the_changed_data(changed, embedded_run):
    with read_only(changed) as h:
        mine = h.network("2024-06-03", "2025-12-31")
    with read_only(embedded_run[0]) as h:
        base = h.network("2024-06-03", "2025-12-31")
    ratio = mine.set_index(mine["date"].dt.strftime("%Y-%m-%d"))["price_usd"] / base.set_index(
        base["date"].dt.strftime("%Y-%m-%d"))["price_usd"]
    assert ratio.round(12).to_dict() == {d: CHANGED.get(d, 1.0) for d in ratio.index}


def test_forecast_uses_the_data_of_the_last_run(changed, embedded_run):
    with read_only(changed) as h:
        mine = engine.simulate("kz-baseline", 2030, RUNS, 7, history=h)
    with read_only(embedded_run[0]) as h:
        base = engine.simulate("kz-baseline", 2030, RUNS, 7, history=h)
    assert not np.allclose(mine["tax_kzt"], base["tax_kzt"])  # a dearer last day: every price path starts higher
    run_id, by_year, _ = run_forecast(changed, "kz-baseline", 2030, RUNS, 7)
    assert by_year.equals(engine.summarise(mine))  # the run published what the engine gives on that history
    con = duckdb.connect(str(changed.published_path), read_only=True)
    label, status, params = con.execute("SELECT scenario_id, status, parameters FROM runs WHERE run_id = ?",
                                        [run_id]).fetchall()[0]
    con.close()
    assert (label, status) == ("forecast:kz-baseline", "succeeded")
    sources = {s["dataset"]: s for s in json.loads(params)["history"]["sources"]}
    sha = hashlib.sha256((changed.data_dir / "reference" / "network_daily.csv").read_bytes()).hexdigest()
    assert sources["network_daily"]["sha256"] == sha
    assert json.loads(params)["history"]["tables"]["core.network_daily"]["last_date"] == "2025-12-31"


def test_backtest_forecasts_from_the_history_up_to_the_cutoff_and_takes_the_actual_year(changed, embedded_run):
    with read_only(changed) as h:
        mine = backtest(2024, runs=RUNS, history=h)
    with read_only(embedded_run[0]) as h:
        base = backtest(2024, runs=RUNS, history=h)
    m, b = mine["schemes"][engine.ALL_SCHEMES], base["schemes"][engine.ALL_SCHEMES]
    # the change on 2024-06-03 is after the cut-off (2023-12-31): the forecast is the same, the actual year is not
    assert (m["p10"], m["p50"], m["p90"]) == (b["p10"], b["p50"], b["p90"])
    assert m["actual"] != b["actual"]
    assert mine["price_usd"]["actual"] > base["price_usd"]["actual"]


def test_a_file_from_the_drop_folder_counts_once_a_run_has_loaded_it(changed):
    with read_only(changed) as h:
        before = float(h.network("2025-12-31", "2025-12-31")["price_usd"].iloc[0])
    drop = changed.inbox_dir / "network_daily-fix.csv"
    shutil.copy(changed.data_dir / "reference" / "network_daily.csv", drop)
    _scale_prices(drop, {"2025-12-31": 1.10}, only_changed=True)
    with read_only(changed) as h:  # not yet: only a run validates and merges it
        assert float(h.network("2025-12-31", "2025-12-31")["price_usd"].iloc[0]) == before
    pipeline.run(changed, "kz-baseline")
    with read_only(changed) as h:
        assert float(h.network("2025-12-31", "2025-12-31")["price_usd"].iloc[0]) == pytest.approx(before * 1.10)
        assert h.data().network["date"].iloc[-1].date().isoformat() == "2025-12-31"
