"""Issue 18: the feedback network model (estimates with standard errors on a synthetic history whose parameters are
known), halvings from height, reproducibility, the rolling backtest on a small case, the tornado, CSV paths."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from minetax.forecast import engine as fc
from minetax.forecast import network, validation
from minetax.forecast.assumptions import FORECASTS_DIR, ForecastError
from minetax.forecast.history import Data
from minetax.forecast.protocol import Chain
from minetax.forecast.rolling import NO_CHANGE, rolling_backtest, scores, wis_log
from minetax.forecast.tornado import tornado
from minetax.forecast.user_paths import overrides, read_path


def _synthetic(alpha: float, lam: float, lag: int, sd: float, seed: int = 1) -> Data:
    """72 months whose log hashrate follows Δlog H_t = alpha + lam·(log(P·R/eff)_{t−lag} − log H_{t−1}) + N(0, sd),
    each month's days all at the month's values (so monthly means are exact)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2019-01-01", periods=72, freq="MS")
    price = 10_000 * np.exp(np.cumsum(rng.normal(0.02, 0.15, 72)))
    eff = 90 * np.exp(-0.02 * np.arange(72))
    subsidy = np.full(72, 900.0)
    fees = subsidy * 0.05 * np.exp(rng.normal(0, 0.2, 72))
    lre = np.log(price * (subsidy + fees)) - np.log(eff)
    lh = np.empty(72)
    lh[:lag] = np.log(5e7)
    for t in range(lag, 72):
        lh[t] = lh[t - 1] + alpha + lam * (lre[t - lag] - lh[t - 1]) + rng.normal(0, sd)
    days, rows = [], []
    for i, m in enumerate(months):
        for d in pd.date_range(m, m + pd.offsets.MonthEnd(0)):
            days.append(d)
            rows.append((np.exp(lh[i]), 144.0, subsidy[i], fees[i], "observed", price[i]))
    net = pd.DataFrame(rows, columns=["hashrate_ths", "blocks", "subsidy_btc", "fees_btc", "fees_source", "price_usd"])
    net.insert(0, "date", pd.to_datetime(days))
    effdf = pd.DataFrame({"date": months, "estimated_j_per_th": eff})
    return Data(net, pd.DataFrame({"date": [months[0]], "kzt_per_usd": [450.0]}), effdf)


def test_partial_adjustment_speed_is_recovered_with_its_standard_error():
    fit = network.fit_network(_synthetic(alpha=0.9, lam=0.05, lag=3, sd=0.005), 3, (0.0, 10.0))
    p = {q.name: q for q in fit.params()}
    assert abs(p["network.lambda_ols"].value - 0.05) < 3 * p["network.lambda_ols"].se
    assert p["network.lambda_ols"].se < 0.02  # the synthetic history identifies it
    assert p["network.sd"].value == pytest.approx(0.005, rel=0.3)
    assert p["efficiency.drift"].value == pytest.approx(-0.02, abs=1e-12)  # exact exponential decline
    # a sharp prior pulls λ to it; a flat one leaves the OLS estimate
    assert p["network.lambda"].value == pytest.approx(p["network.lambda_ols"].value, abs=1e-3)
    sharp = network.fit_network(_synthetic(0.9, 0.05, 3, 0.005), 3, (0.5, 1e-6))
    assert sharp.adjust[1] == pytest.approx(0.5, abs=1e-4)


def test_too_short_a_history_is_refused_not_guessed():
    d = _synthetic(0.9, 0.05, 3, 0.005)
    short = Data(d.network[d.network["date"] < "2019-10-01"], d.fx, d.efficiency)
    with pytest.raises(ForecastError, match="monthly observations|months of fleet efficiency"):
        network.fit_network(short, 3, (0.04, 0.02))


def test_subsidy_halves_in_the_halving_month():
    chain = Chain(dt.date(2027, 12, 31), 1_050_000 - 144 * 96, 144.0, (840_000, dt.date(2024, 4, 20)))
    s = network.subsidy_per_day(chain, pd.date_range("2028-02-01", periods=4, freq="MS"))
    assert s[0] == pytest.approx(144 * 3.125) and s[-1] == pytest.approx(144 * 1.5625)
    assert s[-1] < s[1] < s[0] or s[-1] < s[2] < s[0]  # the month of the halving is split


