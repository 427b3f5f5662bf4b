"""Every scheme family against hand-computed cases (tests/golden/families/), plus reform, compare, behaviour."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
import yaml

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import SchemeError
from minetax.tax.compare import compare
from minetax.tax.schemes import load_scenario
from tests.conftest import ROOT, TESTS, as_forecast, farm_and_country, make_data_dir, write_csv

CASES = TESTS / "golden" / "families"
EXPECTED = yaml.safe_load((CASES / "expected.yaml").read_text())
TOP_DOWN = {tuple(c[:4]): tuple(c[4:]) for c in yaml.safe_load((CASES / "top_down.yaml").read_text())}
FARMS = {"K1": ["coal", "grid", True, "2022-01-01", None], "R1": ["wind", "grid", True, "2022-01-01", None],
         "S1": ["coal", "grid", True, "2022-01-01", None, 0.4], "V1": ["coal", "grid", True, "2022-01-01", None],
         "L1": ["coal", "grid", True, "2022-01-01", None]}
MONTHS_2022 = [f"2022-{m:02d}" for m in range(1, 13)]
MONTHS_2023 = [f"2023-{m:02d}" for m in range(1, 13)]
READINGS = ([[f, m, 1000, 10] for f in ("K1", "R1", "S1") for m in MONTHS_2023]
            + [["V1", m, 1000, 10] for m in MONTHS_2022 + MONTHS_2023]
            + [["L1", m, 1000, 100] for m in MONTHS_2022])
SCENARIOS = ["t-per-kwh", "t-per-kwh-reform", "t-foreign", "t-cost", "t-cost-dynamic", "t-value", "t-value-x2",
             "t-income"]


def _days(start: str, end: str) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start, end)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("families")
    hashrate = ([["V1", d, 1000] for d in _days("2022-01-01", "2023-12-31")]
                + [["L1", d, 0.001] for d in _days("2022-01-01", "2022-12-31")])
    data = make_data_dir(base / "data", FARMS, READINGS, hashrate)
    write_csv(data / "reference" / "network_daily.csv",
              ["date", "hashrate_ths", "difficulty", "blocks", "subsidy_btc", "fees_btc", "fees_source", "price_usd"],
              [[d, 1_000_000, "", "", 900, 100, "test", 20_000] for d in _days("2022-01-01", "2023-12-31")])
    write_csv(data / "reference" / "fx.csv", ["pair", "date", "rate", "source"],
              [["USD/KZT", "2022-01-01", 500, "test"], ["USD/KZT", "2023-01-01", 450, "test"],
               ["USD/KZT", "2023-02-01", 460, "test"], ["USD/KZT", "2023-03-01", 470, "test"],
               ["USD/KZT", "2023-04-01", 500, "test"]])
    settings = Settings.make(base / "home", data, CASES / "schemes")
    for scenario in SCENARIOS:
        _, path = pipeline.run(settings, scenario)
    con = duckdb.connect(str(path), read_only=True)
    yield settings, con
    con.close()


@pytest.mark.parametrize("case", EXPECTED, ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_family_case(runs, case):
    _, con = runs
    scenario, scheme, farm, period, tax, rate, basis = case
    got = con.execute("SELECT tax_kzt, rate, rate_basis, tax_low_kzt, tax_high_kzt FROM estimates WHERE "
                      "scenario_id = ? AND scheme_id = ? AND farm_id = ? AND period_start = ?",
                      [scenario, scheme, farm, period]).fetchone()
    assert got is not None
    assert got[0] == pytest.approx(tax, rel=1e-9, abs=1e-6)
    assert got[1] == pytest.approx(rate, rel=1e-9)
    assert got[2].startswith(basis), got[2]
    assert got[3] == pytest.approx(got[0]) and got[4] == pytest.approx(got[0])  # all inputs measured: no band


def _subject(farm: str) -> dict:
    f = FARMS[farm]
    return {"id": farm, "energy_source": f[0], "connection": f[1], "metered": f[2],
            "capacity_mw": f[5] if len(f) > 5 else 1.0,
            "readings": [(dt.date.fromisoformat(f"{m}-01"), kwh, price) for r, m, kwh, price in READINGS if r == farm]}


@pytest.fixture(scope="module")
def consumers():
    """Per (scenario, scheme) of the cases: its scheme and the farm and country tax of every case farm."""
    out = {}
    for scenario_id, scheme_id in sorted({(c[0], c[1]) for c in EXPECTED}):
        scenario = load_scenario(scenario_id, CASES / "schemes" / "scenarios", CASES / "schemes")
        scheme = {s.scheme_id: s for s in scenario.schemes}[scheme_id]
        out[(scenario_id, scheme_id)] = (scheme, *farm_and_country(
            scenario, scheme, [_subject(f) for f in FARMS]))
    return out


@pytest.mark.parametrize("case", EXPECTED, ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_family_rate_top_down(consumers, case):
    """The country tax reads the same rate model: the same rate, but no category rate top-down (top_down.yaml)."""
    scenario, scheme, farm, period, _, rate, basis = case
    _, farm_sql, country = consumers[(scenario, scheme)]
    assert farm_sql[(farm, period)][0] == pytest.approx(rate, rel=1e-9)  # the scratch copy of the case farm
    want_rate, want_basis = TOP_DOWN.get((scenario, scheme, farm, period), (rate, basis))
    got = country[(farm, period)]
    assert got[0] == pytest.approx(want_rate, rel=1e-9), got
    assert got[1].startswith(want_basis), got


@pytest.mark.parametrize("case", EXPECTED, ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
def test_family_rate_as_the_forecast_calls_it(consumers, case):
    scenario, scheme_id, farm, period, _, rate, basis = case
    scheme = consumers[(scenario, scheme_id)][0]
    got_rate, bases = as_forecast(scheme, _subject(farm), period)
    assert got_rate == pytest.approx(rate, rel=1e-9)
    assert bases and all(b.startswith(basis) for b in bases), bases


def test_income_tax_allocated_to_months_sums_to_year(runs):
    _, con = runs
    months = con.execute("SELECT sum(tax_kzt), min(tax_kzt) FROM estimates_month WHERE scenario_id = 't-income' "
                         "AND farm_id = 'V1' AND period_start = '2022-01-01'").fetchone()
    assert months[0] == pytest.approx(729_976_000, rel=1e-12) and months[1] >= 0


def test_behaviour_stops_unprofitable_farm(runs):
    _, con = runs
    rows = dict(con.execute("SELECT farm_id, (tax_kzt, tax_dynamic_kzt, operating_dynamic) FROM estimates "
                            "WHERE scenario_id = 't-cost-dynamic' AND period_start = '2022-01-01'").fetchall())
    assert rows["L1"] == (120000, 0, False)  # mines 10 KZT a month of value for 100,000 KZT of power
    assert rows["V1"][0] == rows["V1"][1] == 12000 and rows["V1"][2] is True
    static = con.execute("SELECT tax_dynamic_kzt FROM estimates WHERE scenario_id = 't-cost'").fetchall()
    assert {r[0] for r in static} == {None}  # off by default


def test_compare_difference_is_reform_minus_baseline(runs):
    settings, _ = runs
    by_year, windows = compare(settings, "t-per-kwh", "t-per-kwh-reform")
    con = duckdb.connect(str(settings.published_path), read_only=True)
    cmp = con.execute("SELECT * FROM scheme_comparison WHERE reform_scenario = 't-per-kwh-reform'").df()
    est = con.execute("SELECT scenario_id, year(period_start) AS year, sum(tax_kzt) AS tax FROM estimates "
                      "WHERE scenario_id IN ('t-per-kwh', 't-per-kwh-reform') GROUP BY ALL").df()
    con.close()
    assert (cmp.difference_kzt == cmp.tax_reform_kzt - cmp.tax_baseline_kzt).all()
    for year, g in cmp.groupby("year"):
        b = est[(est.scenario_id == "t-per-kwh") & (est.year == year)].tax.sum()
        r = est[(est.scenario_id == "t-per-kwh-reform") & (est.year == year)].tax.sum()
        assert g.difference_kzt.sum() == pytest.approx(r - b, abs=1e-6)
    # Q2 2023 at 6 instead of 3 KZT/kWh for K1 and V1 (3000 kWh each); R1 keeps its override, S1 is exempt
    assert by_year.set_index("year").loc[2023, "difference_kzt"] == pytest.approx(18000)
    w = windows.set_index(["scheme_id", "window_years"])
    assert w.loc[("all schemes", 1), "first_year"] == 2023
    assert w.loc[("all schemes", 1), "difference_kzt"] == pytest.approx(18000)
    assert w.loc[("all schemes", 5), "years_covered"] == 1  # the data ends in 2023


def test_top_down_world_uses_network_and_efficiency(runs):
    _, con = runs
    row = con.execute("SELECT energy_low_kwh, energy_kwh, energy_high_kwh, btc_mined FROM country_month "
                      "WHERE scenario_id = 't-per-kwh' AND country = 'World' AND month = '2023-01-01'").fetchone()
    eff = pd.read_csv(ROOT / "data" / "reference" / "fleet_efficiency.csv")
    e = eff[eff.date == "2023-01-01"].iloc[0]
    hours = 31 * 24
    assert row[1] == pytest.approx(1_000_000 * e.estimated_j_per_th * 1.10 * hours / 1000, rel=1e-9)
    assert row[0] == pytest.approx(1_000_000 * e.lower_j_per_th * 1.01 * hours / 1000, rel=1e-9)
    assert row[2] == pytest.approx(1_000_000 * e.upper_j_per_th * 1.20 * hours / 1000, rel=1e-9)
    assert row[3] == pytest.approx(31 * 1000)


def _scenario_file(tmp_path, text):
    schemes = tmp_path / "schemes"
    (schemes / "scenarios").mkdir(parents=True, exist_ok=True)
    for p in (CASES / "schemes").glob("*.yaml"):
        (schemes / p.name).write_text(p.read_text())
    for p in (CASES / "schemes" / "scenarios").glob("*.yaml"):
        (schemes / "scenarios" / p.name).write_text(p.read_text())
    (schemes / "scenarios" / "bad.yaml").write_text(text)
    return schemes


@pytest.mark.parametrize("text, message", [
    ("scenario_id: bad\nbase: t-per-kwh\nreference: {title: x}\nreforms: {t-per-kwh: {rate_cap: {2023-01-01: 1}}}\n",
     "unknown parameter 'rate_cap'"),
    ("scenario_id: bad\nbase: t-per-kwh\nreference: {title: x}\nreforms: {t-cost: {rate: {2023-01-01: 0.1}}}\n",
     "does not use"),
    ("scenario_id: bad\nbase: t-cost\nreference: {title: x}\nreforms: {t-cost: {rate: {2023-01-01: 1.5}}}\n",
     "between 0 and 1"),
    ("scenario_id: bad\nbase: t-cost\nreforms: {t-cost: {rate: {2023-01-01: 0.5}}}\n", "scenario-level reference"),
    ("scenario_id: bad\nbase: t-cost\nreference: {title: x}\nreforms: {t-cost: {rate: {2023-01-15: 0.5}}}\n",
     "first day of a month"),
    ("scenario_id: bad\nschemes: [t-cost]\nassumptions: {pue: {low: 1.3, central: 1.1, high: 1.2}}\n", "pue"),
    ("scenario_id: bad\nschemes: [t-cost]\nassumptions: {weather: sunny}\n", "unknown assumptions"),
])
def test_bad_reform_refused_before_anything_runs(tmp_path, text, message):
    schemes = _scenario_file(tmp_path, text)
    with pytest.raises(SchemeError, match=message):
        load_scenario("bad", schemes / "scenarios", schemes)


def test_reform_of_a_reform_keeps_the_first_patch(tmp_path):
    text = ("scenario_id: bad\nbase: t-per-kwh-reform\nreference: {title: x}\n"
            "reforms: {t-per-kwh: {rate: {2023-10-01: 8}}}\n")
    schemes = _scenario_file(tmp_path, text)
    s = load_scenario("bad", schemes / "scenarios", schemes).schemes[0]
    rates = {r["valid_from"]: r["rate"] for r in s.rate_rules() if r["kind"] == "bracket"}
    assert rates == {dt.date(2023, 1, 1): 3, dt.date(2023, 4, 1): 6, dt.date(2023, 7, 1): 4, dt.date(2023, 10, 1): 8,
                     dt.date(2023, 11, 1): 5}


def test_reform_version_differs_and_base_is_untouched():
    base = load_scenario("t-per-kwh", CASES / "schemes" / "scenarios", CASES / "schemes")
    reform = load_scenario("t-per-kwh-reform", CASES / "schemes" / "scenarios", CASES / "schemes")
    assert base.schemes[0].version != reform.schemes[0].version
    rates = {r["valid_from"]: r["rate"] for r in reform.schemes[0].rate_rules() if r["kind"] == "bracket"}
    assert rates == {dt.date(2023, 1, 1): 3, dt.date(2023, 4, 1): 6, dt.date(2023, 7, 1): 4, dt.date(2023, 11, 1): 5}
    assert reform.schemes[0].rate_rules()[1]["status"] == "proposed"  # a bare patch value is a proposal
