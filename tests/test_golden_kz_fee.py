"""The Kazakhstan fee against hand-computed golden cases (tests/golden/kz_fee_cases.yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
import yaml

from minetax import pipeline
from minetax.config import Settings
from tests.conftest import make_data_dir

CASES = yaml.safe_load((Path(__file__).parent / "golden" / "kz_fee_cases.yaml").read_text())


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    base = tmp_path_factory.mktemp("golden")
    data = make_data_dir(base / "data", CASES["farms"], CASES["readings"])
    settings = Settings.make(base / "home", data)
    ctx, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    yield con, ctx
    con.close()


def _row(con, farm, period):
    return con.execute("SELECT base_kwh, rate, tax_kzt, rate_basis, period_end FROM estimates "
                       "WHERE scheme_id = 'kz-mining-fee' AND farm_id = ? AND period_start = ?",
                       [farm, period]).fetchone()


@pytest.mark.parametrize("case", CASES["expected"], ids=lambda c: f"{c[0]}-{c[1]}")
def test_golden_case(golden, case):
    con, _ = golden
    farm, period, base, rate, tax, basis = case
    got = _row(con, farm, period)
    assert got is not None, f"no estimate for {farm} {period}"
    assert got[0] == pytest.approx(base, abs=1e-6)
    assert got[1] == pytest.approx(rate)
    assert got[2] == pytest.approx(tax, abs=1e-6)
    assert got[3].startswith(basis), got[3]


def test_every_other_period_pays_nothing(golden):
    """The listed cases are the whole revenue: any other farm-quarter in the span has zero tax."""
    con, _ = golden
    total = con.execute("SELECT sum(tax_kzt) FROM estimates WHERE scheme_id = 'kz-mining-fee'").fetchone()[0]
    assert total == pytest.approx(sum(c[4] for c in CASES["expected"]), abs=1e-6)


def test_every_active_farm_quarter_present(golden):
    con, _ = golden
    # G01 operates for the whole span 2021-12 .. 2024-03: quarters 2021Q4 .. 2024Q1 = 10 rows
    n = con.execute("SELECT count(*) FROM estimates WHERE farm_id = 'G01' AND scheme_id = 'kz-mining-fee'"
                    ).fetchone()[0]
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
                       "AND scheme_id = 'kz-mining-fee' AND period_start = '2023-01-01' ORDER BY month").fetchall()
    assert [(r[1], r[2]) for r in rows] == [(1000, 22000), (1000, 22000), (2000, 44000)]


def test_estimates_carry_lineage(golden):
    con, ctx = golden
    runs = con.execute("SELECT DISTINCT run_id, scenario_id, scheme_id, scheme_version FROM estimates "
                       "WHERE scheme_id = 'kz-mining-fee'").fetchall()
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
