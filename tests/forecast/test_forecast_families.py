"""The forecast engine taxes the issue-17 families through the one rate model: the cross-country forecasts
et-eep-tou (time-of-use, USD) and ny-s8518 (marginal bands, USD, from 2027) run on the embedded data and print
figures; a suspension window (Kyrgyzstan's halt to 31 Mar 2026) stops the fleet's activity under the behavioural
model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from minetax.cli.app import app
from minetax.forecast import assumptions
from minetax.forecast import engine as fc
from minetax.forecast.rates import month_weights

RUNS = 200


def test_time_of_use_forecast_taxes_the_flat_fleet_at_the_hours_average(history):
    r = fc.run("et-eep-tou", 2028, RUNS, 7, history=history)
    tax = r.taxes["et-eep-tou"]
    # phase 1 on a flat load: (4 x 6.00 + 20 x 3.60) / 24 = 4.00 US cents a kWh, every month
    assert [rate for rate, _ in r.rates["et-eep-tou"]] == pytest.approx([0.04] * len(r.years), rel=1e-12)
    assert all(b.startswith("time of use: off-peak, peak, shoulder") for _, b in r.rates["et-eep-tou"])
    assert tax == pytest.approx(r.energy_kwh * 0.04 * r.fleet.fx, rel=1e-9)
    assert tax.mean(axis=0).min() > 0


BANDS = [(0, 2.25e6, 0.0), (2.25e6, 5e6, 0.02), (5e6, 10e6, 0.03), (10e6, 20e6, 0.04), (20e6, np.inf, 0.05)]


def _banded(r: fc.Result, k: int) -> np.ndarray:
    """The fleet as one taxpayer: year k's kWh through the bands 0 / 2 / 3 / 4 / 5 US cents, in KZT."""
    e = r.energy_kwh[:, k]
    return sum(np.clip(e - lo, 0, hi - lo) * rate for lo, hi, rate in BANDS) * r.fleet.fx[k]


