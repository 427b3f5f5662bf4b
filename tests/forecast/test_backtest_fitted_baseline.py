"""Issue 18: the backtest's constant-growth baseline fitted at the origin (schemes/forecasts/kz-naive-fitted.yaml):
its growth is the mean and sd of the last 4 years of growth up to the data cut (hand-computed case), and its
forecasts at an origin do not move when the data after that origin change (they do when data before it change)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from minetax.forecast import engine as fc
from minetax.forecast.assumptions import load_forecast, value_of
from minetax.forecast.history import History
from minetax.forecast.market import fit_hashrate
from minetax.forecast.rolling import rolling_backtest

FITTED = "kz-naive-fitted"


class _ChangedAfter(History):
    """The same warehouse read through a lens: every network day after `cut` has 3x the hashrate and half the
    price."""

    def __init__(self, h: History, cut: str):
        super().__init__(h.con, h.home)
        self.cut = pd.Timestamp(cut)

    def network(self, first=None, last=None) -> pd.DataFrame:
        net = super().network(first, last)
        late = net["date"] > self.cut
        return net.assign(hashrate_ths=net["hashrate_ths"].where(~late, net["hashrate_ths"] * 3),
                          price_usd=net["price_usd"].where(~late, net["price_usd"] * 0.5))


def test_fit_window_is_four_years_stated_in_the_file():
    hr = load_forecast(FITTED).doc["network"]["hashrate_growth"]
    assert (value_of(hr["model"]), value_of(hr["fit_years"])) == ("fitted", 4)
    assert load_forecast(FITTED).doc["price"] == load_forecast("kz-naive").doc["price"]  # only the network differs


def test_fitted_growth_is_the_last_four_years_hand_computed():
    """Daily hashrate growing at log 1.0 a year until 2018-06-01, then 0.3 a year to 2023-12-31. The 30-day mean of
    an exponential grows at the same rate, so each year-on-year log growth (365 days) in a pure stretch is
    rate x 365 / 365.25: from 2019-07 on (365 + 30 days after the break) every one is 0.3 x 365 / 365.25 = 0.29979;
    the last 4 years (from 2020-01) are all in it: mean 0.29979, sd 0. The whole history's mean is higher."""
    days = pd.date_range("2016-01-01", "2023-12-31", freq="D")
    t = (days - days[0]).days.to_numpy() / 365.25
    brk = (pd.Timestamp("2018-06-01") - days[0]).days / 365.25
    logh = np.where(t <= brk, 1.0 * t, 1.0 * brk + 0.3 * (t - brk))
    net = pd.DataFrame({"date": days, "hashrate_ths": 1e7 * np.exp(logh)})
    mu, sd = fit_hashrate(net, 4)
    assert mu == pytest.approx(0.3 * 365 / 365.25, abs=1e-9) and sd == pytest.approx(0.0, abs=1e-9)
    assert fit_hashrate(net, 8)[0] > 0.4  # the 2017-2018 growth of log 1.0 a year is inside an 8-year window


def test_the_engine_fits_on_the_data_up_to_the_cut(history):
    cut = dt.date(2022, 12, 31)
    r = fc.run(FITTED, 2023, 20, 3, cut, history=history, from_year=2023)
    mu, sd = fit_hashrate(history.data(cut).network, 4)
    assert (r.market.fit["hashrate_growth_mean"], r.market.fit["hashrate_growth_sd"]) == (mu, sd)
    assert mu != pytest.approx(fit_hashrate(history.data().network, 4)[0])  # the whole history would differ


def test_backtest_forecast_uses_only_data_up_to_the_origin(history):
    """The network after 2022-12-31 changed (3x hashrate, half the price): the fitted baseline's forecasts from
    origin 2022 are the same to the last digit (their actual outcomes changed), those from origin 2023 (whose
    history holds the changed 2023) move."""
    kw = {"runs": 100, "seed": 3, "origins": [2022, 2023], "horizons": [1, 2]}
    base = rolling_backtest(history, "kz-naive", [FITTED], **kw)["rows"]
    changed = rolling_backtest(_ChangedAfter(history, "2022-12-31"), "kz-naive", [FITTED], **kw)["rows"]
    key = ["origin", "horizon", "measure"]
    a = base[base.model == FITTED].set_index(key).sort_index()
    b = changed[changed.model == FITTED].set_index(key).sort_index()
    assert a.index.equals(b.index) and len(a.loc[2022]) == 6  # hashrate, fee base and fee: 2023 and 2024
    pd.testing.assert_frame_equal(a.loc[2022, ["p10", "p50", "p90"]], b.loc[2022, ["p10", "p50", "p90"]])
    net = (2022, 1, "network_hashrate_ths")
    assert b.loc[net, "actual"] == pytest.approx(3 * a.loc[net, "actual"])  # the outcome did change
    later = (2023, 1, "network_hashrate_ths")
    assert b.loc[later, "p50"] > 1.5 * a.loc[later, "p50"]  # data before the origin do count
