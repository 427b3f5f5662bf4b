"""Forecast (src/minetax/forecast/): protocol facts, Monte Carlo properties, compare, behaviour, backtest, on the
history the embedded run left in the warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from minetax.config import SCENARIOS_DIR
from minetax.forecast import assumptions, protocol, rates
from minetax.forecast import engine as fc
from minetax.forecast.backtest import backtest

RUNS = 300


def _write_forecast(tmp: Path, forecast_id: str, **changes) -> Path:
    """A copy of kz-baseline with top-level sections patched (deep merge), in a temporary forecasts folder."""
    doc = yaml.safe_load((assumptions.FORECASTS_DIR / "kz-baseline.yaml").read_text())
    doc = assumptions._merge(doc, changes)
    doc["forecast_id"] = forecast_id
    d = tmp / "forecasts"
    d.mkdir(exist_ok=True)
    (d / f"{forecast_id}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return d


@pytest.fixture(scope="module")
def baseline(history):
    """The naive model (kz-naive: constant growth), whose figures are pinned below."""
    return fc.simulate("kz-naive", 2030, RUNS, 7, history=history)


# ---- protocol facts ----------------------------------------------------------------------------------------------

def test_subsidy_from_height():
    assert protocol.subsidy_at(629_999) == 12.5
    assert protocol.subsidy_at(630_000) == 6.25
    assert protocol.subsidy_at(840_000) == 3.125
    assert protocol.subsidy_at(1_050_000) == 1.5625
    assert protocol.cumulative_subsidy(210_000) == 50 * 210_000


def test_halving_2024_reproduced_from_data_cut_at_end_of_2023(history):
    chain = protocol.chain_state(history.data("2023-12-31").network)
    assert chain.anchor[0] == 630_000  # the 840,000 anchor is after the cut-off: not used
    (h1, d1), (h2, d2) = chain.next_halvings(2)
    assert h1 == 840_000 and abs((d1 - dt.date(2024, 4, 20)).days) <= 3
    assert h2 == 1_050_000 and d2.year == 2028


def test_next_halving_from_full_data(history):
    chain = protocol.chain_state(history.data().network)
    (h, d), = chain.next_halvings(1)
    assert h == 1_050_000 and d.year == 2028
    assert 140 < chain.blocks_per_day < 150
    # issuance of the halving year is split at the halving: between the two eras' full-year amounts
    full_before, full_after = 3.125 * chain.blocks_per_day * 365, 1.5625 * chain.blocks_per_day * 365
    assert full_after < chain.issuance_btc(2028) < full_before
    assert chain.issuance_btc(2030) == pytest.approx(1.5625 * chain.blocks_per_day * 365, rel=1e-9)


# ---- Monte Carlo ---------------------------------------------------------------------------------------------------

def test_percentiles_ordered(baseline):
    s = fc.summarise(baseline)
    assert set(s.columns) == {"scenario", "scheme", "year", "p10", "p50", "p90", "mean"}
    assert set(s["scheme"]) == {"kz-mining-fee", "kz-cit", fc.ALL_SCHEMES}
    assert sorted(s["year"].unique()) == [2026, 2027, 2028, 2029, 2030]
    assert (s["p10"] <= s["p50"]).all() and (s["p50"] <= s["p90"]).all()
    w = fc.budget_windows(baseline)
    assert sorted(w["window_years"].unique()) == [1, 3, 5]
    assert (w["p10"] <= w["p50"]).all() and (w["p50"] <= w["p90"]).all()
    # windows are summed per draw: the mean of a total is the sum of the yearly means
    allw = w[(w["scheme"] == fc.ALL_SCHEMES) & (w["window_years"] == 5)]["mean"].iloc[0]
    assert allw == pytest.approx(s[s["scheme"] == fc.ALL_SCHEMES]["mean"].sum(), rel=1e-9)


# all schemes, the naive model (kz-naive, = kz-baseline before issue 18) to 2030, 300 draws, seed 7: the figures of
# the engine that read data/reference/*.csv (commit 9618435), reproduced from the warehouse of the embedded run
PINNED_ALL_SCHEMES = {  # year: (p10, p50, p90, mean), KZT
    2026: (326706473.01839745, 5303451362.053049, 15599938950.861258, 7083910928.672938),
    2027: (7592424.734308192, 10133545909.254261, 48759582090.94979, 17498645553.83615),
    2028: (0.052933786947529975, 1294531070.9752834, 50805836766.82196, 15572154608.247053),
    2029: (0.0, 218106106.18355888, 64144260527.87735, 19248959756.501564),
    2030: (0.0, 173795967.14639235, 88186080648.47946, 26301195031.997433),
}


def test_figures_unchanged_on_the_embedded_data(baseline, history):
    s = fc.summarise(baseline)
    got = {r.year: (r.p10, r.p50, r.p90, r.mean) for r in s[s["scheme"] == fc.ALL_SCHEMES].itertuples()}
    assert got.keys() == PINNED_ALL_SCHEMES.keys()
    for year, want in PINNED_ALL_SCHEMES.items():
        assert got[year] == pytest.approx(want, rel=1e-12, abs=1e-9), year
    b = backtest(2024, "kz-naive", runs=RUNS, history=history)["schemes"][fc.ALL_SCHEMES]
    assert (b["actual"], b["p50"]) == pytest.approx((11054657241.755713, 9074032875.701939), rel=1e-12)


def test_same_seed_same_numbers_different_seed_different(baseline, history):
    again = fc.simulate("kz-naive", 2030, RUNS, 7, history=history)
    pd.testing.assert_frame_equal(baseline, again)
    other = fc.simulate("kz-naive", 2030, RUNS, 8, history=history)
    assert not np.allclose(baseline["tax_kzt"].to_numpy(), other["tax_kzt"].to_numpy())


def test_zero_capacity_gives_zero_revenue(tmp_path, history):
    d = _write_forecast(tmp_path, "zero", fleet={"capacity_mw": {
        "path": {2025: {"value": 0, "reason": "test"}},
        "investment_kzt": {y: {"value": 0, "reason": "test"} for y in range(2026, 2030)}}})
    df = fc.simulate("zero", 2028, 50, 1, forecasts_dir=d, history=history)
    assert len(df) and (df["tax_kzt"] == 0).all()


def test_deterministic_paths(tmp_path, history):
    d = _write_forecast(tmp_path, "flat", price={"model": {"value": "flat", "reason": "test"}},
                        network={"hashrate_growth": {"model": {"value": "given", "reason": "test"},
                                                     "sd": {"value": 0.0, "reason": "test"}}})
    df = fc.simulate("flat", 2028, 20, 3, forecasts_dir=d, history=history)
    # every draw is the same
    assert df.groupby(["year", "scheme_id"])["tax_kzt"].nunique().eq(1).all()


def test_compare_is_reform_minus_baseline_per_draw(baseline, history):
    c = fc.compare("kz-fee-10", "kz-baseline", 2030, RUNS, 7, history=history)
    reform = fc.simulate("kz-fee-10", 2030, RUNS, 7, history=history)
    feedback = fc.simulate("kz-baseline", 2030, RUNS, 7, history=history)
    m = reform.merge(feedback, on=["draw", "year", "scheme_id"], suffixes=("_r", "_b"))
    m = m.merge(c, on=["draw", "year", "scheme_id"])
    assert len(m) == len(c) == len(baseline)
    np.testing.assert_allclose(m["tax_kzt"], m["tax_kzt_r"] - m["tax_kzt_b"])
    # the same market in both (common random numbers)
    r1 = fc.run("kz-fee-10", 2030, RUNS, 7, history=history)
    r0 = fc.run("kz-baseline", 2030, RUNS, 7, history=history)
    np.testing.assert_array_equal(r1.market.price_usd, r0.market.price_usd)
    np.testing.assert_array_equal(r1.market.hashrate_ths, r0.market.hashrate_ths)


# ---- behaviour -----------------------------------------------------------------------------------------------------

def test_behaviour_never_raises_the_fee(tmp_path, baseline, history):
    d = _write_forecast(tmp_path, "nobehaviour", behaviour={"value": False, "reason": "test"},
                        network={"hashrate_growth": {"model": {"value": "given", "reason": "as kz-naive"}}})
    off = fc.simulate("nobehaviour", 2030, RUNS, 7, forecasts_dir=d, history=history)
    m = baseline.merge(off, on=["draw", "year", "scheme_id"], suffixes=("_on", "_off"))
    # the fee's base is the energy mined, which behaviour can only lower; income tax may rise, since sites that
    # stop no longer offset the others' profits with their losses
    fee = m[m.scheme_id == "kz-mining-fee"]
    assert (fee["tax_kzt_on"] <= fee["tax_kzt_off"] + 1e-6).all()
    assert (fee["tax_kzt_on"] < fee["tax_kzt_off"]).any()


def test_very_high_fee_gives_zero_revenue_with_behaviour(tmp_path, history):
    scen = tmp_path / "scenarios"
    scen.mkdir()
    for f in SCENARIOS_DIR.glob("kz-baseline.yaml"):
        (scen / f.name).write_text(f.read_text())
    (scen / "kz-fee-200.yaml").write_text(yaml.safe_dump({
        "scenario_id": "kz-fee-200", "title": "test: 200 KZT/kWh", "base": "kz-baseline",
        "reference": {"title": "test"},
        "reforms": {"kz-mining-fee": {"brackets": {dt.date(2026, 1, 1): [{"rate": 200}]},
                                      "overrides": {dt.date(2026, 1, 1): []}}}}))
    # the naive network: with the feedback model a few draws (the BTC price up fivefold, the network not yet
    # grown) would pay even 200 KZT/kWh, and some sites in them would mine
    d = _write_forecast(tmp_path, "fee200", scenario={"value": "kz-fee-200", "reason": "test"},
                        network={"hashrate_growth": {"model": {"value": "given", "reason": "as kz-naive"}}})
    r = fc.run("fee200", 2028, 100, 7, forecasts_dir=d, scenarios_dir=scen, history=history)
    assert r.rates["kz-mining-fee"][0][0] == 200
    assert (r.mining == 0).all()
    assert all((t == 0).all() for t in r.taxes.values())


# ---- tax rules -----------------------------------------------------------------------------------------------------

def _rate(scheme, year: int, price_kzt_per_kwh: float, attrs: dict | None = None) -> tuple[float, str]:
    """The forecast's rate for a one-year fleet (1 January of `year`), through the rate model."""
    from minetax.tax import rates as law
    with law.scratch() as con:
        return rates.rates_by_year(con, scheme, rates.fleet_subjects([year], [price_kzt_per_kwh], [0.0], attrs))[0]