def _ny_in_force(tmp: Path) -> Path:
    """ny-s8518 with law_as_of in_force: each forecast month's own law, so 2026 is before the proposal starts."""
    d = tmp / "forecasts"
    shutil.copytree(assumptions.FORECASTS_DIR, d)
    doc = {"forecast_id": "ny-in-force", "base": "ny-s8518", "law_as_of": {"value": "in_force", "reason": "test"}}
    (d / "ny-in-force.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return d


def test_marginal_forecast_taxes_every_year_under_the_scenarios_law_day(history, tmp_path):
    """The scenario ny-s8518 says law_as_of 2027-01-01, so the forecast, like the scenario's runs, taxes every month
    under the law of that day: 2026 too. With law_as_of in_force 2026 is 'not in force' and 2027 the same."""
    r = fc.run("ny-s8518", 2028, RUNS, 7, history=history)
    assert r.market.fit["law_as_of"] == "2027-01-01"
    tax = r.taxes["ny-s8518"]
    assert r.years[0] == 2026 and r.rates["ny-s8518"][0][1] != "not in force"
    for k in (0, 1):
        assert tax[:, k] == pytest.approx(_banded(r, k), rel=1e-9, abs=1e-3)
        assert tax[:, k].max() > 0
    own = fc.run("ny-in-force", 2028, RUNS, 7, history=history, forecasts_dir=_ny_in_force(tmp_path))
    assert own.market.fit["law_as_of"] == "in_force"
    assert own.rates["ny-s8518"][0][1] == "not in force" and np.all(own.taxes["ny-s8518"][:, 0] == 0)
    assert own.taxes["ny-s8518"][:, 1] == pytest.approx(tax[:, 1], rel=1e-12)


def test_forecast_law_as_of_refused_when_not_a_day(tmp_path):
    d = _ny_in_force(tmp_path)
    (d / "ny-bad.yaml").write_text(yaml.safe_dump({"forecast_id": "ny-bad", "base": "ny-s8518",
                                                   "law_as_of": {"value": "soon", "reason": "test"}}))
    with pytest.raises(assumptions.ForecastError, match="ny-bad.yaml: law_as_of must be scenario, in_force or a day"):
        assumptions.load_forecast("ny-bad", d)


def _kg_forecast(tmp: Path) -> Path:
    """kz-baseline's assumptions under Kyrgyzstan's rules (10% of the power bill; the halt Nov 2025 - Mar 2026),
    power nearly free so that every draw mines: only the halt takes activity away."""
    doc = yaml.safe_load((assumptions.FORECASTS_DIR / "kz-baseline.yaml").read_text())
    doc = assumptions._merge(doc, {"forecast_id": "kg-halt", "scenario": {"value": "kg-mining-tax", "reason": "t"},
                                   "site_price_spread": {"value": 0.0, "reason": "test"},
                                   "fleet": {"electricity_price_kzt_per_kwh": {"value": 0.01, "reason": "test"}}})
    d = tmp / "forecasts"
    d.mkdir()
    (d / "kg-halt.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return d


def test_suspension_window_has_no_activity_under_the_behavioural_model(history, tmp_path):
    r = fc.run("kg-halt", 2027, RUNS, 7, history=history, forecasts_dir=_kg_forecast(tmp_path))
    assert r.years == [2026, 2027]
    w = month_weights([2026])[0]
    left = 1 - w[:3].sum()  # Jan-Mar 2026 (90 of 365 days) inside the halt
    assert left == pytest.approx(275 / 365, rel=1e-12)
    assert r.mining[:, 0] == pytest.approx(left, rel=1e-12) and np.all(r.mining[:, 1] == 1)
    assert r.energy_kwh[:, 0] == pytest.approx(r.fleet.energy_kwh[0] * left, rel=1e-12)
    assert r.taxes["kg-mining-tax"] == pytest.approx(r.cost_kzt * 0.10, rel=1e-12)
    assert "suspended: halt-2025-26" in r.rates["kg-mining-tax"][0][1]
    # the tax lost to the halt: 10% of the bill of Jan-Mar 2026 (90 of 365 days) had the fleet mined them,
    # 0.10 x 0.01 KZT/kWh x the year's kWh x 90/365; nothing in 2027
    lost = r.lost["kg-mining-tax"]
    assert lost[:, 0] == pytest.approx(0.10 * 0.01 * r.fleet.energy_kwh[0] * 90 / 365, rel=1e-9)
    assert np.all(lost[:, 1] == 0) and lost[:, 0].min() > 0


def test_tax_lost_to_a_suspension_window_is_published_and_replaced(embedded_run, tmp_path):
    """`minetax forecast` of a forecast whose scenario has a window publishes the tax lost to it (kind
    lost_to_suspension, same draws as the revenue); a later forecast of the same id without a window leaves none."""
    import duckdb

    from minetax.config import SCHEMES_DIR, Settings
    from minetax.forecast.store import run_forecast

    schemes = tmp_path / "schemes"
    shutil.copytree(SCHEMES_DIR, schemes)
    shutil.copy(_kg_forecast(tmp_path) / "kg-halt.yaml", schemes / "forecasts" / "kg-halt.yaml")
    home = tmp_path / "home"
    shutil.copytree(embedded_run[0].home, home)
    settings = Settings.make(home, schemes_dir=schemes)
    _, by_year, _ = run_forecast(settings, "kg-halt", 2027, RUNS, 7, with_tornado=False)

    def published(kind: str) -> list[tuple]:
        with duckdb.connect(str(settings.published_path), read_only=True) as con:
            return con.execute("SELECT scheme_id, year, p50_kzt, runs, seed FROM forecast_by_year WHERE forecast_id = "
                               "'kg-halt' AND kind = ? ORDER BY scheme_id, year", [kind]).fetchall()

    lost = published("lost_to_suspension")
    want = by_year.attrs["lost"]
    assert [(s, y) for s, y, *_ in lost] == [("all schemes", 2026), ("all schemes", 2027), ("kg-mining-tax", 2026),
                                             ("kg-mining-tax", 2027)]
    p50 = {(s, y): v for s, y, v, *_ in lost}
    assert p50[("kg-mining-tax", 2026)] == pytest.approx(float(want.query("year == 2026 and scheme == "
                                                                          "'kg-mining-tax'").p50.iloc[0]))
    assert p50[("kg-mining-tax", 2026)] > 0 and p50[("kg-mining-tax", 2027)] == 0
    assert all(r[3:] == (RUNS, 7) for r in lost)
    doc = yaml.safe_load((schemes / "forecasts" / "kg-halt.yaml").read_text())
    doc["scenario"] = {"value": "kz-baseline", "reason": "test: no window"}
    (schemes / "forecasts" / "kg-halt.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    run_forecast(settings, "kg-halt", 2027, RUNS, 7, with_tornado=False)
    assert published("lost_to_suspension") == [] and published("revenue")


@pytest.mark.parametrize("forecast_id", ["et-eep-tou", "ny-s8518"])
def test_cli_forecast_of_a_new_family_prints_figures(embedded_run, forecast_id, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(embedded_run[0].home, home)  # publishing the forecast must not change the shared home
    result = CliRunner().invoke(app, ["forecast", "--scenario", forecast_id, "--to", "2028", "--runs", "100",
                                      "--home", str(home)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if f"│ {forecast_id}" in line and "│ 2028" in line]
    assert rows, result.output
    assert f"published as forecast_id {forecast_id}" in result.output
