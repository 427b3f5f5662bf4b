"""Tornado table: how much the P50 revenue (all schemes) of the next budget year moves when each assumption moves
over its stated range (schemes/forecasts/<id>.yaml, section `tornado`: low and high with a source or reason), the
others held, with the same seed (common random numbers, so the swing is the assumption's, not the draws').

Assumptions: price_drift (annual log drift added to the BTC price), network_growth (annual log growth added to the
network hashrate), kz_share (factor on Kazakhstan's hashrate, so on its share of the network), electricity_price
(factor on the KZT/kWh path), capacity (factor on installed MW).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from minetax.forecast.assumptions import ForecastError, load_forecast, value_of
from minetax.forecast.engine import run

ASSUMPTIONS = ("price_drift", "network_growth", "kz_share", "electricity_price", "capacity")
NEUTRAL = {"price_drift": 0.0, "network_growth": 0.0, "kz_share": 1.0, "electricity_price": 1.0, "capacity": 1.0}


def _p50_first_year(forecast_id: str, to_year: int, runs: int, seed: int, shifts: dict | None, **kw: Any) -> float:
    res = run(forecast_id, to_year, runs, seed, shifts=shifts, **kw)
    total = sum(t[:, 0] for t in res.taxes.values())
    return float(np.percentile(total, 50))


def tornado(forecast_id: str, year: int, runs: int, seed: int, to_year: int | None = None, **kw: Any
            ) -> pd.DataFrame:
    """assumption, low, high, p50_low_kzt, p50_base_kzt, p50_high_kzt, swing_kzt (|high − low|), sorted by swing;
    `year` is the next budget year (the first forecast year); simulated to `to_year` (default `year`: the same
    draws as a forecast to that year); kw as engine.run (history, forecasts_dir, ...)."""
    to_year = to_year or year
    dirs = [kw[k] for k in ("forecasts_dir", "scenarios_dir", "schemes_dir") if k in kw]
    ranges = load_forecast(forecast_id, *dirs).doc.get("tornado") or {}
    missing = [a for a in ASSUMPTIONS if a not in ranges]
    if missing:
        raise ForecastError(f"forecast refused: {forecast_id}: section tornado needs low/high for {', '.join(missing)}")
    base = _p50_first_year(forecast_id, to_year, runs, seed, None, **kw)
    rows = []
    for a in ASSUMPTIONS:
        lo, hi = float(value_of(ranges[a]["low"])), float(value_of(ranges[a]["high"]))
        p_lo = _p50_first_year(forecast_id, to_year, runs, seed, {a: lo}, **kw)
        p_hi = _p50_first_year(forecast_id, to_year, runs, seed, {a: hi}, **kw)
        rows.append({"assumption": a, "year": year, "low": lo, "high": hi, "p50_low_kzt": p_lo, "p50_base_kzt": base,
                     "p50_high_kzt": p_hi, "swing_kzt": abs(p_hi - p_lo)})
    return pd.DataFrame(rows).sort_values("swing_kzt", ascending=False).reset_index(drop=True)
