"""The network with feedback: hashrate that answers to miners' revenue against the fleet's cost, estimated from the
warehouse's history and drawn per simulation run.

Monthly model (t = calendar month; all logs natural):
    revenue per TH/s per day (hashprice)  hp_t = price_t × (subsidy_t + fees_t) / hashrate_t   (USD/(TH/s)/day)
    cost per TH/s per day                 c_t  = efficiency_t (J/TH) × 0.024 kWh/(TH/s·day per J/TH) × power price
    gap (log)                             x_t = log(price·revenue/efficiency)_{t−L} − log H_{t−1}
                                          (the price a trailing mean over `smooth` months: miners answer to a
                                          sustained price, not a month's spike; revenue in BTC and efficiency
                                          count from their month, so a halving cuts the gap at once)
    partial adjustment, lag L months:     Δlog H_t = μ + λ · (x_t − x̄) + ε_t,  ε ~ N(0, s²)
    efficiency                            Δlog efficiency_t = g + noise (the drift g is drawn per run)
    fees' share of miner revenue          logit f_t = c + φ · logit f_{t−1} + η_t
x_t is, up to a constant, the log of break-even hashrate (at which the hashprice of L months ago would cover the
cost of the fleet of L months ago) over today's hashrate; a power price constant over time only shifts the constant,
so the world miners' power price is not needed. x̄ is the mean gap of the fit sample, so μ is the mean monthly
growth at the usual gap and λ the share of an unusual gap closed each month (faster growth when mining pays more
than usual, slower after a halving or a price fall). λ combines the OLS estimate with a prior stated in the forecast
file (network.hashrate_growth.adjustment_prior: mean and sd), precision-weighted; both are printed (the 2016–2025
months identify it: 0.083 ± 0.018 at lag 1).
No look-ahead in the choices: with `lag_months: validated` the lag L, the smoothing and the growth window are
chosen together at every data cut from the history up to it by a rolling validation of the model's own 12-month
forecast inside that history (minetax.forecast.validation; with `validated_models` each run draws one of the
candidates, weight ∝ 1 / error²); `lag_months: bic` chooses lag and smoothing by the lowest BIC of the
adjustment regression (`validation.choose_lag`). μ (`mu`): `fitted` (the whole history's mean growth at the usual
gap), `recent` (the mean growth and mean gap of the last mu_window_months months; `mu_window_months: validated`
chooses the window by `validation.choose_window`, a rolling validation of 12-month growth alone; used for the
first RECENT_MONTHS forecast months, the whole history's μ after them), `equilibrium`
(the price drift used minus the efficiency drift) or `shrunk` (fitted and equilibrium, precision-weighted). The
candidate sets, the bound on the adjustment speed's t and RECENT_MONTHS were set by hand, and kz-baseline's options
(lag validated, all candidates mixed, mu_after equilibrium) were picked among these by their scores on the backtest
(README, Backtest): in-sample for that choice.
Estimated by OLS with standard errors on the monthly history up to the cut-off (months with fewer than 20 days of
data are left out; fee months where most days are `estimated` are left out of the fee fit). Per run the
parameters are drawn from their sampling distribution: (α, λ) and (c, φ) bivariate normal with the OLS covariance
(λ kept ≥ 0 and φ in [0, 0.99]: a negative adjustment speed or an explosive fee share is not a model of miners),
s and s_f scaled by sqrt(df / χ²_df), g normal with its standard error. Subsidy per day comes from block height
(minetax.forecast.protocol), so halvings cut the revenue on their day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minetax.forecast.assumptions import ForecastError
from minetax.forecast.history import Data
from minetax.forecast.protocol import Chain, cumulative_subsidy

MIN_DAYS = 20  # a month with fewer network days is not a month of the fit
MIN_MONTHS = 12  # fewer monthly observations than this: no estimate
RECENT_MONTHS = 12  # mu recent: forecast months on the recent growth (the horizon its window is validated for);
# the whole history's μ after them
MAX_FEE_SHARE = 0.5  # fees' share of miner revenue is capped here in the draws (the highest monthly share on record,
# December 2017, was below 0.5; above it the logit draws would multiply revenue without bound)


@dataclass(frozen=True)
class Param:
    name: str
    value: float
    se: float
    n: int
    unit: str
    meaning: str


def monthly(data: Data) -> pd.DataFrame:
    """The daily history by calendar month: days, mean hashrate_ths, price_usd, subsidy and fees (BTC/day), share of
    days with observed fees, and the world fleet efficiency (J/TH; NaN where the efficiency series has no month)."""
    net = data.network.copy()
    net["month"] = net["date"].dt.to_period("M").dt.to_timestamp()
    src = net["fees_source"] if "fees_source" in net else pd.Series(None, index=net.index)
    net["observed"] = (src.fillna("") != "estimated").astype(float)
    m = net.groupby("month").agg(days=("date", "size"), hashrate_ths=("hashrate_ths", "mean"),
                                 price_usd=("price_usd", "mean"), subsidy_btc=("subsidy_btc", "mean"),
                                 fees_btc=("fees_btc", "mean"), fees_observed=("observed", "mean")).reset_index()
    eff = data.efficiency.assign(month=data.efficiency["date"].dt.to_period("M").dt.to_timestamp())
    m = m.merge(eff.groupby("month", as_index=False)["estimated_j_per_th"].mean(), on="month", how="left")
    return m[m["days"] >= MIN_DAYS].reset_index(drop=True)


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """y = b0 + b1 x: coefficients, their covariance, residual sd and n."""
    ok = np.isfinite(y) & np.isfinite(x)
    y, x = y[ok], x[ok]
    n = len(y)
    if n < MIN_MONTHS:
        raise ForecastError(f"network model: {n} monthly observations up to the cut-off; need at least {MIN_MONTHS}")
    X = np.column_stack([np.ones(n), x])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    s2 = float(r @ r / (n - 2))
    return beta, s2 * np.linalg.inv(X.T @ X), float(np.sqrt(s2)), n


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class NetworkFit:
    lag: int
    smooth: int
    adjust: np.ndarray  # (μ, λ): λ after the prior
    adjust_cov: np.ndarray
    lambda_ols: float
    lambda_ols_se: float
    prior: tuple[float, float]
    gap_mean: float
    adjust_sd: float
    adjust_n: int
    eff_drift: float  # monthly log change of J/TH
    eff_drift_se: float
    eff_n: int
    fee: np.ndarray  # (c, φ) of logit fee share
    fee_cov: np.ndarray
    fee_sd: float
    fee_n: int
    last_eff_j_per_th: float  # at the last month of data (extrapolated with the drift where the series ended)
    eff_months_extrapolated: int
    last_fee_share: float
    history_lp: np.ndarray  # log price of the last lag + smooth − 1 months of data
    history_lr: np.ndarray  # log(revenue in BTC / efficiency) of the same months
    last_log_h: float
    mu_mode: str = "fitted"  # fitted: μ as estimated; equilibrium: price drift − efficiency drift; shrunk: both
    price_drift: float = 0.0  # log/month: the forecast's price drift (for mu_mode equilibrium and shrunk)
    lag_table: tuple = ()  # the candidates' BIC when the lag and smoothing were chosen
    mu_after: str = "fitted"  # mode recent, after RECENT_MONTHS: fitted (whole history) or equilibrium
    recent: tuple = (np.nan, np.nan, np.nan, 0)  # (μ, its se, mean gap, months) of the last window months of data

    def mu_after_used(self) -> tuple[float, float]:
        """μ after the first RECENT_MONTHS months (mode recent) and its se: the whole history's, or the equilibrium
        growth (price drift − efficiency drift)."""
        if self.mu_after == "fitted":
            return float(self.adjust[0]), float(np.sqrt(self.adjust_cov[0, 0]))
        return self.price_drift - self.eff_drift, self.eff_drift_se

    def mu_used(self) -> tuple[float, float]:
        """μ of the forecast and its se: as fitted, the equilibrium growth (price drift − efficiency drift: with the
        gap at its usual value the network grows as fast as the break-even hashrate), or their precision-weighted
        mean (the fitted μ shrunk towards the equilibrium)."""
        mu, mu_se = float(self.adjust[0]), float(np.sqrt(self.adjust_cov[0, 0]))
        eq, eq_se = self.price_drift - self.eff_drift, self.eff_drift_se
        if self.mu_mode == "fitted":
            return mu, mu_se
        if self.mu_mode == "equilibrium":
            return eq, eq_se
        if self.mu_mode == "recent":
            return float(self.recent[0]), float(self.recent[1])
        w = (1 / mu_se ** 2) / (1 / mu_se ** 2 + 1 / eq_se ** 2)
        return w * mu + (1 - w) * eq, float(np.sqrt(1 / (1 / mu_se ** 2 + 1 / eq_se ** 2)))

    def params(self) -> list[Param]:
        a, lam = self.adjust
        se = np.sqrt(np.diag(self.adjust_cov))
        fse = np.sqrt(np.diag(self.fee_cov))
        return [
            Param("network.mu", float(a), float(se[0]), self.adjust_n, "log/month",
                  f"mean monthly log hashrate growth at the usual gap ({np.expm1(12 * a):+.1%} a year)"),
            Param("network.mu_used", self.mu_used()[0], self.mu_used()[1], self.adjust_n, "log/month",
                  f"mean monthly growth at the usual gap used in the forecast ({self.mu_mode}"
                  + (f", last {self.recent[3]} months" if self.mu_mode == "recent" else "")
                  + f": {np.expm1(12 * self.mu_used()[0]):+.1%} a year)"),
            *([Param("network.mu_after", *self.mu_after_used(), self.adjust_n, "log/month",
                     f"mean monthly growth at the usual gap after the first {RECENT_MONTHS} forecast months "
                     f"({self.mu_after}: {np.expm1(12 * self.mu_after_used()[0]):+.1%} a year)")]
              if self.mu_mode == "recent" else []),
            Param("network.lambda_ols", self.lambda_ols, self.lambda_ols_se, self.adjust_n, "1/month",
                  f"partial-adjustment speed, OLS on the history alone (lag {self.lag} months)"),
            Param("network.lambda", float(lam), float(se[1]), self.adjust_n, "1/month",
                  f"partial-adjustment speed used: OLS combined with the prior {self.prior[0]:g} ± {self.prior[1]:g}"),
            Param("network.sd", self.adjust_sd, self.adjust_sd / np.sqrt(2 * max(1, self.adjust_n - 2)),
                  self.adjust_n, "log/month", "sd of the monthly hashrate shock"),
            Param("efficiency.drift", self.eff_drift, self.eff_drift_se, self.eff_n, "log/month",
                  f"monthly log change of world fleet J/TH ({np.expm1(12 * self.eff_drift):+.1%} a year; the last "
                  f"{self.eff_months_extrapolated} months before the cut extrapolated with it)"),
            Param("fees.c", float(self.fee[0]), float(fse[0]), self.fee_n, "logit", "intercept of logit fee share"),
            Param("fees.phi", float(self.fee[1]), float(fse[1]), self.fee_n, "1",
                  "persistence of logit fee share month to month"),
            Param("fees.sd", self.fee_sd, self.fee_sd / np.sqrt(2 * max(1, self.fee_n - 2)), self.fee_n, "logit",
                  "sd of the monthly fee-share shock"),
        ]


def _efficiency(m: pd.DataFrame) -> tuple[np.ndarray, float, float, int, int]:
    """Log J/TH per month (filled forward after the series ends with the drift), drift, its se, n, months filled."""
    le = np.log(m["estimated_j_per_th"].to_numpy(float))
    d = np.diff(le)
    d = d[np.isfinite(d)]
    if len(d) < MIN_MONTHS:
        raise ForecastError(f"network model: {len(d)} months of fleet efficiency up to the cut-off; need "
                            f"{MIN_MONTHS}")
    g, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))
    known = np.flatnonzero(np.isfinite(le))
    filled = 0
    for i in range(known[-1] + 1, len(le)):
        le[i] = le[i - 1] + g
        filled += 1
    return le, g, se, len(d), filled


def trailing_mean(a: np.ndarray, k: int) -> np.ndarray:
    """Mean of the last k values along the last axis (NaN where fewer than k)."""
    if k == 1:
        return a.astype(float)
    cs = np.cumsum(np.concatenate([np.zeros(a.shape[:-1] + (1,)), a], axis=-1), axis=-1)
    out = np.full(a.shape, np.nan)
    out[..., k - 1:] = (cs[..., k:] - cs[..., :-k]) / k
    return out


_SERIES: list[tuple[Data, tuple]] = []  # the last few histories' series (a forecast fits many candidates on one)


def _series(data: Data) -> tuple[pd.DataFrame, np.ndarray, float, float, int, int, np.ndarray, np.ndarray,
                                  np.ndarray]:
    """Monthly table, log J/TH, its drift, se, n, months filled, log price, log(revenue in BTC / J/TH), log
    hashrate (computed once per history object; callers do not change the arrays)."""
    for d, out in _SERIES:
        if d is data:
            return out
    out = _series_of(data)
    _SERIES[:] = [*_SERIES[-7:], (data, out)]
    return out


def _series_of(data: Data) -> tuple[pd.DataFrame, np.ndarray, float, float, int, int, np.ndarray, np.ndarray,
                                    np.ndarray]:
    m = monthly(data)
    le, g, g_se, g_n, filled = _efficiency(m)
    rev = m["subsidy_btc"].to_numpy(float) + m["fees_btc"].to_numpy(float)
    lp = np.log(m["price_usd"].to_numpy(float))
    return m, le, g, g_se, g_n, filled, lp, np.log(rev) - le, np.log(m["hashrate_ths"].to_numpy(float))


def target(lp: np.ndarray, lr: np.ndarray, smooth: int) -> np.ndarray:
    """log(price × revenue / J/TH) with the price a trailing mean over `smooth` months (miners answer to a sustained
    price, not a month's spike; a halving and the fleet's efficiency count from their month)."""
    return trailing_mean(lp, smooth) + lr


def _gap(lp: np.ndarray, lr: np.ndarray, lh: np.ndarray, lag: int, smooth: int) -> np.ndarray:
    x = np.full(len(lh), np.nan)
    x[lag:] = target(lp, lr, smooth)[:-lag] - lh[lag - 1:-1]
    return x


def fit_network(data: Data, lag: int, prior: tuple[float, float], smooth: int = 1, window: int = 48) -> NetworkFit:
    """Estimate the monthly network, efficiency and fee-share models on the history handed in (already cut);
    `prior`: (mean, sd) of λ; `smooth`: months of the trailing mean of revenue over cost."""
    if lag < 1 or smooth < 1:
        raise ForecastError("forecast refused: network.hashrate_growth.lag_months and smooth_months must be >= 1")
    m, le, g, g_se, g_n, filled, lp, lr, lh = _series(data)
    rev = m["subsidy_btc"].to_numpy(float) + m["fees_btc"].to_numpy(float)
    x = _gap(lp, lr, lh, lag, smooth)
    y = np.r_[np.nan, np.diff(lh)]
    gap_mean = float(np.nanmean(np.where(np.isfinite(y), x, np.nan)))
    adj, adj_cov, adj_sd, adj_n = _ols(y, x - gap_mean)
    lam_ols, lam_se = float(adj[1]), float(np.sqrt(adj_cov[1, 1]))
    if prior[1] <= 0:
        raise ForecastError("forecast refused: network.hashrate_growth.adjustment_prior.sd must be > 0")
    prec = 1 / lam_se ** 2 + 1 / prior[1] ** 2
    adj = np.array([adj[0], (lam_ols / lam_se ** 2 + prior[0] / prior[1] ** 2) / prec])
    adj_cov = np.diag([adj_cov[0, 0], 1 / prec])
    share = m["fees_btc"].to_numpy(float) / rev
    lf = _logit(share)
    obs = m["fees_observed"].to_numpy(float) >= 0.5
    fy = np.where(obs[1:] & obs[:-1], lf[1:], np.nan)
    fee, fee_cov, fee_sd, fee_n = _ols(fy, lf[:-1])
    ok = np.flatnonzero(np.isfinite(y) & np.isfinite(x))[-window:]
    recent = (float(y[ok].mean()), adj_sd / np.sqrt(len(ok)), float(x[ok].mean()), len(ok))
    return NetworkFit(lag, smooth, adj, adj_cov, lam_ols, lam_se, prior, gap_mean, adj_sd, adj_n, g, g_se, g_n, fee,
                      fee_cov, fee_sd, fee_n, float(np.exp(le[-1])), filled, float(share[-1]),
                      lp[-(lag + smooth - 1):], lr[-(lag + smooth - 1):], float(lh[-1]), recent=recent)


@dataclass
class NetworkPaths:
    months: pd.DatetimeIndex
    hashrate_ths: np.ndarray  # runs × months
    revenue_btc_per_day: np.ndarray  # runs × months (subsidy + fees)
    fee_share: np.ndarray  # runs × months
    j_per_th: np.ndarray  # runs × months


def draw_params(fit: NetworkFit, z: np.ndarray, chi: np.ndarray) -> dict[str, np.ndarray]:
    """Per-run parameters from the estimates' sampling distribution (z: runs × 5 standard normals, chi: runs × 2
    standard normals used for the sd's chi-square draws)."""
    la = np.linalg.cholesky(fit.adjust_cov + 1e-18 * np.eye(2))
    lf = np.linalg.cholesky(fit.fee_cov + 1e-18 * np.eye(2))
    adj = fit.adjust + z[:, :2] @ la.T
    fee = fit.fee + z[:, 2:4] @ lf.T
    mu, mu_se = fit.mu_used()
    g = fit.eff_drift + fit.eff_drift_se * z[:, 4]
    # mode recent, months after RECENT_MONTHS: μ as fitted on the whole history, or the equilibrium growth
    alpha_long = adj[:, 0].copy() if fit.mu_after == "fitted" else fit.price_drift - g
    adj[:, 0] = mu + mu_se * z[:, 0]

    def sd(s: float, n: int, c: np.ndarray) -> np.ndarray:  # s × sqrt(df / χ²_df), χ² by Wilson–Hilferty
        df = max(1, n - 2)
        chi2 = df * np.maximum(1 - 2 / (9 * df) + c * np.sqrt(2 / (9 * df)), 0.05) ** 3
        return s * np.sqrt(df / chi2)

    return {"alpha": adj[:, 0], "alpha_long": alpha_long, "lambda": np.maximum(adj[:, 1], 0.0),
            "sd": sd(fit.adjust_sd, fit.adjust_n, chi[:, 0]),
            "c": fee[:, 0], "phi": np.clip(fee[:, 1], 0.0, 0.99), "fee_sd": sd(fit.fee_sd, fit.fee_n, chi[:, 1]),
            "g": g}


