"""minetax forecast: a run on the warehouse's history, published views, ordered percentiles, reform minus baseline,
the same seed twice."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.forecast.store import run_forecast


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    """A home after one run on the embedded data (the forecast reads what it left in the warehouse)."""
    settings = Settings.make(tmp_path_factory.mktemp("forecast") / "home")
    pipeline.run(settings, "kz-baseline")
    return settings


def test_forecast_is_published_and_reproducible(settings):
    run_id, by_year, _ = run_forecast(settings, "kz-baseline", 2029, 300, 11)
    con = duckdb.connect(str(settings.published_path), read_only=True)
    rows = con.execute("SELECT scheme_id, year, p10_kzt, p50_kzt, p90_kzt, mean_kzt FROM forecast_by_year "
                       "WHERE forecast_id = 'kz-baseline' AND kind = 'revenue' ORDER BY scheme_id, year").fetchall()
    windows = con.execute("SELECT window_years, first_year, last_year FROM forecast_budget_window WHERE "
                          "forecast_id = 'kz-baseline' AND scheme_id = 'all schemes' ORDER BY 1").fetchall()
    runs = con.execute("SELECT status, periods FROM runs WHERE run_id = ?", [run_id]).fetchall()
    schemes = con.execute("SELECT kind, id FROM scheme_versions WHERE run_id = ? ORDER BY 1, 2", [run_id]).fetchall()
    con.close()
    assert {r[0] for r in rows} == {"all schemes", "kz-cit", "kz-mining-fee"}
    assert {r[1] for r in rows} == {2026, 2027, 2028, 2029}
    assert all(r[2] <= r[3] <= r[4] for r in rows)
    assert windows == [(1, 2026, 2026), (3, 2026, 2028)]  # a 5-year window would pass the horizon
    assert runs == [("succeeded", "2026..2029 (forecast)")]
    assert schemes == [("scenario", "kz-baseline"), ("scheme", "kz-cit"), ("scheme", "kz-mining-fee")]
    _, again, _ = run_forecast(settings, "kz-baseline", 2029, 300, 11)
    assert again.equals(by_year)  # same seed, same numbers


def test_forecast_compare_is_published_as_a_difference(settings):
    run_forecast(settings, "kz-fee-10", 2028, 300, 11, compare_with="kz-baseline")
    con = duckdb.connect(str(settings.published_path), read_only=True)
    kinds = con.execute("SELECT DISTINCT forecast_id, kind, compared_with FROM forecast_by_year ORDER BY 1").fetchall()
    con.close()
    assert ("kz-fee-10", "difference", "kz-baseline") in kinds


def test_cli(settings):
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "forecast", "--scenario", "kz-baseline", "--to", "2027",
                        "--runs", "100", "--seed", "7", "--home", str(settings.home)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Forecast kz-baseline" in r.stdout and "P90 bn KZT" in r.stdout and "Budget windows" in r.stdout
    assert "network days up to 2025-12-31" in r.stdout