def test_feedback_same_seed_same_numbers_and_parameter_draws_widen(history):
    a = fc.run("kz-baseline", 2028, 200, 5, history=history)
    b = fc.run("kz-baseline", 2028, 200, 5, history=history)
    np.testing.assert_array_equal(a.market.hashrate_ths, b.market.hashrate_ths)
    pd.testing.assert_frame_equal(a.long(), b.long())
    assert a.market.fit["network_model"] == "feedback"
    assert {p["name"] for p in a.market.fit["params"]} >= {"network.mu", "network.lambda", "efficiency.drift",
                                                         "fees.phi"}
    other = fc.run("kz-baseline", 2028, 200, 6, history=history)
    assert not np.allclose(a.market.hashrate_ths, other.market.hashrate_ths)
    fs = a.market.network.fee_share
    assert fs.std() > 0 and (fs <= network.MAX_FEE_SHARE).all()  # fees' share is drawn, not fixed


def test_rolling_backtest_small_case(history):
    bt = rolling_backtest(history, "kz-baseline", runs=100, seed=3, origins=[2015, 2023, 2024], horizons=[1, 2])
    rows, sc = bt["rows"], bt["scores"]
    assert bt["naive_ids"] == ["kz-naive", "kz-naive-fitted"]  # the default: constant growth as today and fitted
    assert set(rows["model"]) == {"kz-baseline", "kz-naive", "kz-naive-fitted", NO_CHANGE}
    for m in ("kz-baseline", "kz-naive", "kz-naive-fitted"):  # every model has every scored forecast
        got = rows[rows.model == m]
        assert set(zip(got.origin, got.year, got.measure, strict=True)) == {
            (2023, 2024, "network_hashrate_ths"), (2023, 2025, "network_hashrate_ths"),
            (2024, 2025, "network_hashrate_ths"), (2023, 2024, "fee_base_gwh"), (2023, 2024, "fee_revenue_kzt")}
    assert set(sc[sc.measure == "network_hashrate_ths"].model) == {"kz-baseline", "kz-naive", "kz-naive-fitted",
                                                                   NO_CHANGE}
    net = rows[rows.measure == "network_hashrate_ths"]
    assert set(zip(net.origin, net.year, strict=True)) == {(2023, 2024), (2023, 2025), (2024, 2025)}
    np.testing.assert_allclose(rows["ape"], (rows["p50"] - rows["actual"]).abs() / rows["actual"])
    banded = rows[rows.model != NO_CHANGE]
    assert (banded["inside"] == ((banded.p10 <= banded.actual) & (banded.actual <= banded.p90))).all()
    nc = net[net.model == NO_CHANGE].set_index(["origin", "year"])
    assert nc.loc[(2024, 2025), "p50"] == pytest.approx(nc.loc[(2023, 2024), "actual"])  # 2024's actual, held
    one = sc[(sc.measure == "network_hashrate_ths") & (sc.horizon == 1) & (sc.model == "kz-baseline")].iloc[0]
    h1 = net[(net.model == "kz-baseline") & (net.horizon == 1)]
    assert one.n == 2 and one.mdape_pct == pytest.approx(h1.ape.median() * 100)
    assert one.coverage_pct == pytest.approx(h1.inside.mean() * 100)
    assert any("origin 2015" in n for n in bt["notes"])  # no data then (the history starts 2016): said, not invented
    fee = rows[rows.measure == "fee_base_gwh"]
    assert set(fee.year) == {2024}  # the sample ends 2024: only 2023 -> 2024 can be scored
    again = rolling_backtest(history, "kz-baseline", "kz-naive,kz-naive-fitted", runs=100, seed=3,
                             origins=[2015, 2023, 2024], horizons=[1, 2])
    pd.testing.assert_frame_equal(rows, again["rows"])  # same seed, same backtest (the ids as the CLI gives them)


def test_tornado_moves_the_median_the_right_way(history):
    t = tornado("kz-baseline", 2026, 200, 7, history=history).set_index("assumption")
    assert list(t["swing_kzt"]) == sorted(t["swing_kzt"], reverse=True)
    assert t.loc["capacity", "p50_low_kzt"] <= t.loc["capacity", "p50_base_kzt"] <= t.loc["capacity", "p50_high_kzt"]
    assert t.loc["electricity_price", "p50_high_kzt"] <= t.loc["electricity_price", "p50_low_kzt"]
    assert t.loc["price_drift", "p50_low_kzt"] <= t.loc["price_drift", "p50_high_kzt"]


