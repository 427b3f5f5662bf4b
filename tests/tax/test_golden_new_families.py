"""The issue-17 families (marginal bands on the taxpayer's volume, time-of-use periods, suspension windows) against
hand-computed cases (tests/golden/families17/cases.yaml), through the farm tax of a run, the top-down country tax
and the forecast engine (its month rates over each case's tax period, and its annual taxes by draw: flat load, one
taxpayer, suspension windows under the behavioural model); and bad schemes of these families refused by name."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import SchemeError
from minetax.forecast import rates as forecast_rates
from minetax.forecast.assumptions import ForecastError
from minetax.forecast.fleet import FleetPaths
from minetax.tax import rates as law
from minetax.tax.schemes import load_scenario, load_scheme
from tests.conftest import FARM_HEADER, TESTS, farm_and_country, make_data_dir, month_reading, write_csv

CASES_DIR = TESTS / "golden" / "families17"
SCHEMES = CASES_DIR / "schemes"
CASES = yaml.safe_load((CASES_DIR / "cases.yaml").read_text())
SCENARIOS = ["t-marginal", "t-tou", "t-suspend", "t-suspend-dynamic"]
OTHER = {(c[0], c[1], c[2], c[3]): (c[4], c[5]) for c in CASES["other_consumers"]}


def _readings() -> list[list]:
    """[farm, ts_start, ts_end, kWh, price] for every reading of the case."""
    rows = [month_reading(f, m, kwh, price) for f, m, kwh, price in CASES["monthly"]]
    for farm, first, last, start, end, kwh, price in CASES["daily"]:
        for day in pd.date_range(first, last):
            d = day.strftime("%Y-%m-%d")
            rows.append([farm, f"{d} {start}:00", f"{d} {end}:00", kwh, price])
    return rows


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("families17")
    data = make_data_dir(base / "data", {}, [])
    write_csv(data / "farms.csv", [*FARM_HEADER, "taxpayer_id"],
              [[fid, f"Farm {fid}", f[2], f[0], f[1], "true", "true", 1.0, "2022-01-01", "", f[3] or ""]
               for fid, f in CASES["farms"].items()])
    write_csv(data / "energy_readings.csv", ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"],
              _readings())
    write_csv(data / "reference" / "fx.csv", ["pair", "date", "rate", "source"],
              [["USD/KZT", "2022-01-01", 500, "test"]])
    settings = Settings.make(base / "home", data, SCHEMES)
    for scenario in SCENARIOS:
        _, path = pipeline.run(settings, scenario)
    con = duckdb.connect(str(path), read_only=True)
    yield con, settings
    con.close()


@pytest.fixture(scope="module")
def warehouse(runs):
    con = duckdb.connect(str(runs[1].warehouse_path), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("case", CASES["farm"], ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_farm_tax(runs, case):
    scenario, scheme, farm, period, base, tax, rate, basis = case
    got = runs[0].execute("SELECT base_kwh, tax_kzt, rate, rate_basis FROM estimates WHERE scenario_id = ? AND "
                          "scheme_id = ? AND farm_id = ? AND period_start = ?",
                          [scenario, scheme, farm, period]).fetchone()
    assert got is not None
    assert got[0] == pytest.approx(base, abs=1e-9)
    assert got[1] == pytest.approx(tax, rel=1e-12, abs=1e-9)
    assert got[2] == pytest.approx(rate, rel=1e-12)
    assert got[3].startswith(basis), got[3]


def test_farm_month_hour_spreads_readings_by_local_hour(warehouse):
    """model.farm_month_hour: a reading over 17:30-18:30 is half in hour 17, half in 18; 18:00-22:00 in 18..21."""
    h3 = warehouse.execute("SELECT hour, energy_kwh FROM model.farm_month_hour WHERE scenario_id = 't-tou' "
                           "AND farm_id = 'H3' AND month = '2023-03-01' ORDER BY hour").fetchall()
    assert h3 == [(17, 50.0), (18, 50.0)]
    h1 = warehouse.execute("SELECT hour, energy_kwh FROM model.farm_month_hour WHERE scenario_id = 't-tou' "
                           "AND farm_id = 'H1' AND month = '2023-01-01' ORDER BY hour").fetchall()
    assert h1 == [(18, 3100.0), (19, 3100.0), (20, 3100.0), (21, 3100.0)]
    # kWh by day: kept only for scenarios with suspension windows (their one reader), spread pro rata by time
    days = warehouse.execute("SELECT count(*), min(energy_kwh), max(energy_kwh), sum(energy_kwh) FROM "
                             "model.farm_day_energy WHERE scenario_id = 't-suspend' AND farm_id = 'H2'").fetchone()
    assert days[0] == 31 and days[1] == pytest.approx(2400 / 31) and days[3] == pytest.approx(2400)
    assert warehouse.execute("SELECT count(*) FROM model.farm_day_energy WHERE scenario_id = 't-tou'"
                             ).fetchone() == (0,)


@pytest.mark.parametrize("case", CASES["suspended"], ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_suspension_windows(runs, case):
    scenario, farm, period, kwh, tax, dynamic = case
    got = runs[0].execute("SELECT suspended_kwh, tax_suspended_kzt, tax_dynamic_kzt FROM estimates "
                          "WHERE scenario_id = ? AND scheme_id = 't-suspend' AND farm_id = ? AND period_start = ?",
                       [scenario, farm, period]).fetchone()
    assert got[0] == pytest.approx(kwh, abs=1e-9) and got[1] == pytest.approx(tax, abs=1e-9)
    assert got[2] == (None if dynamic is None else pytest.approx(dynamic, abs=1e-9))


def test_suspension_findings_list_the_readings_inside_a_window(runs):
    rows = runs[0].execute("SELECT farm_id, month, suspended_kwh, suspended_share, tax_suspended_kzt "
                        "FROM suspension_findings WHERE scenario_id = 't-suspend' AND farm_id IN ('S1', 'S2') "
                           "ORDER BY month").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("S1", dt.date(2023, 1, 1)), ("S1", dt.date(2023, 2, 1)),
                                            ("S1", dt.date(2023, 3, 1))]  # S2 is in the South: no window
    assert [r[2] for r in rows] == pytest.approx([1000, 400, 500], abs=1e-9)
    assert rows[0][3] == pytest.approx(10 / 31) and rows[1][4] == pytest.approx(400)


def _subjects() -> list[dict]:
    kwh: dict[tuple[str, dt.date], float] = {}
    for farm, start, _, k, _ in _readings():
        month = dt.date.fromisoformat(start[:7] + "-01")
        kwh[(farm, month)] = kwh.get((farm, month), 0) + k
    return [{"id": fid, "energy_source": f[0], "connection": f[1], "metered": True, "capacity_mw": 1.0,
             "readings": sorted((m, k, 10.0) for (farm, m), k in kwh.items() if farm == fid)}
            for fid, f in CASES["farms"].items()]


@pytest.fixture(scope="module")
def consumers():
    out = {}
    for scenario_id in ("t-marginal", "t-tou", "t-suspend"):
        scenario = load_scenario(scenario_id, SCHEMES / "scenarios", SCHEMES)
        scheme = scenario.schemes[0]
        out[scheme.scheme_id] = (scheme, farm_and_country(scenario, scheme, _subjects())[1])
    return out


@pytest.mark.parametrize("case", CASES["farm"], ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_country_tax(consumers, case):
    _, scheme, farm, period, _, _, rate, basis = case
    want_rate, want_basis = OTHER.get(("country", scheme, farm, period), (rate, basis))
    got = consumers[scheme][1][(farm, period)]
    assert got[0] == pytest.approx(want_rate, rel=1e-12, abs=1e-12), got
    assert got[1].startswith(want_basis), got


def _fleet(year: int, price: float, capacity_mw: float = 1.0, fx: float = 500.0) -> FleetPaths:
    one = np.ones(1)
    return FleetPaths([year], capacity_mw * one, one, 20.0 * one, one, price * one, fx * one, 0.0 * one)


def _forecast_period_rate(scheme, subject: dict, period: dt.date) -> tuple[float, list[str]]:
    """The forecast engine's rate over the tax period: its month rates (forecast.rates.month_rates, what fleet_taxes
    weighs) for a fleet year at the period's average price, running flat, whose kWh in the period are the case's,
    weighted by the months' kWh (their days)."""
    months = {"month": 1, "quarter": 3, "year": 12}[scheme.tax_period]
    inside = [(m, k, p) for m, k, p in subject["readings"] if m.year == period.year
              and period.month <= m.month < period.month + months]
    kwh = sum(k for _, k, _ in inside)
    price = sum(k * p for _, k, p in inside) / kwh
    weights = forecast_rates.month_weights([period.year])
    span = slice(period.month - 1, period.month - 1 + months)
    year_kwh = kwh / weights[0, span].sum()
    attrs = {"energy_source": subject["energy_source"], "connection": subject["connection"], "metered": True,
             "licensed": True}
    with law.scratch() as con:
        got = forecast_rates.month_rates(con, scheme, [period.year], _fleet(period.year, price), attrs,
                                         year_kwh * weights[None] if scheme.family == "per_kwh_marginal" else None)
    rate = got.rate.reshape(-1, 12)[0]
    w = weights[0, span]
    return float((rate[span] * w).sum() / w.sum()), got.basis[0][span]


