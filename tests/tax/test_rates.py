"""The one rate model (sql/tax/rate_in_force.sql through minetax.tax.rates): precedence, bracket edges, rounding,
categories known or not, status, and that no other code evaluates the law."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from minetax.config import SQL_DIR
from minetax.forecast import rates as forecast_rates
from minetax.tax import rates as law
from minetax.tax.schemes import load_scheme

ROOT = Path(__file__).resolve().parents[2]
REF = '{title: "test case (hand-computed)", url: "https://example.org/test"}'
SCHEME = f"""scheme_id: t-law
title: Test law with brackets, tied overrides and two exemptions
family: per_kwh_by_price
currency: KZT
rate_unit: KZT/kWh
tax_period: quarter
average_price_decimals: 1
parameters:
  brackets:
    values:
      2023-01-01:
        value: [{{up_to: 10, inclusive: true, rate: 25}}, {{up_to: 20, inclusive: false, rate: 10}}, {{rate: 1}}]
        status: enacted
        reference: {REF}
  overrides:
    values:
      2023-01-01:
        value:
          - {{name: unmetered, when: {{metered: false}}, rate: 30}}
          - {{name: own, when: {{connection: [own_generation]}}, rate: 5}}
          - {{name: also_own, when: {{connection: [own_generation]}}, rate: 5}}
        status: proposed
        reference: {REF}
  exemptions:
    values:
      2023-01-01:
        value: [{{name: tiny, when: {{capacity_mw_below: 0.5}}}}, {{name: small, when: {{capacity_mw_below: 1}}}}]
        status: unverified
        reference: {REF}
"""
JAN = dt.date(2023, 1, 1)
GRID = {"connection": "grid", "energy_source": "coal", "metered": True, "licensed": True, "capacity_mw": 5.0}
# (subject, expected rate, expected basis, expected status)
CASES = [
    ({**GRID, "month": dt.date(2022, 12, 1), "avg_price_kzt_per_kwh": 5}, 0, "not in force", None),
    ({**GRID, "month": JAN, "avg_price_kzt_per_kwh": 10.0}, 25, "bracket: avg price <=10", "enacted"),
    ({**GRID, "month": JAN, "avg_price_kzt_per_kwh": 10.04}, 25, "bracket: avg price <=10", "enacted"),  # -> 10.0
    ({**GRID, "month": JAN, "avg_price_kzt_per_kwh": 10.06}, 10, "bracket: avg price >10 and <20", "enacted"),
    ({**GRID, "month": JAN, "avg_price_kzt_per_kwh": 19.94}, 10, "bracket: avg price >10 and <20", "enacted"),
    ({**GRID, "month": JAN, "avg_price_kzt_per_kwh": 19.96}, 1, "bracket: avg price >=20", "enacted"),  # -> 20.0
    ({**GRID, "month": JAN, "avg_price_kzt_per_kwh": 20}, 1, "bracket: avg price >=20", "enacted"),
    ({**GRID, "month": JAN, "avg_price_kzt_per_kwh": None}, None, "no consumption", None),
    # an override replaces the bracket even when lower; ties go to the first listed (not the first by name)
    ({**GRID, "connection": "own_generation", "month": JAN, "avg_price_kzt_per_kwh": 5}, 5, "override: own",
     "proposed"),
    # the highest matching override wins
    ({**GRID, "connection": "own_generation", "metered": False, "month": JAN, "avg_price_kzt_per_kwh": 5}, 30,
     "override: unmetered", "proposed"),
    # an exemption beats every override; of two, the first by name
    ({**GRID, "metered": False, "capacity_mw": 0.4, "month": JAN, "avg_price_kzt_per_kwh": 5}, 0, "exempt: small",
     "unverified"),
    ({**GRID, "capacity_mw": 0.7, "month": JAN, "avg_price_kzt_per_kwh": 5}, 0, "exempt: small", "unverified"),
    # categories unknown (top-down): only the brackets, whatever the category columns say
    ({**GRID, "metered": False, "capacity_mw": 0.4, "categories_known": False, "subject_kind": "country",
      "month": JAN, "avg_price_kzt_per_kwh": 25}, 1, "bracket: avg price >=20", "enacted"),
]


@pytest.fixture(scope="module")
def scheme(tmp_path_factory):
    folder = tmp_path_factory.mktemp("schemes")
    (folder / "t-law.yaml").write_text(SCHEME)
    return load_scheme("t-law", folder)


def test_precedence_edges_rounding_and_categories(scheme):
    with law.scratch() as con:
        got = law.rates_for(con, scheme, [c[0] for c in CASES])
        status = [r[0] for r in con.execute("SELECT rate_status FROM rate_in_force ORDER BY CAST(subject_id AS INTEGER)"
                                            ).fetchall()]
    assert got == [(c[1], c[2]) for c in CASES]
    assert status == [c[3] for c in CASES]


def test_categories_decide_only_where_known(scheme):
    unmetered = {**GRID, "metered": False, "month": JAN, "avg_price_kzt_per_kwh": 25}
    with law.scratch() as con:
        known, unknown = law.rates_for(con, scheme, [unmetered, {**unmetered, "categories_known": False}])
    assert known == (30, "override: unmetered")
    assert unknown == (1, "bracket: avg price >=20")


def test_one_row_per_subject_and_rerun_replaces(scheme):
    subjects = [{**GRID, "month": dt.date(2023, m, 1), "avg_price_kzt_per_kwh": p} for m in (1, 2, 3) for p in (5, 15)]
    with law.scratch() as con:
        first = law.rates_for(con, scheme, subjects)
        again = law.rates_for(con, scheme, subjects[:2])
        rows = con.execute("SELECT count(*) FROM rate_in_force").fetchall()[0][0]
        assert law.rates_for(con, scheme, []) == []
    assert first[:2] == again and rows == 2
    assert first == [(25, "bracket: avg price <=10"), (10, "bracket: avg price >10 and <20")] * 3


def test_unknown_subject_key_refused(scheme):
    with law.scratch() as con, pytest.raises(ValueError, match="unknown keys.*'colour'"):
        law.rates_for(con, scheme, [{"month": JAN, "avg_price_kzt_per_kwh": 5, "colour": "green"}])


def test_forecast_reads_the_model(scheme):
    """The forecast's fleet, year by year: the rate in force on 1 January; no rate counts as 0 for its taxes."""
    subjects = forecast_rates.fleet_subjects([2022, 2023, 2024], [5.0, 19.96, 7.0], [650.0, 0.4, 650.0],
                                             {"metered": False})
    with law.scratch() as con:
        got = forecast_rates.rates_by_year(con, scheme, subjects)
    assert got == [(0.0, "not in force"), (0.0, "exempt: small"), (30.0, "override: unmetered")]


def test_the_law_is_evaluated_in_one_place():
    """Only the rate model reads the rules' conditions and bracket edges (the schema declares them, the scheme
    loader writes them): no second evaluation in SQL or Python."""
    allowed = {"sql/schema.sql", "sql/tax/rate_in_force.sql", "src/minetax/tax/schemes.py",
               "src/minetax/tax/rates.py", "sql/publish/comments.sql"}  # comments.sql describes the columns
    found = {str(p.relative_to(ROOT)) for folder in (SQL_DIR, ROOT / "src", ROOT / "flows")
             for p in folder.rglob("*") if p.suffix in (".sql", ".py")
             and any(w in p.read_text() for w in ("price_hi_inclusive", "when_capacity_mw_below"))}
    assert found <= allowed, found - allowed
    assert "sql/tax/rate_in_force.sql" in found
