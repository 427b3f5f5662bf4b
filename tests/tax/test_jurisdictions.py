"""The issue-17 jurisdictions: their figures, dates and statuses as POLICY.md gives them (so an edit that drifts from
the source fails here), evaluated through the one rate model; and `minetax schemes` lists them with their weakest
status."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from minetax.tax import rates as law
from minetax.tax.schemes import load_scenario, load_scheme

D = dt.date


def _rules(scheme_id: str, kind: str) -> list[dict]:
    return [r for r in load_scheme(scheme_id).rate_rules() if r["kind"] == kind]


def _rate(scheme_id: str, subject: dict) -> tuple[float | None, str]:
    with law.scratch() as con:
        return law.rates_for(con, load_scheme(scheme_id), [subject])[0]


def test_new_york_s8518_bands_as_proposed():
    bands = [(r["valid_from"], r["volume_lo_kwh"], r["volume_hi_kwh"], r["rate"], r["status"])
             for r in _rules("ny-s8518", "band")]
    assert bands == [(D(2027, 1, 1), 0, 2_250_000, 0, "proposed"),
                     (D(2027, 1, 1), 2_250_000, 5_000_000, 0.02, "proposed"),
                     (D(2027, 1, 1), 5_000_000, 10_000_000, 0.03, "proposed"),
                     (D(2027, 1, 1), 10_000_000, 20_000_000, 0.04, "proposed"),
                     (D(2027, 1, 1), 20_000_000, None, 0.05, "proposed")]
    # a taxpayer using 25 M kWh in one month of 2027: 2.75 M x 0.02 + 5 M x 0.03 + 10 M x 0.04 + 5 M x 0.05
    rate, basis = _rate("ny-s8518", {"month": D(2027, 1, 1), "avg_price_kzt_per_kwh": 10, "volume_kwh": 25e6,
                                     "volume_before_kwh": 0, "connection": "grid", "energy_source": "gas"})
    assert rate == pytest.approx((55_000 + 150_000 + 400_000 + 250_000) / 25e6)
    assert basis.startswith("marginal: kWh so far >0 and <=2,250,000")
    assert _rate("ny-s8518", {"month": D(2027, 1, 1), "avg_price_kzt_per_kwh": 10, "volume_kwh": 1e6,
                              "volume_before_kwh": 0, "connection": "off_grid", "energy_source": "solar"}) \
        == (0, "exempt: off-grid-renewable")
    assert _rate("ny-s8518", {"month": D(2026, 12, 1), "avg_price_kzt_per_kwh": 10, "volume_kwh": 1e6,
                              "volume_before_kwh": 0})[1] == "not in force"


def test_ethiopia_peak_and_flat_average_as_reported():
    periods = {r["name"]: (r["when_hours"], r["rate"], r["status"]) for r in _rules("et-eep-tou", "period")
               if r["valid_from"] == D(2025, 12, 1)}
    assert periods["peak"] == ([18, 19, 20, 21], 0.06, "unverified")
    assert periods["shoulder"][0] == [5, 6, 7, 8]
    flat, _ = _rate("et-eep-tou", {"month": D(2026, 1, 1), "avg_price_kzt_per_kwh": 10})
    assert flat == pytest.approx(0.04)  # the reported phase-1 average of 4.00 US cents on a flat load
    night = [0.0] * 24
    night[19] = 100.0
    assert _rate("et-eep-tou", {"month": D(2026, 1, 1), "avg_price_kzt_per_kwh": 10, "hour_kwh": night}) \
        == (pytest.approx(0.06), "time of use: peak")
    assert _rate("et-eep-tou", {"month": D(2025, 11, 1), "avg_price_kzt_per_kwh": 10})[1] == "not in force"


def test_paraguay_russia_kyrgyzstan_values():
    assert [(r["valid_from"], r["rate"], r["status"]) for r in _rules("py-ande-tariff", "bracket")] == \
        [(D(2023, 1, 1), 0.052, "reported")]
    assert load_scheme("py-ande-tariff").fx_pair == "USD/KZT"
    assert [(r["valid_from"], r["rate"], r["status"]) for r in _rules("ru-mining-income", "bracket")] == \
        [(D(2025, 1, 1), 0.25, "reported")]
    assert [r["status"] for r in _rules("ru-mining-income", "suspension")] == ["unverified"]
    assert [(r["valid_from"], r["rate"], r["status"]) for r in _rules("kg-mining-tax", "bracket")] == \
        [(D(2020, 1, 1), 0.15, "reported"), (D(2023, 1, 1), 0.10, "unverified")]
    halt = _rules("kg-mining-tax", "suspension")
    assert [(r["window_from"], r["window_to"], r["when_region"], r["status"]) for r in halt] == \
        [(D(2025, 11, 1), D(2026, 3, 31), None, "reported")]
    rate, basis = _rate("kg-mining-tax", {"month": D(2026, 1, 1), "avg_price_kzt_per_kwh": 10})
    assert rate == 0.10 and basis == "bracket: flat (suspended: halt-2025-26)"
    scheme = load_scheme("kg-mining-tax")
    months = [{"month": D(2025, m, 1), "avg_price_kzt_per_kwh": 10} for m in (10, 11)] + \
        [{"month": D(2026, m, 1), "avg_price_kzt_per_kwh": 10} for m in (3, 4)]
    with law.scratch() as con:
        law.rates_for(con, scheme, months)
        assert law.suspended_shares(con, scheme, 4) == pytest.approx([0, 1, 1, 0])  # flat days: whole months


@pytest.mark.parametrize("scheme_id", ["ru-mining-income", "kg-mining-tax", "et-eep-tou", "py-ande-tariff",
                                       "ny-s8518"])
def test_every_value_has_a_reference_with_a_link(scheme_id):
    for p in load_scheme(scheme_id).parameters.values():
        for entry in p["values"].values():
            assert entry["reference"]["title"] and entry["reference"]["url"].startswith("https://")


@pytest.mark.parametrize("scenario_id, law_as_of", [("ru-profit-tax", D(2025, 1, 1)), ("kg-mining-tax", D(2025, 1, 1)),
                                                    ("et-eep-tou", D(2025, 12, 1)), ("py-ande-tariff", D(2024, 1, 1)),
                                                    ("ny-s8518", D(2027, 1, 1))])
def test_counterfactual_scenarios_apply_the_law_as_of_a_day(scenario_id, law_as_of):
    scenario = load_scenario(scenario_id)
    assert scenario.assumptions["law_as_of"] == law_as_of and scenario.base == "kz-baseline"


def test_schemes_command_lists_them_with_their_weakest_status():
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "schemes"], capture_output=True, text=True, timeout=120,
                       env={"COLUMNS": "250", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    schemes_table = r.stdout.split("Scenarios (")[0]
    lines = {line.split("│")[1].strip(): line for line in schemes_table.splitlines() if line.count("│") > 5}
    for scheme, status in (("ru-mining-income", "unverified"), ("kg-mining-tax", "unverified"),
                           ("et-eep-tou", "unverified"), ("py-ande-tariff", "reported"), ("ny-s8518", "proposed")):
        assert f" {status} " in lines[scheme], lines[scheme]