def test_rate_in_force_follows_the_law():
    from minetax.tax.schemes import load_scenario
    fee = {s.scheme_id: s for s in load_scenario("kz-baseline").schemes}["kz-mining-fee"]
    assert _rate(fee, 2022, 20)[0] == 1
    assert _rate(fee, 2023, 24)[0] == 1  # >= 24 -> 1
    assert _rate(fee, 2023, 9.5)[0] == 25
    assert _rate(fee, 2023, 20)[0] == 10  # "up to and including" 20
    assert _rate(fee, 2023, 20, {"metered": False})[0] == 25  # override wins
    assert _rate(fee, 2024, 26)[0] == 2
    assert _rate(fee, 2024, 26, {"energy_source": "hydro"})[0] == 1
    assert _rate(fee, 2021, 26)[0] == 0.0  # not in force yet


def test_forecast_file_values_need_source_or_reason(tmp_path):
    d = _write_forecast(tmp_path, "undoc", fleet={"utilisation": {"value": 0.5}})
    with pytest.raises(assumptions.ForecastError, match="source or reason"):
        assumptions.load_forecast("undoc", d)


# ---- backtest ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("year", [2023, 2024])
def test_backtest(year, history):
    b = backtest(year, runs=RUNS, history=history)
    assert b["cutoff"] == f"{year - 1}-12-31"
    allb = b["schemes"][fc.ALL_SCHEMES]
    assert allb["actual"] > 0
    assert allb["p10"] <= allb["p50"] <= allb["p90"]
    assert allb["inside"] == (allb["p10"] <= allb["actual"] <= allb["p90"])
