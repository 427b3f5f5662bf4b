"""Choosing the network model's lag, smoothing and growth window from the history up to the data cut: by a rolling
validation of the model's own forecast (`choose`, `lag_months: validated`), by the BIC of the adjustment regression
(`choose_lag`, `lag_months: bic`) and the growth window alone (`choose_window`, `mu_window_months: validated`).

`choose(data)` sees only the history handed in (already cut at the data cut), so a backtest origin's choice uses
nothing after the origin. For every candidate (lag L, smoothing k, growth window w) and every month T of that
history with `HORIZON` months of data after it (and at least `MIN_FIT` fitted months before it), the model is
fitted on the months up to T only (OLS of Δlog H on the gap, λ combined with the forecast file's prior; μ the mean
growth of the last w months, or of all months, centred on their mean gap) and makes the forecast it would make at T
without shocks: the price held at month T's mean (the median of a driftless price), the fee share at T's, the
fleet's J/TH falling at the drift estimated up to T, the subsidy of each month (halvings are known in advance).
The error is the log of the forecast's mean hashrate over the next HORIZON months against the actual mean (the
backtest's annual measure). Candidates whose OLS adjustment speed on the history handed in is not at least MIN_T
(1) standard error above 0 are left out: a candidate whose history shows no answer to the gap is not a model of
miners (the draws would rest λ on the prior alone, and the halving's effect with it). The
candidate with the lowest mean absolute error over the months every candidate can be scored on wins; candidates
that leave fewer than INNER_ORIGINS such months are left out. Returns the choice and the table of candidates
(recorded with the forecast's parameters). Used when the forecast file says `lag_months: validated`; with
`validated_models: K` (or all) the market draws each run's candidate among the K best with weight ∝ 1 / error²
(minetax.forecast.market), so the uncertainty about the choice widens the bands.
"""

from __future__ import annotations

import numpy as np

from minetax.forecast.assumptions import ForecastError
from minetax.forecast.history import Data
from minetax.forecast.network import MIN_MONTHS, _gap, _ols, _series, monthly, target

# Candidate lags and price smoothings (months; a forecast file may give its own: validated_lags, validated_smooths).
# Lags to 12 months cover the lead time of mining machines (ordered when mining pays, hashing months later);
# smoothings to 36 months the 1-3 year payback over which a miner judges the price.
LAGS = (1, 2, 3, 6, 9, 12)
SMOOTHS = (1, 3, 6, 12, 24, 36)
MIN_T = 1.0  # a candidate's OLS adjustment speed must be this many standard errors above 0 (validated_min_t)
WINDOWS = (12, 24, 48, 0)  # 0: every fitted month up to T
HORIZON = 12
MIN_FIT = 12  # fitted months before an inner origin
INNER_ORIGINS = 6


def _csum(a: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(a)])


