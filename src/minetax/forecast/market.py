"""Market draws: BTC price paths and network hashrate, seeded, fitted to the history or given in the forecast file.

A seeded Monte Carlo draws BTC price paths (geometric Brownian motion on daily log returns fitted to the price
history) and network hashrate growth (annual log growth ~ Normal). The standard normals are drawn in a fixed order and
shape whatever the models, so two forecasts run with the same seed see the same market (common random numbers): a
compare is reform minus baseline per draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minetax.forecast.assumptions import Forecast, ForecastError, value_of, year_series
from minetax.forecast.history import Data


@dataclass
class Market:
    years: list[int]
    price_usd: np.ndarray  # runs × years: annual mean BTC price
    hashrate_ths: np.ndarray  # runs × years: annual (mid-year) network hashrate
    fit: dict


def _standard_normals(seed: int, runs: int, n_days: int, n_years: int) -> tuple[np.ndarray, np.ndarray]:
    """The common random numbers: same seed and shape -> the same draws, whatever the models."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((runs, n_days)), rng.standard_normal((runs, n_years))


def fit_price(net: pd.DataFrame, years_back: float) -> tuple[float, float]:
    """Mean and sd of daily log returns of price_usd over the last `years_back` years of data."""
    last = net["date"].iloc[-1]
    p = net.loc[net["date"] > last - pd.Timedelta(days=round(365.25 * years_back)), "price_usd"].to_numpy(float)
    r = np.diff(np.log(p))
    return float(r.mean()), float(r.std(ddof=1))


def fit_hashrate(net: pd.DataFrame, years_back: float) -> tuple[float, float]:
    """Mean and sd of annual log growth of the 30-day mean hashrate (year-on-year, daily, last `years_back` years)."""
    s = net.set_index("date")["hashrate_ths"].rolling(30).mean()
    g = np.log(s / s.shift(365)).dropna()
    g = g[g.index > g.index[-1] - pd.Timedelta(days=round(365.25 * years_back))]
    return float(g.mean()), float(g.std(ddof=1))


def draw_market(fc: Forecast, data: Data, years: list[int], runs: int, seed: int) -> Market:
    net = data.network
    last = net["date"].iloc[-1]
    days = pd.date_range(last + pd.Timedelta(days=1), pd.Timestamp(years[-1], 12, 31), freq="D")
    z_price, z_hash = _standard_normals(seed, runs, len(days), len(years))
    day_year = days.year.to_numpy()
    fit: dict = {}
    price, gbm = _price_draws(fc.doc["price"], net, years, runs, z_price, day_year, fit)
    hash_ = _hashrate_draws(fc.doc["network"]["hashrate_growth"], net, years, runs, z_hash,
                            (z_price, day_year) if gbm else None, fit)
    return Market(years, price, hash_, fit)


def _price_draws(pr: dict, net: pd.DataFrame, years: list[int], runs: int, z_price: np.ndarray,
                 day_year: np.ndarray, fit: dict) -> tuple[np.ndarray, bool]:
    """Annual mean BTC price per draw (runs × years), and whether it is the random (gbm) model."""
    model = value_of(pr.get("model", "gbm"))
    last_price = float(net["price_usd"].iloc[-1])
    if model == "gbm":
        mu, sigma = fit_price(net, float(value_of(pr.get("fit_years", 4))))
        drift = pr.get("drift", "fitted")
        if value_of(drift) != "fitted":
            mu = float(value_of(drift)) / 365.25  # given as annual log drift
        if pr.get("sigma") is not None and value_of(pr["sigma"]) != "fitted":
            sigma = float(value_of(pr["sigma"])) / np.sqrt(365.25)  # given as annual volatility
        fit.update(price_mu_daily=mu, price_sigma_daily=sigma, price_last_usd=last_price)
        logp = np.log(last_price) + np.cumsum(mu + sigma * z_price, axis=1)
        daily = np.exp(logp)
        return np.stack([daily[:, day_year == y].mean(axis=1) for y in years], axis=1), True
    if model == "flat":
        v = value_of(pr.get("value")) if pr.get("value") is not None else last_price
        return np.full((runs, len(years)), float(v)), False
    if model == "path":
        return np.tile(year_series({"path": pr["path"]}, years, "price.path"), (runs, 1)), False
    raise ForecastError(f"forecast refused: price.model must be gbm, flat or path (got {model!r})")


def _hashrate_draws(hr: dict, net: pd.DataFrame, years: list[int], runs: int, z_hash: np.ndarray,
                    price_shocks: tuple[np.ndarray, np.ndarray] | None, fit: dict) -> np.ndarray:
    """Network hashrate at mid-year per draw (runs × years): fitted or given growth, or a given path."""
    hmodel = value_of(hr.get("model", "fitted"))
    if hmodel == "path":
        return np.tile(year_series({"path": hr["path"]}, years, "network.hashrate_growth.path"), (runs, 1))
    h0 = float(net["hashrate_ths"].iloc[-30:].mean())
    if hmodel == "fitted":
        g_mu, g_sd = fit_hashrate(net, float(value_of(hr.get("fit_years", 4))))
    elif hmodel == "given":
        g_mu, g_sd = float(value_of(hr["mean"])), float(value_of(hr.get("sd", 0.0)))
    else:
        raise ForecastError("forecast refused: network.hashrate_growth.model must be fitted, given or path")
    fit.update(hashrate_growth_mean=g_mu, hashrate_growth_sd=g_sd, hashrate_last_30d_ths=h0)
    rho = float(value_of(hr.get("price_correlation", 0.0)) or 0.0)
    if not -1 <= rho <= 1:
        raise ForecastError("forecast refused: network.hashrate_growth.price_correlation must be in [-1, 1]")
    z = z_hash
    if rho and price_shocks is not None:  # the year's standardised price shock drives part of the hashrate shock
        z_price, day_year = price_shocks
        z_year = np.stack([z_price[:, day_year == y].sum(axis=1) / np.sqrt(max(1, (day_year == y).sum()))
                           for y in years], axis=1)
        z = rho * z_year + np.sqrt(1 - rho ** 2) * z_hash
    fit["hashrate_price_correlation"] = rho
    g = g_mu + g_sd * z  # annual log growth per calendar year
    return _mid_year_levels(h0, g, years, net["date"].iloc[-1])


def _mid_year_levels(h0: float, g: np.ndarray, years: list[int], last: pd.Timestamp) -> np.ndarray:
    """Level at mid-year: from the last data day to mid-year of the first year, then half-year steps."""
    t0 = (pd.Timestamp(years[0], 7, 2) - last).days / 365.25
    logh = np.empty_like(g)
    logh[:, 0] = np.log(h0) + g[:, 0] * t0
    for k in range(1, len(years)):
        logh[:, k] = logh[:, k - 1] + 0.5 * (g[:, k - 1] + g[:, k])
    return np.exp(logh)