def test_price_and_capacity_paths_from_csv(tmp_path, history):
    price = tmp_path / "price.csv"
    price.write_text("year,price_usd\n2026,50000\n2027,60000\n")
    cap = tmp_path / "cap.csv"
    cap.write_text("year,capacity_mw\n2026,100\n")
    r = fc.run("kz-baseline", 2027, 50, 1, history=history, overrides=overrides(price, cap))
    assert np.allclose(r.fleet.capacity_mw, [100, 100])
    # every draw sees the given price path; the network still varies, so the revenue-weighted price is the path's
    np.testing.assert_allclose(r.market.price_usd, np.tile([50000, 60000], (50, 1)), rtol=1e-9)
    assert read_path(price, "price") == {2026: 50000.0, 2027: 60000.0}


@pytest.mark.parametrize(("text", "message"), [
    ("yr,price_usd\n2026,1\n", "column 'year': missing"),
    ("year,price_usd\n20x6,1\n", "column 'year': must be a whole year.*year=20x6"),
    ("year,price_usd\n2026,-5\n", "column 'price_usd': must be a number > 0.*price_usd=-5"),
    ("year,price_usd\n2026,1\n2026,2\n", "column 'year': each year once"),
])
def test_bad_csv_is_refused_with_file_column_rule_and_rows(tmp_path, text, message):
    f = tmp_path / "p.csv"
    f.write_text(text)
    with pytest.raises(ForecastError, match=message) as e:
        read_path(f, "price")
    assert str(f) in str(e.value)
    with pytest.raises(ForecastError, match="no such file"):
        read_path(tmp_path / "missing.csv", "capacity")


def test_scores_hand_computed():
    """MdAPE and coverage on a four-row case worked by hand: model m, horizon 1, actual 100 each time, P50 90, 130,
    100, 120 (APE 0.10, 0.30, 0.00, 0.20: median 0.15 -> 15%); inside P10-P90 in 3 of 4 -> 75%; a point forecast
    (no change) has no coverage."""
    rows = pd.DataFrame({
        "origin": [2020, 2021, 2022, 2023, 2023], "horizon": 1, "year": [2021, 2022, 2023, 2024, 2024],
        "model": ["m", "m", "m", "m", NO_CHANGE], "measure": "network_hashrate_ths",
        "p10": [80, 120, 95, 90, 100], "p50": [90, 130, 100, 120, 100], "p90": [110, 140, 105, 125, 100],
        "actual": 100.0, "ape": [0.10, 0.30, 0.00, 0.20, 0.0], "inside": [True, False, True, True, None],
        "wis": None})
    s = scores(rows).set_index("model")
    assert s.loc["m", "n"] == 4 and s.loc["m", "mdape_pct"] == pytest.approx(15.0)
    assert s.loc["m", "coverage_pct"] == pytest.approx(75.0)
    assert s.loc[NO_CHANGE, "mdape_pct"] == 0.0 and pd.isna(s.loc[NO_CHANGE, "coverage_pct"])


def test_weighted_interval_score_hand_computed():
    """WIS of P10/P50/P90 on logs, α = 0.2, worked by hand (ln 80 = 4.38203, ln 90 = 4.49981, ln 100 = 4.60517,
    ln 110 = 4.70048, ln 120 = 4.78749, ln 130 = 4.86753, ln 140 = 4.94164):
    - inside, 80/90/110 vs 100: (0.5 × 0.10536 + 0.1 × 0.31845) / 1.5 = 0.05635;
    - below the band, 120/130/140 vs 100: IS = 0.15415 + 10 × 0.18232 = 1.97737;
      (0.5 × 0.26236 + 0.1 × 1.97737) / 1.5 = 0.21928;
    - a point forecast 130 vs 100: |ln 1.3| = 0.26236. The scores are the mean over the forecasts."""
    assert wis_log(80, 90, 110, 100) == pytest.approx(0.05635, abs=1e-5)
    assert wis_log(120, 130, 140, 100) == pytest.approx(0.21928, abs=1e-5)
    assert wis_log(130, 130, 130, 100) == pytest.approx(0.26236, abs=1e-5)
    assert wis_log(0, 130, 140, 100) is None  # no log of 0
    rows = pd.DataFrame({
        "origin": [2020, 2021, 2022], "horizon": 1, "year": [2021, 2022, 2023], "model": ["m", "m", NO_CHANGE],
        "measure": "network_hashrate_ths", "p10": [80, 120, 130], "p50": [90, 130, 130], "p90": [110, 140, 130],
        "actual": 100.0, "ape": [0.1, 0.3, 0.3], "inside": [True, False, None],
        "wis": [wis_log(80, 90, 110, 100), wis_log(120, 130, 140, 100), wis_log(130, 130, 130, 100)]})
    s = scores(rows).set_index("model")
    assert s.loc["m", "wis"] == pytest.approx((0.05635 + 0.21928) / 2, abs=1e-5)
    assert s.loc[NO_CHANGE, "wis"] == pytest.approx(0.26236, abs=1e-5)


