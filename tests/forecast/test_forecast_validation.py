"""Issue 18: the network model's lag, smoothing and growth window chosen by a rolling validation inside the history
up to the data cut (minetax.forecast.validation), never with data after it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from minetax.forecast import engine as fc
from minetax.forecast import network, validation
from minetax.forecast.assumptions import ForecastError
from minetax.forecast.history import Data

PRIOR = (0.05, 0.03)


def _cut(d: Data, cut: dt.date) -> Data:
    t = pd.Timestamp(cut)
    return Data(d.network[d.network["date"] <= t], d.fx, d.efficiency[d.efficiency["date"] <= t])


def test_choice_uses_only_the_months_up_to_the_cut(history):
    """At a 2021 cut the choice is the same whatever the months after it hold (tripled hashrate, halved price), and
    every candidate is scored on fewer inner origins than with the whole history."""
    cut = dt.date(2021, 12, 31)
    full = history.data()
    at_cut = validation.choose(_cut(full, cut), PRIOR)
    late = full.network["date"] > pd.Timestamp(cut)
    changed = full.network.assign(hashrate_ths=np.where(late, full.network["hashrate_ths"] * 3,
                                                        full.network["hashrate_ths"]),
                                  price_usd=np.where(late, full.network["price_usd"] / 2, full.network["price_usd"]))
    assert validation.choose(_cut(Data(changed, full.fx, full.efficiency), cut), PRIOR) == at_cut
    assert validation.choose(history.data(cut), PRIOR) == at_cut  # the warehouse's own cut: the same
    whole = validation.choose(full, PRIOR)
    assert max(r["n"] for r in at_cut[3]) < max(r["n"] for r in whole[3])


def test_winner_has_the_lowest_error_and_every_candidate_adjusts(history):
    """The winner is the candidate with the lowest mean absolute log error, all candidates scored on the same inner
    origins, and only candidates whose OLS adjustment speed on that history is positive take part."""
    d = history.data(dt.date(2023, 12, 31))
    lag, smooth, window, table = validation.choose(d, PRIOR)
    best = min(table, key=lambda r: r["mae_log"])
    assert (best["lag"], best["smooth"], best["window"]) == (lag, smooth, window)
    assert len({r["n"] for r in table}) == 1 and table[0]["n"] >= validation.INNER_ORIGINS
    for lag_, smooth_ in {(r["lag"], r["smooth"]) for r in table}:
        assert network.fit_network(d, lag_, (0.0, 1e9), smooth_).lambda_ols > 0


def test_too_short_a_history_is_refused_not_guessed(history):
    with pytest.raises(ForecastError, match="too few to validate"):
        validation.choose(_cut(history.data(), dt.date(2017, 6, 30)), PRIOR)  # 18 months


def test_every_validated_candidate_is_drawn_with_its_weight(history):
    """kz-baseline (validated_models: all): each run draws one candidate with probability ∝ 1 / error²; the recorded
    mixture lists every candidate of the validation with that weight, the best first, and is published as a
    parameter; the runs' hashrate paths are not all one candidate's (the bands carry the model uncertainty)."""
    r = fc.run("kz-baseline", 2027, 400, 3, history=history)
    fit = r.market.fit
    mix, table = fit["validated_models"], fit["lag_choice"]
    assert len(mix) == len(table) > 1
    assert [r_["mae_log"] for r_ in mix] == sorted(t["mae_log"] for t in table)
    for m in mix:
        assert m["weight"] == pytest.approx(1 / m["mae_log"] ** 2)
    assert (fit["lag_months"], fit["smooth_months"]) == (mix[0]["lag"], mix[0]["smooth"])
    p = {q["name"]: q for q in fit["params"]}
    assert p["network.models_mixed"]["value"] == len(mix)
    one = fc.run("kz-baseline", 2027, 400, 3, history=history, overrides={"network": {"hashrate_growth": {
        "validated_models": {"value": 1, "reason": "the best alone"}}}})
    assert "network.models_mixed" not in {q["name"] for q in one.market.fit["params"]}
    assert not np.allclose(one.market.hashrate_ths, r.market.hashrate_ths)
