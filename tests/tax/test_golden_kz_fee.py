"""The Kazakhstan fee against hand-computed golden cases (tests/golden/kz_fee_cases.yaml), through the three
consumers of the one rate model: the farm tax of a run, the top-down country tax, and the forecast's call; under
both readings of the fee's open points (kz-baseline: the defaults; kz-baseline-tiyn: the other readings)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import yaml

from minetax import pipeline
from minetax.config import Settings
from minetax.tax.schemes import load_scenario
from tests.conftest import TESTS, as_forecast, farm_and_country, make_data_dir

CASES = yaml.safe_load((TESTS / "golden" / "kz_fee_cases.yaml").read_text())
TOP_DOWN = {(farm, period): (rate, basis) for farm, period, rate, basis in CASES["top_down"]}
_OTHER = {(c[0], c[1]): c for c in CASES["other_readings"]}
EXPECTED = {"kz-baseline": CASES["expected"],
            "kz-baseline-tiyn": [_OTHER.get((c[0], c[1]), c) for c in CASES["expected"]]}
SCENARIO_CASES = [(scenario, c) for scenario, cases in EXPECTED.items() for c in cases]


def _case_id(sc) -> str:
    return f"{sc[0]}-{sc[1][0]}-{sc[1][1]}"


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    base = tmp_path_factory.mktemp("golden")
    data = make_data_dir(base / "data", CASES["farms"], CASES["readings"])
    settings = Settings.make(base / "home", data)
    pipeline.run(settings, "kz-baseline-tiyn")
    ctx, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    yield con, ctx
    con.close()


def _row(con, farm, period, scenario="kz-baseline"):
    return con.execute("SELECT base_kwh, rate, tax_kzt, rate_basis, period_end FROM estimates "
                       "WHERE scenario_id = ? AND scheme_id = 'kz-mining-fee' AND farm_id = ? AND period_start = ?",
                       [scenario, farm, period]).fetchone()


@pytest.mark.parametrize("sc", SCENARIO_CASES, ids=_case_id)
def test_golden_case(golden, sc):
    con, _ = golden
    scenario, (farm, period, base, rate, tax, basis) = sc
    got = _row(con, farm, period, scenario)
    assert got is not None, f"no estimate for {farm} {period}"
    assert got[0] == pytest.approx(base, abs=1e-6)
    assert got[1] == pytest.approx(rate)
    assert got[2] == pytest.approx(tax, abs=1e-6)
    assert got[3].startswith(basis), got[3]


@pytest.mark.parametrize("scenario", EXPECTED)
def test_every_other_period_pays_nothing(golden, scenario):
    """The listed cases are the whole revenue: any other farm-quarter in the span has zero tax."""
    con, _ = golden
    total = con.execute("SELECT sum(tax_kzt) FROM estimates WHERE scheme_id = 'kz-mining-fee' AND scenario_id = ?",
                        [scenario]).fetchone()[0]
    assert total == pytest.approx(sum(c[4] for c in EXPECTED[scenario]), abs=1e-6)


def test_published_estimates_say_which_reading(golden):
    """rate_basis names the readings; rate_rules (and the rates view) hold the choice with the text it rests on."""
    con, _ = golden
    tags = dict(con.execute("SELECT scenario_id, any_value(rate_basis) FROM estimates WHERE scheme_id = "
                            "'kz-mining-fee' AND period_start = '2023-01-01' GROUP BY ALL").fetchall())
    assert tags["kz-baseline"].endswith("[own generation: highest; price unrounded]"), tags
    assert tags["kz-baseline-tiyn"].endswith("[own generation: replaces; price to the tiyn]"), tags
    rows = con.execute("SELECT scenario_id, name, reading_choice, reference_title FROM rates WHERE kind = 'reading' "
                       "ORDER BY ALL").fetchall()
    assert [r[:3] for r in rows] == [("kz-baseline", "own_generation", "highest"),
                                     ("kz-baseline", "price_rounding", "none"),
                                     ("kz-baseline-tiyn", "own_generation", "replaces"),
                                     ("kz-baseline-tiyn", "price_rounding", "tiyn")]
    assert all("606-3" in r[3] for r in rows)


def test_every_active_farm_quarter_present(golden):
    con, _ = golden
    # G01 operates for the whole span 2021-12 .. 2024-03: quarters 2021Q4 .. 2024Q1 = 10 rows
    n = con.execute("SELECT count(*) FROM estimates WHERE farm_id = 'G01' AND scheme_id = 'kz-mining-fee' "
                    "AND scenario_id = 'kz-baseline'").fetchone()[0]
    assert n == 10
    # G12 starts 2023-02-15: first quarter 2023Q1; G21 stops 2023-02-15: last quarter 2023Q1
    assert con.execute("SELECT min(period_start) FROM estimates WHERE farm_id = 'G12'").fetchone()[0] == \
        dt.date(2023, 1, 1)
    assert con.execute("SELECT max(period_start) FROM estimates WHERE farm_id = 'G21'").fetchone()[0] == \
        dt.date(2023, 1, 1)


def test_period_end_is_quarter_end(golden):
    con, _ = golden
    assert _row(con, "G02", "2023-01-01")[4] == dt.date(2023, 3, 31)


def test_monthly_accrual_sums_to_period(golden):
    con, _ = golden
    rows = con.execute("SELECT month, base_kwh, tax_kzt FROM estimates_month WHERE farm_id = 'G07' "
                       "AND scheme_id = 'kz-mining-fee' AND period_start = '2023-01-01' "
                       "AND scenario_id = 'kz-baseline' ORDER BY month").fetchall()
    assert [(r[1], r[2]) for r in rows] == [(1000, 22000), (1000, 22000), (2000, 44000)]


def test_estimates_carry_lineage(golden):
    con, ctx = golden
    runs = con.execute("SELECT DISTINCT run_id, scenario_id, scheme_id, scheme_version FROM estimates "
                       "WHERE scheme_id = 'kz-mining-fee' AND scenario_id = 'kz-baseline'").fetchall()
    assert len(runs) == 1
    run_id, scenario, scheme, version = runs[0]
    assert (run_id, scenario, scheme) == (ctx.run_id, "kz-baseline", "kz-mining-fee")
    assert version == ctx.scenario.schemes[0].version
    status = con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    assert status == "succeeded"
    inputs = con.execute("SELECT dataset, sha256, rows FROM inputs WHERE run_id = ? ORDER BY dataset",
                         [run_id]).fetchall()
    assert {i[0] for i in inputs} >= {"farms", "energy_readings", "network_daily", "fx", "fleet_efficiency"}
    assert all(len(i[1]) == 64 and i[2] > 0 for i in inputs)


# ---- the same cases through the country tax and the forecast's call of the rate model ------------------------

def _subjects() -> list[dict]:
    """Each case farm as a subject: its categories and its readings summed by month."""
    kwh: dict[tuple[str, dt.date], float] = {}
    price: dict[tuple[str, dt.date], float] = {}
    for farm, month, k, p, *_ in CASES["readings"]:
        key = (farm, dt.date.fromisoformat(f"{month}-01"))
        assert key not in kwh, "one reading per farm and month in the case file"
        kwh[key], price[key] = k, p
    return [{"id": fid, "energy_source": f[0], "connection": f[1], "metered": f[2], "capacity_mw": 1.0,
             "readings": sorted((m, kwh[(farm, m)], price[(farm, m)]) for farm, m in kwh if farm == fid)}
            for fid, f in CASES["farms"].items()]


@pytest.fixture(scope="module")
def consumers():
    out = {}
    for scenario_id in EXPECTED:
        scenario = load_scenario(scenario_id)
        fee = {s.scheme_id: s for s in scenario.schemes}["kz-mining-fee"]
        subjects = _subjects()
        farm, country = farm_and_country(scenario, fee, subjects)
        out[scenario_id] = fee, {s["id"]: s for s in subjects}, farm, country
    return out


def _top_down(scenario: str, farm: str, period, rate: float, basis: str) -> tuple[float, str]:
    if (farm, period) in TOP_DOWN:
        return TOP_DOWN[(farm, period)]
    return rate, basis


@pytest.mark.parametrize("sc", SCENARIO_CASES, ids=_case_id)
def test_golden_case_top_down(consumers, sc):
    """The country tax reads the same model: the same rate, except that overrides cannot apply top-down."""
    scenario, (farm, period, base, rate, tax, basis) = sc
    _, _, farm_sql, country = consumers[scenario]
    farm_rate, farm_basis = farm_sql[(farm, period)][:2]  # the scratch copy of the case farm, as in the run
    assert farm_rate == pytest.approx(rate) and farm_basis.startswith(basis), (farm_rate, farm_basis)
    want_rate, want_basis = _top_down(scenario, farm, period, rate, basis)
    got = country[(farm, period)]
    assert got[0] == pytest.approx(want_rate), got
    assert got[1].startswith(want_basis), got
    assert got[2] == pytest.approx(base) and got[3] == pytest.approx(want_rate * base)


@pytest.mark.parametrize("sc", SCENARIO_CASES, ids=_case_id)
def test_golden_case_as_the_forecast_calls_it(consumers, sc):
    """minetax.forecast.rates (the forecast's fleet, with the farm's categories and the period's average price)."""
    scenario, (farm, period, _, rate, _, basis) = sc
    fee, subjects, _, _ = consumers[scenario]
    got_rate, bases = as_forecast(fee, subjects[farm], period)
    assert got_rate == pytest.approx(rate)
    assert bases and all(b.startswith(basis) for b in bases), bases


def test_top_down_cases_name_real_cases():
    assert set(TOP_DOWN) <= {(c[0], c[1]) for c in CASES["expected"]}
    assert set(_OTHER) <= {(c[0], c[1]) for c in CASES["expected"]}
    assert all(_OTHER[k] != c for c in CASES["expected"] for k in _OTHER if k == (c[0], c[1])), "a case that differs"