def _candidate(lp: np.ndarray, lr: np.ndarray, lh: np.ndarray, subsidy: np.ndarray, le: np.ndarray, lag: int,
               smooth: int,
               window: int, prior: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Inner origins T and the log error of the mean hashrate over the next HORIZON months at each."""
    n = len(lh)
    x = _gap(lp, lr, lh, lag, smooth)
    y = np.r_[np.nan, np.diff(lh)]
    ok = np.isfinite(x) & np.isfinite(y)
    xs, ys, w = np.where(ok, x, 0.0), np.where(ok, y, 0.0), ok.astype(float)
    cn, cx, cy, cxx, cxy = _csum(w), _csum(xs), _csum(ys), _csum(xs * xs), _csum(xs * ys)
    de = np.r_[np.nan, np.diff(le)]
    dok = np.isfinite(de)
    cg, cgn = _csum(np.where(dok, de, 0.0)), _csum(dok.astype(float))
    ts = np.array([t for t in range(n - HORIZON) if cn[t + 1] >= MIN_FIT and (window == 0 or cn[t + 1] >= window)],
                  dtype=int)
    if len(ts) == 0:
        return ts, np.empty(0)
    k = cn[ts + 1]
    sxx = cxx[ts + 1] - cx[ts + 1] ** 2 / k
    sxy = cxy[ts + 1] - cx[ts + 1] * cy[ts + 1] / k
    lam = sxy / sxx
    ssr = np.maximum((_csum(ys * ys)[ts + 1] - cy[ts + 1] ** 2 / k) - lam * sxy, 1e-12)
    se2 = ssr / np.maximum(k - 2, 1) / sxx
    lam = np.maximum((lam / se2 + prior[0] / prior[1] ** 2) / (1 / se2 + 1 / prior[1] ** 2), 0.0)
    if window == 0:
        mu, centre = cy[ts + 1] / k, cx[ts + 1] / k
    else:  # the last `window` fitted months up to T
        idx = np.flatnonzero(ok)
        pos = np.searchsorted(idx, ts, side="right")
        start = idx[pos - window]
        mu = (cy[ts + 1] - cy[start]) / (cn[ts + 1] - cn[start])
        centre = (cx[ts + 1] - cx[start]) / (cn[ts + 1] - cn[start])
    g = (cg[ts + 1] / np.maximum(cgn[ts + 1], 1))
    # lre of months T−smooth−lag+2 .. T (known) and T+1 .. T+HORIZON (price and fee share held, J/TH drifting)
    back = lag + smooth - 1
    steps = np.arange(1, HORIZON + 1)
    def hist(a: np.ndarray) -> np.ndarray:
        return np.stack([a[t - back + 1:t + 1] if t - back + 1 >= 0 else np.full(back, np.nan) for t in ts])

    ls = np.log(subsidy)
    fut_lr = lr[ts, None] + ls[ts[:, None] + steps[None, :]] - ls[ts, None] - g[:, None] * steps[None, :]
    fut_lp = np.repeat(lp[ts, None], HORIZON, axis=1)
    lre_s = target(np.concatenate([hist(lp), fut_lp], axis=1), np.concatenate([hist(lr), fut_lr], axis=1),
                   smooth)[:, smooth - 1:]
    prev = lh[ts].copy()
    path = np.empty((len(ts), HORIZON))
    for j in range(HORIZON):
        gap = lre_s[:, j] - prev - centre
        prev = prev + mu + lam * gap
        path[:, j] = prev
    fc = np.log(np.exp(path).mean(axis=1))
    actual = np.log(np.stack([np.exp(lh[t + 1:t + 1 + HORIZON]) for t in ts]).mean(axis=1))
    err = fc - actual
    keep = np.isfinite(err)
    return ts[keep], err[keep]


def choose(data: Data, prior: tuple[float, float], lags: tuple[int, ...] = LAGS, smooths: tuple[int, ...] = SMOOTHS,
           min_t: float = MIN_T) -> tuple[int, int, int, list[dict]]:
    """(lag, smooth, window, table): the candidate with the lowest mean absolute log error of its own 12-month
    forecast at the months of the history every usable candidate can be scored on (window 0: all months)."""
    m, le, _, _, _, _, lp, lr, lh = _series(data)
    subsidy = m["subsidy_btc"].to_numpy(float)
    scored = {}
    y = np.r_[np.nan, np.diff(lh)]
    for lag in lags:
        for smooth in smooths:
            x = _gap(lp, lr, lh, lag, smooth)
            if (np.isfinite(x) & np.isfinite(y)).sum() < MIN_MONTHS:  # too few months for this lag and smoothing
                continue
            b, cov, _, _ = _ols(y, x - np.nanmean(np.where(np.isfinite(y), x, np.nan)))
            if b[1] <= max(min_t, 0.0) * np.sqrt(cov[1, 1]):  # the history shows no answer to the gap
                continue
            for window in WINDOWS:
                ts, err = _candidate(lp, lr, lh, subsidy, le, lag, smooth, window, prior)
                if len(ts) >= INNER_ORIGINS:
                    scored[(lag, smooth, window)] = dict(zip(ts.tolist(), err.tolist(), strict=True))
    if not scored:
        raise ForecastError(f"network model: {len(lh)} months up to the cut-off are too few to validate the lag, "
                            f"smoothing and growth window (need {INNER_ORIGINS} months with {HORIZON} after them)")
    common = set.intersection(*(set(s) for s in scored.values()))
    table = []
    for (lag, smooth, window), s in scored.items():
        e = np.array([s[t] for t in sorted(common)])
        table.append({"lag": lag, "smooth": smooth, "window": window, "n": len(e),
                      "mae_log": float(np.abs(e).mean()) if len(e) else float("inf")})
    best = min(table, key=lambda r: (r["mae_log"], r["lag"], r["smooth"], r["window"]))
    return int(best["lag"]), int(best["smooth"]), int(best["window"]), table


BIC_LAGS = (1, 2, 3, 6)  # candidate lags (months) of the BIC choice
BIC_SMOOTHS = (1, 3, 6)  # candidate trailing means (months)


def choose_lag(data: Data, lags: tuple[int, ...] = BIC_LAGS, smooths: tuple[int, ...] = BIC_SMOOTHS
               ) -> tuple[int, int, list[dict]]:
    """Lag and smoothing with the lowest BIC of the adjustment regression on the history handed in (already cut at
    the data cut, so the choice sees nothing after it), every candidate fitted on the same months (those all
    candidates can use); with the same number of coefficients for each, the lowest BIC is the lowest residual
    variance. Returns (lag, smooth, [{lag, smooth, n, bic}])."""
    _, _, _, _, _, _, lp, lr, lh = _series(data)
    y = np.r_[np.nan, np.diff(lh)]
    first = max(lags) + max(smooths) - 1
    table = []
    for lag in lags:
        for smooth in smooths:
            x = _gap(lp, lr, lh, lag, smooth)
            yy, xx = y[first:], x[first:]
            ok = np.isfinite(yy) & np.isfinite(xx)
            if ok.sum() < MIN_MONTHS:
                raise ForecastError(f"network model: {int(ok.sum())} monthly observations up to the cut-off to "
                                    f"choose the lag; need at least {MIN_MONTHS}")
            _, _, sd, n = _ols(yy[ok], xx[ok])
            ssr = sd ** 2 * (n - 2)
            table.append({"lag": lag, "smooth": smooth, "n": n, "bic": float(n * np.log(ssr / n) + 2 * np.log(n))})
    best = min(table, key=lambda r: (r["bic"], r["lag"], r["smooth"]))
    return int(best["lag"]), int(best["smooth"]), table


GROWTH_WINDOWS = (12, 24, 36, 48, 72)  # candidate windows (months) of the recent growth μ when it is chosen


def choose_window(data: Data, windows: tuple[int, ...] = GROWTH_WINDOWS, horizon: int = 12) -> tuple[int, list[dict]]:
    """The window of the recent growth μ chosen by a rolling validation inside the history handed in (already cut
    at the data cut): at every month t with `horizon` months of data after it, each candidate predicts the log
    hashrate growth of the next `horizon` months as `horizon` × its mean monthly growth over the w months up to t;
    the window with the lowest mean squared error over the months every candidate can be scored on wins (candidates
    too long for at least INNER_ORIGINS such months are left out). Returns (window, [{window, n, rmse}])."""
    lh = np.log(monthly(data)["hashrate_ths"].to_numpy(float))
    n = len(lh)
    usable = [w for w in windows if n - horizon - w >= INNER_ORIGINS]
    if not usable:
        raise ForecastError(f"network model: {n} months up to the cut-off; need at least "
                            f"{min(windows) + horizon + INNER_ORIGINS} to choose the growth window")
    ts = np.arange(max(usable), n - horizon)
    table = []
    for w in usable:
        pred = (lh[ts] - lh[ts - w]) / w * horizon
        err = lh[ts + horizon] - lh[ts] - pred
        table.append({"window": w, "n": len(ts), "rmse": float(np.sqrt(np.mean(err ** 2)))})
    best = min(table, key=lambda r: (r["rmse"], r["window"]))
    return int(best["window"]), table