def subsidy_per_day(chain: Chain, months: pd.DatetimeIndex) -> np.ndarray:
    """Mean subsidy (BTC/day) of each month from the chain's expected heights (a halving splits its month)."""
    out = np.empty(len(months))
    for i, mth in enumerate(months):
        d0 = (mth - pd.Timedelta(days=1)).date()
        d1 = (mth + pd.offsets.MonthEnd(0)).date()
        out[i] = (cumulative_subsidy(chain.height_at(d1)) - cumulative_subsidy(chain.height_at(d0))) / (d1 - d0).days
    return out


def simulate(fit: NetworkFit, p: dict[str, np.ndarray], months: pd.DatetimeIndex, price_m: np.ndarray,
             subsidy: np.ndarray, z_h: np.ndarray, z_f: np.ndarray, growth_shift: float = 0.0) -> NetworkPaths:
    """Monthly paths per run, vectorised over runs (price_m: runs × months mean price; z_h, z_f: runs × months)."""
    runs, k_n = price_m.shape
    k = np.arange(1, k_n + 1)
    leff = np.log(fit.last_eff_j_per_th) + p["g"][:, None] * k[None, :]
    lf = np.empty((runs, k_n))
    prev = np.full(runs, _logit(np.array([fit.last_fee_share]))[0])
    for j in range(k_n):
        prev = p["c"] + p["phi"] * prev + p["fee_sd"] * z_f[:, j]
        lf[:, j] = prev
    f = np.minimum(1 / (1 + np.exp(-lf)), MAX_FEE_SHARE)
    rev = subsidy[None, :] / (1 - f)
    k_h = len(fit.history_lp)
    lp = np.concatenate([np.broadcast_to(fit.history_lp, (runs, k_h)), np.log(price_m)], axis=1)
    lr = np.concatenate([np.broadcast_to(fit.history_lr, (runs, k_h)), np.log(rev) - leff], axis=1)
    lre = target(lp, lr, fit.smooth)[:, fit.smooth - 1:]
    lh = np.empty((runs, k_n))
    prev = np.full(runs, fit.last_log_h)
    recent = fit.mu_mode == "recent"
    for j in range(k_n):
        late = recent and j >= RECENT_MONTHS
        centre = fit.recent[2] if recent and not late else fit.gap_mean
        alpha = p["alpha_long"] if late else p["alpha"]
        prev = prev + alpha + growth_shift + p["lambda"] * (lre[:, j] - prev - centre) + p["sd"] * z_h[:, j]
        lh[:, j] = prev
    return NetworkPaths(months, np.exp(lh), rev, f, np.exp(leff))