def test_lag_chosen_by_bic_recovers_the_true_lag():
    """A synthetic history made with lag 3 and no smoothing: the BIC choice finds lag 3 among 1, 2, 3, 6."""
    lag, smooth, table = validation.choose_lag(_synthetic(alpha=0.9, lam=0.3, lag=3, sd=0.002), smooths=(1,))
    assert (lag, smooth) == (3, 1)
    assert len({r["n"] for r in table}) == 1  # every candidate fitted on the same months


def test_lag_and_window_choices_see_only_the_data_up_to_the_origin(history):
    """At a 2021 cut the forecast's lag, smoothing and growth window (kz-baseline: lag_months validated) are chosen on
    the months up to the cut: the recorded choice and its table equal those made on the cut history, scored on fewer
    months than the whole history's. The BIC lag and the growth window of the other options likewise."""
    cut = dt.date(2021, 12, 31)
    r = fc.run("kz-baseline", 2022, 20, 1, cut, history=history, from_year=2022)
    lag, smooth, window, table = validation.choose(history.data(cut), (0.05, 0.03))
    assert (r.market.fit["lag_months"], r.market.fit["smooth_months"]) == (lag, smooth)
    assert r.market.fit["lag_choice"] == table
    assert r.market.fit["mu_window_months"] == (window or 48)  # 0: all months, the whole history's μ
    assert max(t["n"] for t in table) < max(t["n"] for t in validation.choose(history.data(), (0.05, 0.03))[3])
    _, _, bic = validation.choose_lag(history.data(cut))
    _, _, full = validation.choose_lag(history.data())
    _, wtable = validation.choose_window(history.data(cut))
    _, wfull = validation.choose_window(history.data())
    assert bic[0]["n"] < full[0]["n"] and wtable[0]["n"] < wfull[0]["n"]
    # a history changed after the cut gives the same choices at the cut
    d = history.data()
    late = d.network["date"] > pd.Timestamp(cut)
    changed = d.network.assign(hashrate_ths=np.where(late, d.network["hashrate_ths"] * 3, d.network["hashrate_ths"]))
    cut_changed = Data(changed[~late], d.fx, d.efficiency[d.efficiency["date"] <= pd.Timestamp(cut)])
    assert validation.choose_lag(cut_changed)[:2] == validation.choose_lag(history.data(cut))[:2]
    assert validation.choose_window(cut_changed)[0] == validation.choose_window(history.data(cut))[0]


def test_growth_window_follows_a_slowdown():
    """Growth 8% a month for 5 years, then 2%: at a cut 3 years into the slow regime, the 12-month window (which
    has seen only the slow regime) predicts the next year's growth best and is chosen."""
    d = _synthetic(alpha=0.9, lam=0.05, lag=3, sd=0.005)
    months = d.network["date"].dt.to_period("M")
    k = (months - months.iloc[0]).map(lambda x: x.n).to_numpy()
    lh = np.where(k < 36, 0.08 * k, 0.08 * 36 + 0.02 * (k - 36)) + np.log(5e7)
    slow = Data(d.network.assign(hashrate_ths=np.exp(lh)), d.fx, d.efficiency)
    window, table = validation.choose_window(slow)
    assert window == 12
    assert {r["window"] for r in table} <= set(validation.GROWTH_WINDOWS)


