"""Market draws: BTC price paths and network hashrate, seeded, fitted to the history or given in the forecast file.

A seeded Monte Carlo draws BTC price paths (geometric Brownian motion on daily log returns fitted to the price
history) and network hashrate growth (annual log growth ~ Normal). The standard normals are drawn in a fixed order and
shape whatever the models, so two forecasts run with the same seed see the same market (common random numbers): a
compare is reform minus baseline per draw.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from minetax.forecast import network, validation
from minetax.forecast.assumptions import Forecast, ForecastError, value_of, year_series
from minetax.forecast.history import Data
from minetax.forecast.network import NetworkPaths
from minetax.forecast.protocol import Chain


@dataclass
class Market:
    years: list[int]
    price_usd: np.ndarray  # runs × years: annual mean BTC price
    hashrate_ths: np.ndarray  # runs × years: annual (mid-year) network hashrate
    fit: dict
    coins_per_ths: np.ndarray | None = None  # runs × years: BTC earned per TH/s in the year (feedback model)
    network: NetworkPaths | None = None  # the monthly paths of the feedback model
    j_per_th: np.ndarray | None = None  # runs × years: world fleet J/TH, day-weighted annual mean (feedback model)


def _standard_normals(seed: int, runs: int, n_days: int, n_years: int) -> tuple[np.ndarray, np.ndarray,
                                                                             np.random.Generator]:
    """The common random numbers: same seed and shape -> the same draws, whatever the models (the generator goes on
    to draw the feedback model's normals after these, in a fixed order)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((runs, n_days)), rng.standard_normal((runs, n_years)), rng


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


def draw_market(fc: Forecast, data: Data, years: list[int], runs: int, seed: int, chain: Chain | None = None,
                shifts: dict | None = None) -> Market:
    """The market per draw; `shifts` moves assumptions for the tornado (price_drift: annual log drift added;
    network_growth: annual log growth added)."""
    net = data.network
    last = net["date"].iloc[-1]
    days = pd.date_range(last + pd.Timedelta(days=1), pd.Timestamp(years[-1], 12, 31), freq="D")
    z_price, z_hash, rng = _standard_normals(seed, runs, len(days), len(years))
    day_year = days.year.to_numpy()
    fit: dict = {}
    sh = shifts or {}
    daily, gbm = _price_draws(fc.doc["price"], net, days, runs, z_price, fit, float(sh.get("price_drift", 0.0)))
    price = np.stack([daily[:, day_year == y].mean(axis=1) for y in years], axis=1)
    hr = fc.doc["network"]["hashrate_growth"]
    if value_of(hr.get("model", "fitted")) == "feedback":
        if chain is None:
            raise ForecastError("the feedback network model needs the chain state")
        m = _feedback(fc, data, years, days, daily, rng, chain, fit, float(sh.get("network_growth", 0.0)))
        m.fit["params"] += _price_params(fit)
        return m
    hash_ = _hashrate_draws(hr, net, years, runs, z_hash, (z_price, day_year) if gbm else None, fit)
    if sh.get("network_growth"):
        hash_ = hash_ * np.exp(float(sh["network_growth"]) * (np.array(years) - years[0] + 0.5))[None, :]
    fit["params"] = _price_params(fit)
    return Market(years, price, hash_, fit)


def _price_params(fit: dict) -> list[dict]:
    """The price model's fitted drift and volatility, as parameters with standard errors (annualised)."""
    if "price_mu_daily_fitted" not in fit:
        return []
    n = int(fit["price_fit_days"])
    return [{"name": "price.drift_fitted", "value": 365.25 * fit["price_mu_daily_fitted"],
             "se": 365.25 * fit["price_mu_daily_se"], "n": n, "unit": "log/year",
             "meaning": "mean daily log return of the fit window x 365.25 (drift used: "
                        f"{365.25 * fit['price_mu_daily']:+.3f}/year)"},
            {"name": "price.volatility", "value": fit["price_sigma_daily"] * np.sqrt(365.25),
             "se": fit["price_sigma_daily"] * np.sqrt(365.25) / np.sqrt(2 * max(1, n - 1)), "n": n,
             "unit": "log/year^0.5", "meaning": "sd of daily log returns x sqrt(365.25)"}]


def _choice(hr: dict, key: str, word: str, default: int) -> int | None:
    """A whole number of months from the forecast file, or None where it says `word` (chosen from the history)."""
    v = value_of(hr.get(key, default))
    if v == word:
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        raise ForecastError(f"forecast refused: network.hashrate_growth.{key} must be a whole number of months or "
                            f"{word!r} (got {v!r})") from None


def _months_list(hr: dict, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A list of whole months >= 1 from the forecast file (the validation's candidate lags or smoothings)."""
    v = value_of(hr.get(key, list(default)))
    if (not isinstance(v, list) or not v or len(set(v)) != len(v)
            or not all(isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 60 for x in v)):
        raise ForecastError(f"forecast refused: network.hashrate_growth.{key} must be a list of different whole "
                            f"numbers of months from 1 to 60 (got {v!r})")
    return tuple(sorted(v))


def _fit_feedback(hr: dict, data: Data, fit: dict) -> list[tuple[network.NetworkFit, float]]:
    """The feedback model fitted on the history handed in (already cut), with the lag, smoothing and growth window
    the forecast file gives or, where it says so, chosen from that history alone (validation.choose_lag,
    validation.choose_window, validation.choose); the choices are recorded in `fit`. With `lag_months: validated`
    and `validated_models: K` > 1 (or `all`), the K best candidates with weights ∝ 1 / error² (each run draws
    one), else the one model with weight 1."""
    pr = hr.get("adjustment_prior") or {}
    prior = (float(value_of(pr.get("mean", 0.0))), float(value_of(pr.get("sd", 1.0))))
    mode = str(value_of(hr.get("mu", "fitted")))
    table: list[dict] = []
    wtable: list[dict] = []
    if value_of(hr.get("lag_months")) == "validated":  # lag, smoothing and growth window together (validation.py)
        if prior[1] <= 0:
            raise ForecastError("forecast refused: network.hashrate_growth.adjustment_prior.sd must be > 0")
        lags = _months_list(hr, "validated_lags", validation.LAGS)
        smooths = _months_list(hr, "validated_smooths", validation.SMOOTHS)
        min_t = value_of(hr.get("validated_min_t", validation.MIN_T))
        if isinstance(min_t, bool) or not isinstance(min_t, int | float) or not 0 <= min_t <= 10:
            raise ForecastError(f"forecast refused: network.hashrate_growth.validated_min_t must be a number from 0 "
                                f"to 10 (standard errors; got {min_t!r})")
        lag, smooth, window, table = validation.choose(data, prior, lags, smooths, float(min_t))
        k = _choice(hr, "validated_models", "all", 1)
        k = len(table) if k is None else k
        best = sorted(table, key=lambda r: (r["mae_log"], r["lag"], r["smooth"], r["window"]))[:max(1, k)]
        fit.update(lag_choice=table, mu_window_months=window or 48, window_choice=wtable,
                   validated_models=[{**r, "weight": 1 / max(r["mae_log"], 1e-9) ** 2} for r in best])
        return [(_one(hr, data, fit, prior, r["lag"], r["smooth"], r["window"] or 48,
                      "recent" if r["window"] else "fitted", table), 1 / max(r["mae_log"], 1e-9) ** 2)
                for r in best]
    else:
        lag_ = _choice(hr, "lag_months", "bic", 3)
        if lag_ is None:
            lag, smooth, table = validation.choose_lag(data)
        else:
            lag, smooth = lag_, _choice(hr, "smooth_months", "bic", 1) or 1
        window_ = _choice(hr, "mu_window_months", "validated", 48)
        if window_ is None:
            window, wtable = validation.choose_window(data)
        else:
            window = window_
    fit.update(lag_choice=table, mu_window_months=window, window_choice=wtable)
    return [(_one(hr, data, fit, prior, lag, smooth, window, mode, table), 1.0)]


def _one(hr: dict, data: Data, fit: dict, prior: tuple[float, float], lag: int, smooth: int, window: int,
         mode: str, table: list[dict]) -> network.NetworkFit:
    nf = network.fit_network(data, lag, prior, smooth, window)
    if mode not in ("fitted", "recent", "equilibrium", "shrunk"):
        raise ForecastError(f"forecast refused: network.hashrate_growth.mu must be fitted, recent, equilibrium or "
                            f"shrunk (got {mode!r})")
    after = str(value_of(hr.get("mu_after", "fitted")))
    if after not in ("fitted", "equilibrium"):
        raise ForecastError(f"forecast refused: network.hashrate_growth.mu_after must be fitted or equilibrium "
                            f"(got {after!r})")
    return replace(nf, mu_mode=mode, mu_after=after, price_drift=float(fit.get("price_drift_monthly", 0.0)),
                   lag_table=tuple(table))


def _mix_params(fit: dict) -> list[dict]:
    """The validation's mixture of candidates as a parameter (none when one model is used)."""
    mix = fit.get("validated_models") or []
    if len(mix) < 2:
        return []
    total = sum(r["weight"] for r in mix)
    best = mix[0]
    return [{"name": "network.models_mixed", "value": float(len(mix)), "se": 0.0, "n": int(best["n"]), "unit": "1",
             "meaning": f"candidates (lag x smoothing x window) each run draws from, weight 1/error^2; the parameters "
                        f"above are the best's (lag {best['lag']}, smoothing {best['smooth']}, window "
                        f"{best['window'] or 'all'} months, weight {best['weight'] / total:.0%})"}]


def _feedback(fc: Forecast, data: Data, years: list[int], days: pd.DatetimeIndex, daily: np.ndarray,
              rng: np.random.Generator, chain: Chain, fit: dict, growth_shift: float) -> Market:
    """The feedback network (minetax.forecast.network) on the daily price paths; annual hashrate (day-weighted
    mean), BTC per TH/s and the revenue-weighted price."""
    runs = daily.shape[0]
    hr = fc.doc["network"]["hashrate_growth"]
    fits = _fit_feedback(hr, data, fit)
    nf = fits[0][0]
    month_of_day = days.to_period("M")
    months = month_of_day.unique().to_timestamp()
    starts = np.r_[0, np.flatnonzero(month_of_day[1:] != month_of_day[:-1]) + 1]
    n_days = np.diff(np.r_[starts, len(days)]).astype(float)
    price_m = np.add.reduceat(daily, starts, axis=1) / n_days
    z_par, chi = rng.standard_normal((runs, 5)), rng.standard_normal((runs, 2))
    z_h, z_f = rng.standard_normal((runs, len(months))), rng.standard_normal((runs, len(months)))
    subsidy = network.subsidy_per_day(chain, months)
    if len(fits) == 1:
        paths = network.simulate(nf, network.draw_params(nf, z_par, chi), months, price_m, subsidy, z_h, z_f,
                                 growth_shift / 12)
    else:  # each run draws one of the models (its own uniform, drawn after every other number)
        cum = np.cumsum([wt for _, wt in fits])
        which = np.searchsorted(cum / cum[-1], rng.random(runs), side="right")
        paths = network.NetworkPaths(months, *(np.empty((runs, len(months))) for _ in range(4)))
        for c, (f, _) in enumerate(fits):
            i = which == c
            if i.any():
                part = network.simulate(f, network.draw_params(f, z_par[i], chi[i]), months, price_m[i], subsidy,
                                        z_h[i], z_f[i], growth_shift / 12)
                for a in ("hashrate_ths", "revenue_btc_per_day", "fee_share", "j_per_th"):
                    getattr(paths, a)[i] = getattr(part, a)
    w = n_days[None, :] * paths.revenue_btc_per_day / paths.hashrate_ths  # BTC per TH/s in each month
    hy, cpt, py, jy = [], [], [], []
    for y in years:
        k = months.year == y
        hy.append((paths.hashrate_ths[:, k] * n_days[k]).sum(axis=1) / n_days[k].sum())
        jy.append((paths.j_per_th[:, k] * n_days[k]).sum(axis=1) / n_days[k].sum())
        cpt.append(w[:, k].sum(axis=1))
        py.append((w[:, k] * price_m[:, k]).sum(axis=1) / cpt[-1])
    fit.update(network_model="feedback", lag_months=nf.lag, smooth_months=nf.smooth,
               params=[vars(q) for q in nf.params()] + _mix_params(fit),
               efficiency_months_extrapolated=nf.eff_months_extrapolated,
               last_j_per_th=nf.last_eff_j_per_th, last_fee_share=nf.last_fee_share)
    return Market(years, np.stack(py, axis=1), np.stack(hy, axis=1), fit, np.stack(cpt, axis=1), paths,
                  np.stack(jy, axis=1))


def _price_draws(pr: dict, net: pd.DataFrame, days: pd.DatetimeIndex, runs: int, z_price: np.ndarray,
                 fit: dict, drift_shift: float = 0.0) -> tuple[np.ndarray, bool]:
    """Daily BTC price per draw (runs × days), and whether it is the random (gbm) model."""
    years = sorted(set(days.year))
    day_year = days.year.to_numpy()
    model = value_of(pr.get("model", "gbm"))
    last_price = float(net["price_usd"].iloc[-1])
    if model == "gbm":
        mu, sigma = fit_price(net, float(value_of(pr.get("fit_years", 4))))
        fit["price_mu_daily_fitted"] = mu
        drift = pr.get("drift", "fitted")
        if value_of(drift) != "fitted":
            mu = float(value_of(drift)) / 365.25  # given as annual log drift
        if pr.get("sigma") is not None and value_of(pr["sigma"]) != "fitted":
            sigma = float(value_of(pr["sigma"])) / np.sqrt(365.25)  # given as annual volatility
        n_days = max(1, round(365.25 * float(value_of(pr.get("fit_years", 4)))))
        fit.update(price_mu_daily=mu, price_sigma_daily=sigma, price_last_usd=last_price, price_fit_days=n_days,
                   price_mu_daily_se=sigma / np.sqrt(n_days))
        fit["price_drift_monthly"] = (mu + drift_shift / 365.25) * 365.25 / 12
        logp = np.log(last_price) + np.cumsum(mu + drift_shift / 365.25 + sigma * z_price, axis=1)
        return np.exp(logp), True
    if model == "flat":
        v = value_of(pr.get("value")) if pr.get("value") is not None else last_price
        one = float(v) * np.exp(drift_shift * np.arange(1, len(days) + 1) / 365.25)
        fit["price_drift_monthly"] = drift_shift / 12
        return np.tile(one, (runs, 1)), False
    if model == "path":
        yv = dict(zip(years, year_series({"path": pr["path"]}, years, "price.path"), strict=True))
        one = np.array([yv[y] for y in day_year]) * np.exp(drift_shift * np.arange(1, len(days) + 1) / 365.25)
        fit["price_drift_monthly"] = float(np.log(one[-1] / last_price)) / max(1, len(days)) * 365.25 / 12
        return np.tile(one, (runs, 1)), False
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
        raise ForecastError("forecast refused: network.hashrate_growth.model must be feedback, fitted, given or path")
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
