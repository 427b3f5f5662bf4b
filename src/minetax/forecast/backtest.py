"""Backtest: forecast a past year from the warehouse's history up to the end of the year before, and compare it with
the model's estimate from that year's actual network days in the warehouse, for the same fleet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from minetax.config import SCENARIOS_DIR, SCHEMES_DIR
from minetax.forecast.assumptions import FORECASTS_DIR, ForecastError, load_forecast
from minetax.forecast.engine import ALL_SCHEMES, run, summarise
from minetax.forecast.fleet import fleet_paths
from minetax.forecast.history import History
from minetax.forecast.response import fleet_outcome


def _actual_year(history: History, year: int) -> pd.DataFrame:
    """The network days of `year` in the warehouse; refused unless they cover the year."""
    net = history.network(dt.date(year, 1, 1), dt.date(year, 12, 31))
    if len(net) < 360:
        raise ForecastError(f"backtest {year}: the data do not cover the year")
    return net


def actual_estimate(forecast_id: str, year: int, *, history: History, forecasts_dir: Path = FORECASTS_DIR,
                    scenarios_dir: Path = SCENARIOS_DIR, schemes_dir: Path = SCHEMES_DIR) -> dict[str, float]:
    """The model's estimate for `year` from the actual data of that year (daily network share × actual subsidy and
    fees × the day's price), for the same fleet the forecast assumes: tax per scheme and 'all schemes' (KZT)."""
    fc = load_forecast(forecast_id, forecasts_dir, scenarios_dir, schemes_dir)
    net = _actual_year(history, year)
    years = [year]
    fleet = fleet_paths(fc, history.data(dt.date(year - 1, 12, 31)), years)  # same fleet as the forecast
    h = fleet.hashrate_ths[0]
    issued = (net["subsidy_btc"] + net["fees_btc"]).to_numpy(float)
    coins_d = np.minimum(1.0, h / net["hashrate_ths"].to_numpy(float)) * issued
    # value at the day's price; expressed as coins × the coin-weighted mean price so fleet_outcome can be reused
    coins = coins_d.sum()
    price = float((coins_d * net["price_usd"].to_numpy(float)).sum() / coins) if coins > 0 else 0.0
    _, _, _, mining, taxes, _, _ = fleet_outcome(fc, fleet, np.array([[coins]]), np.array([[price]]), years)
    out = {sid: float(t[0, 0]) for sid, t in taxes.items()}
    out[ALL_SCHEMES] = float(sum(out.values()))
    out["_coins_btc"], out["_price_usd"], out["_mining"] = float(coins), price, float(mining[0, 0])
    return out


def _bands(draws: np.ndarray, actual: float) -> dict:
    return {"p10": float(np.percentile(draws, 10)), "p50": float(np.percentile(draws, 50)),
            "p90": float(np.percentile(draws, 90)), "actual": actual}


def backtest(year: int, forecast_id: str = "kz-baseline", runs: int = 2000, seed: int = 7, *, history: History,
             **kw: Any) -> dict:
    """Forecast `year` with data up to 31 Dec of year−1 and compare with the model's estimate from the actual data
    of `year` for the same fleet. Per scheme and 'all schemes': p10, p50, p90, actual, error (p50 − actual),
    error_pct, inside (p10 <= actual <= p90); plus the halving dates and fits used."""
    cutoff = dt.date(year - 1, 12, 31)
    res = run(forecast_id, year, runs, seed, cutoff, from_year=year, history=history, **kw)
    summ = summarise(res.long(), forecast_id)
    actual = actual_estimate(forecast_id, year, history=history, **kw)
    rows = {}
    for _, r in summ.iterrows():
        a = actual[r["scheme"]]
        rows[r["scheme"]] = {"p10": r["p10"], "p50": r["p50"], "p90": r["p90"], "mean": r["mean"], "actual": a,
                             "error": r["p50"] - a, "error_pct": (r["p50"] - a) / a * 100 if a else None,
                             "inside": bool(r["p10"] <= a <= r["p90"])}
    net_actual = _actual_year(history, year)
    return {"forecast_id": forecast_id, "year": year, "cutoff": str(cutoff), "runs": runs, "seed": seed,
            "schemes": rows,
            "price_usd": _bands(res.market.price_usd[:, 0], float(net_actual["price_usd"].mean())),
            "hashrate_ths": _bands(res.market.hashrate_ths[:, 0], float(net_actual["hashrate_ths"].mean())),
            "halvings": [(h, str(d)) for h, d in res.chain.next_halvings(1)],
            "fit": res.market.fit}