def test_adjustment_speed_is_identified_on_the_embedded_history(history):
    """The embedded history (2016 on) identifies λ: its OLS estimate is positive and more than two standard errors
    from 0 at the lag the BIC chooses."""
    d = history.data()
    lag, smooth, _ = validation.choose_lag(d)
    f = network.fit_network(d, lag, (0.05, 0.03), smooth)
    assert f.lambda_ols > 2 * f.lambda_ols_se > 0
    assert f.adjust[1] > 2 * np.sqrt(f.adjust_cov[1, 1])


def test_median_revenue_does_not_collapse_after_the_2028_halving(history):
    """The defect issue 18 was filed for: with the network answering to the halving, the median fee revenue of
    2028-2030 stays above 1 bn KZT a year (before: 0.44, 0.02, 0.01 bn); kz-naive keeps the old collapse."""
    s = fc.summarise(fc.simulate("kz-baseline", 2030, 500, 7, history=history), "kz-baseline")
    p50 = s[s.scheme == fc.ALL_SCHEMES].set_index("year")["p50"]
    assert (p50.loc[2028:2030] > 1e9).all(), p50
    naive = fc.summarise(fc.simulate("kz-naive", 2030, 500, 7, history=history), "kz-naive")
    assert naive[naive.scheme == fc.ALL_SCHEMES].set_index("year")["p50"].loc[2029] < 1e9


def test_the_forecast_file_gives_the_validations_candidates(history, tmp_path):
    """kz-baseline tries lags to 12 and price smoothings to 36 months, each with an adjustment speed at least 1
    standard error above 0; a file may give other lists and another bound (here the grid and rule before: lags 1-6,
    smoothing 1-12, any positive speed). The table a run records holds exactly the candidates of its lists that the
    history supports; bad values are refused naming the key."""
    cut = dt.date(2024, 12, 31)
    d = tmp_path / "forecasts"
    shutil.copytree(FORECASTS_DIR, d)

    def variant(name: str, hr: dict) -> None:
        (d / f"{name}.yaml").write_text(yaml.safe_dump({
            "forecast_id": name, "base": "kz-baseline",
            "network": {"hashrate_growth": {k: {"value": v, "reason": "test"} for k, v in hr.items()}}}))

    variant("kz-small", {"validated_lags": [1, 2, 3, 6], "validated_smooths": [1, 3, 6, 12], "validated_min_t": 0})
    wide = fc.run("kz-baseline", 2025, 20, 1, cut, history=history, from_year=2025)
    small = fc.run("kz-small", 2025, 20, 1, cut, history=history, from_year=2025, forecasts_dir=d)
    pairs = {(t["lag"], t["smooth"]) for t in wide.market.fit["lag_choice"]}
    assert pairs <= {(lag, s) for lag in (1, 2, 3, 6, 9, 12) for s in (1, 3, 6, 12, 24, 36)}
    assert any(lag >= 9 or s >= 24 for lag, s in pairs)
    assert wide.market.fit["lag_choice"] == validation.choose(history.data(cut), (0.05, 0.03))[3]
    assert {(t["lag"], t["smooth"]) for t in small.market.fit["lag_choice"]} <= {
        (lag, s) for lag in (1, 2, 3, 6) for s in (1, 3, 6, 12)}
    assert small.market.fit["lag_choice"] == validation.choose(history.data(cut), (0.05, 0.03), (1, 2, 3, 6),
                                                               (1, 3, 6, 12), 0.0)[3]
    # the bound leaves out the candidates whose speed is positive but within 1 standard error of 0
    loose = validation.choose(history.data(cut), (0.05, 0.03), min_t=0.0)[3]
    assert {(t["lag"], t["smooth"]) for t in loose} > pairs
    for key, bad, rule in (("validated_lags", [0, 3], "must be a list"), ("validated_lags", [3, 3], "must be a list"),
                           ("validated_smooths", "twelve", "must be a list"), ("validated_lags", [], "must be a list"),
                           ("validated_min_t", -1, "must be a number from 0 to 10"),
                           ("validated_min_t", "one", "must be a number from 0 to 10")):
        variant("kz-bad", {key: bad})
        with pytest.raises(ForecastError, match=f"network.hashrate_growth.{key} {rule}"):
            fc.run("kz-bad", 2025, 20, 1, cut, history=history, from_year=2025, forecasts_dir=d)