@pytest.mark.parametrize("case", CASES["farm"], ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_forecast_engine_month_rates(consumers, case):
    _, scheme_id, farm, period, _, _, rate, basis = case
    want_rate, want_basis = OTHER.get(("forecast", scheme_id, farm, period), (rate, basis))
    subject = {s["id"]: s for s in _subjects()}[farm]
    got_rate, bases = _forecast_period_rate(consumers[scheme_id][0], subject, period)
    assert got_rate == pytest.approx(want_rate, rel=1e-12, abs=1e-12)
    assert bases and all(b.startswith(want_basis) or b.startswith(want_basis.split(" (")[0]) for b in bases), bases


@pytest.mark.parametrize("case", CASES["forecast"], ids=lambda c: f"{c[0]}-{c[1][0]}-{'suspend' if c[5] else 'all'}")
def test_forecast_engine_taxes(consumers, case):
    """fleet_taxes, as the forecast's fleet_outcome calls it: annual taxes by draw and year, hand-computed."""
    scheme_id, years, kwh, source, connection, suspend, tax, active, basis = case
    one = np.ones(len(years))
    fleet = FleetPaths(years, one, one, 20.0 * one, one, 10.0 * one, 500.0 * one, 0.0 * one)
    energy = np.array(kwh, dtype=float)
    attrs = {"energy_source": source, "connection": connection, "metered": True, "licensed": True}
    got = forecast_rates.fleet_taxes([consumers[scheme_id][0]], years, fleet, energy, energy * 0, energy * 10.0,
                                     attrs, suspend=suspend)
    assert got.taxes[scheme_id] == pytest.approx(np.array(tax, dtype=float), rel=1e-12, abs=1e-9)
    assert got.active == pytest.approx(np.array(active, dtype=float), rel=1e-12)
    assert got.rates[scheme_id][0][1].startswith(basis), got.rates[scheme_id]


def test_forecast_engine_refuses_a_currency_it_has_no_rate_for(consumers):
    scheme = dataclasses.replace(consumers["t-tou"][0], currency="EUR")
    with pytest.raises(ForecastError, match="t-tou: rates in EUR cannot be forecast"):
        forecast_rates.fleet_taxes([scheme], [2023], _fleet(2023, 10.0), np.ones((1, 1)), np.zeros((1, 1)),
                                   np.zeros((1, 1)), {})


def test_other_consumer_cases_name_real_cases():
    assert {(k[1], k[2], k[3]) for k in OTHER} <= {(c[1], c[2], c[3]) for c in CASES["farm"]}


# ---- bad schemes of the new families -----------------------------------------------------------------------------

def _scheme(tmp_path, name: str, old: str, new: str):
    text = (SCHEMES / f"{name}.yaml").read_text()
    assert old in text, old
    (tmp_path / f"{name}.yaml").write_text(text.replace(old, new))
    return tmp_path


@pytest.mark.parametrize("name, old, new, message", [
    ("t-marginal", "{up_to_kwh: 3000, rate: 2}", "{up_to_kwh: 800, rate: 2}",
     "band 2: up_to_kwh must be a number above"),
    ("t-marginal", "{rate: 5}]", "{up_to_kwh: 9000, rate: 5}]", "the last band must be open"),
    ("t-marginal", "{up_to_kwh: 1000, rate: 0}", "{up_to: 1000, rate: 0}", "unknown key 'up_to'"),
    ("t-marginal", "{rate: 5}]", "{rate: -5}]", "rate must be a number >= 0"),
    ("t-marginal", "tax_period: year", "tax_period: week", "tax_period must be one of"),
    ("t-tou", "hours: [18, 19, 20, 21], months: [6, 7, 8]", "hours: [18, 19, 20], months: [6, 7, 8]",
     "month 6, hour 21 is in no period"),
    ("t-tou", "hours: [5, 6, 7, 8]", "hours: [5, 6, 7, 8, 9]", "month 1, hour 9 is also in period"),
    ("t-tou", "hours: [5, 6, 7, 8]", "hours: [5, 6, 7, 24]", "needs a non-empty list of whole numbers 0..23"),
    ("t-tou", "months: [6, 7, 8]", "months: [6, 7, 13]", "needs a non-empty list of whole numbers 1..12"),
    ("t-tou", "currency: USD", "currency: GBP", "unknown currency 'GBP'"),
    ("t-tou", "rate_unit: USD/kWh", "rate_unit: KZT/kWh", "unknown rate_unit 'KZT/kWh'"),
    ("t-suspend", "to: 2023-01-20", "to: 2023-01-05", "to 2023-01-05 is before from 2023-01-11"),
    ("t-suspend", "from: 2023-02-25", "from: Feb 25", "needs a day (YYYY-MM-DD)"),
    ("t-suspend", "regions: [North]", "regions: []", "needs a non-empty list of region names"),
    ("t-suspend", "{name: national-halt, ", "{name: national-halt, until: 2023-03-01, ", "unknown key 'until'"),
])
def test_bad_scheme_refused(tmp_path, name, old, new, message):
    with pytest.raises(SchemeError, match=f"scheme refused: {name}.yaml") as e:
        load_scheme(name, _scheme(tmp_path, name, old, new))
    assert message in str(e.value), str(e.value)


def test_workbook_lists_suspension_findings_as_data_quality(runs, tmp_path):
    import shutil

    import openpyxl

    from minetax.outputs.export import context
    from minetax.outputs.workbook import write_workbook

    shutil.copytree(runs[1].home, tmp_path / "home")  # the module's read-only connection holds the snapshot open
    settings = Settings.make(tmp_path / "home", runs[1].data_dir, SCHEMES)
    path = write_workbook(settings, context(settings, "t-suspend"), tmp_path, force=False)
    rows = list(openpyxl.load_workbook(path, data_only=True)["Data quality"].iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if isinstance(r[0], str) and r[0].startswith("Readings inside a "
                                                                                               "suspension window"))
    found = [r for r in rows[start + 2:] if r[0] == "t-suspend" and r[1] == "S1"]
    assert [(r[4], r[5]) for r in found] == [(3100, 1000), (2800, 400), (3100, 500)]


@pytest.mark.parametrize("period, share", [("2023-01-01", 0), ("2023-02-01", 4 / 28), ("2023-03-01", 5 / 31)])
def test_top_down_suspension_is_flat_over_the_days_and_national_only(runs, period, share):
    """Top-down (World): the regional winter-halt does not apply; the national halt takes its days' share."""
    row = runs[0].execute("SELECT energy_kwh, suspended_kwh, tax_kzt, tax_suspended_kzt FROM estimates_country "
                          "WHERE scenario_id = 't-suspend' AND country = 'World' AND period_start = ?",
                          [period]).fetchone()
    assert row[1] == pytest.approx(row[0] * share, rel=1e-12, abs=1e-6)
    assert row[3] == pytest.approx(row[2] * share, rel=1e-12, abs=1e-6)
