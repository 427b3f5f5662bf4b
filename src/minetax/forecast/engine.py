"""Forecast engine: tax revenue from Kazakhstan's mining fleet in future budget years, with probability bands.

Assumptions live in schemes/forecasts/<forecast_id>.yaml (minetax.forecast.assumptions); the history is the validated
warehouse as the last committed run left it (minetax.forecast.history); the market is drawn in
minetax.forecast.market (the network with feedback, issue 18: minetax.forecast.network, its lag and growth window
chosen inside the history by minetax.forecast.validation), the fleet's paths and
response in minetax.forecast.fleet, the tax law in minetax.forecast.rates. Pure numpy/pandas on the history handed
in (no Prefect). Integrators call:
    simulate(forecast_id, to_year, runs, seed, cutoff=None, history=h) -> long table (draw, year, scheme_id, tax_kzt)
    summarise(df)                                                      -> forecast_by_year rows
    budget_windows(df)                                                 -> forecast_budget_window rows
    compare(reform_id, baseline_id, to_year, runs, seed, history=h)    -> reform − baseline per draw
(the one-year backtest is in minetax.forecast.backtest, the rolling-origin backtest in minetax.forecast.rolling,
the tornado in minetax.forecast.tornado; the history comes from minetax.forecast.history)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from minetax.config import SCENARIOS_DIR, SCHEMES_DIR
from minetax.forecast.assumptions import FORECASTS_DIR, ForecastError, apply_overrides, load_forecast
from minetax.forecast.fleet import FleetPaths, fleet_paths, shifted, world_ratio
from minetax.forecast.history import History
from minetax.forecast.market import Market, draw_market
from minetax.forecast.protocol import Chain, chain_state
from minetax.forecast.response import fleet_outcome

ALL_SCHEMES = "all schemes"


@dataclass
class Result:
    forecast_id: str
    years: list[int]
    runs: int
    seed: int
    cutoff: dt.date
    chain: Chain
    fleet: FleetPaths
    market: Market
    issuance_btc: np.ndarray  # years: subsidy + fees (feedback model: indicative, mean over draws)
    mining: np.ndarray  # runs × years: share of capacity mining (1 = all; 0 where behaviour shut it down)
    value_kzt: np.ndarray  # runs × years (after behaviour)
    cost_kzt: np.ndarray
    energy_kwh: np.ndarray
    taxes: dict[str, np.ndarray]  # scheme_id -> runs × years KZT
    rates: dict[str, list[tuple[float, str]]]  # scheme_id -> (rate, basis) per year
    j_per_th: np.ndarray  # runs × years: the fleet's J/TH (its path, or per draw a multiple of the world's)
    lost: dict[str, np.ndarray] = field(default_factory=dict)  # scheme_id -> runs × years KZT lost to suspension
    # windows (empty when none takes activity away)

    def long(self, lost: bool = False) -> pd.DataFrame:
        """One row per draw, year and scheme: the tax (KZT), or with `lost` the tax lost to suspension windows
        (no rows when no window took activity away)."""
        frames = []
        draws = np.repeat(np.arange(self.runs), len(self.years))
        yrs = np.tile(np.array(self.years), self.runs)
        for sid, t in (self.lost if lost else self.taxes).items():
            frames.append(pd.DataFrame({"draw": draws, "year": yrs, "scheme_id": sid, "tax_kzt": t.reshape(-1)}))
        df = (pd.concat(frames, ignore_index=True) if frames
              else pd.DataFrame({"draw": [], "year": [], "scheme_id": [], "tax_kzt": []}))
        df.attrs.update(forecast_id=self.forecast_id, seed=self.seed, runs=self.runs, cutoff=str(self.cutoff))
        return df


def _years(chain: Chain, to_year: int, from_year: int | None) -> list[int]:
    first = from_year or chain.last_day.year + 1
    if to_year < first:
        raise ForecastError(f"forecast to {to_year}: the first forecast year is {first}")
    return list(range(first, to_year + 1))


def run(forecast_id: str, to_year: int, runs: int = 1000, seed: int = 0, cutoff: dt.date | str | None = None, *,
        history: History, from_year: int | None = None, forecasts_dir: Path = FORECASTS_DIR,
        scenarios_dir: Path = SCENARIOS_DIR, schemes_dir: Path = SCHEMES_DIR, overrides: dict | None = None,
        shifts: dict | None = None) -> Result:
    """The full simulation with all intermediate arrays (see simulate for the long table), on the warehouse's
    history up to `cutoff` (inclusive; None: all of it). `overrides`: sections of the forecast file replaced (e.g. a
    price or capacity path from a CSV, minetax.forecast.user_paths); `shifts`: assumptions moved for the tornado
    (minetax.forecast.tornado)."""
    if runs < 1:
        raise ForecastError("runs must be at least 1")
    fc = load_forecast(forecast_id, forecasts_dir, scenarios_dir, schemes_dir)
    if overrides:
        fc = apply_overrides(fc, overrides)
    data = history.data(cutoff)
    chain = chain_state(data.network)
    years = _years(chain, to_year, from_year)
    fleet = shifted(fleet_paths(fc, data, years), shifts)
    market = draw_market(fc, data, years, runs, seed, chain, shifts)
    issuance = np.array([chain.issuance_btc(y) for y in years]) * (1 + fleet.fees_share)
    ratio = world_ratio(fc)
    j_per_th = fleet.j_per_th  # the fleet's J/TH: its fixed path, or per draw a multiple of the world's
    if ratio is not None and market.j_per_th is not None:
        j_per_th = ratio * market.j_per_th
    fleet_ths = fleet.capacity_mw * 1e6 * fleet.utilisation / (j_per_th * fleet.pue)
    if market.coins_per_ths is not None:  # feedback model: BTC per TH/s from the monthly paths (fees modelled)
        issuance = market.coins_per_ths.mean(axis=0) * market.hashrate_ths.mean(axis=0)
        coins = np.minimum(fleet_ths * market.coins_per_ths, market.coins_per_ths * market.hashrate_ths)
    else:
        coins = np.minimum(1.0, fleet.hashrate_ths / market.hashrate_ths) * issuance
    energy, value, cost, mining, taxes, rates, lost = fleet_outcome(fc, fleet, coins, market.price_usd, years)
    share = np.minimum(1.0, fleet_ths / market.hashrate_ths)  # the fleet's share of the network, per draw
    market.fit["kz_share_p50"] = {y: float(v) for y, v in zip(years, np.median(share, axis=0), strict=True)}
    market.fit["kz_share_mining_p50"] = {y: float(v) for y, v in zip(years, np.median(share * mining, axis=0),
                                                                      strict=True)}
    market.fit["law_as_of"] = str(fc.law_as_of) if fc.law_as_of else "in_force"  # the law day every month used
    return Result(forecast_id, years, runs, seed, chain.last_day, chain, fleet, market, issuance, mining, value, cost,
                  energy, taxes, rates, np.broadcast_to(j_per_th, (runs, len(years))), lost)


def simulate(forecast_id: str, to_year: int, runs: int = 1000, seed: int = 0, cutoff: dt.date | str | None = None,
             **kw: Any) -> pd.DataFrame:
    """Long table: one row per draw, year and scheme (draw, year, scheme_id, tax_kzt)."""
    return run(forecast_id, to_year, runs, seed, cutoff, **kw).long()


# ---- summaries --------------------------------------------------------------------------------------------------

def _with_all(df: pd.DataFrame) -> pd.DataFrame:
    tot = df.groupby(["draw", "year"], as_index=False)["tax_kzt"].sum().assign(scheme_id=ALL_SCHEMES)
    return pd.concat([df[["draw", "year", "scheme_id", "tax_kzt"]], tot], ignore_index=True)


def _stats(g: pd.core.groupby.DataFrameGroupBy, col: str) -> pd.DataFrame:
    return g[col].agg(p10=lambda s: float(np.percentile(s, 10)), p50=lambda s: float(np.percentile(s, 50)),
                      p90=lambda s: float(np.percentile(s, 90)), mean="mean").reset_index()


def summarise(df: pd.DataFrame, scenario: str | None = None) -> pd.DataFrame:
    """forecast_by_year rows: scenario, scheme, year, p10, p50, p90, mean (KZT), per scheme and 'all schemes'."""
    out = _stats(_with_all(df).groupby(["scheme_id", "year"]), "tax_kzt")
    out.insert(0, "scenario", scenario or df.attrs.get("forecast_id", ""))
    out = out.rename(columns={"scheme_id": "scheme"})
    return out[["scenario", "scheme", "year", "p10", "p50", "p90", "mean"]].sort_values(
        ["scheme", "year"]).reset_index(drop=True)


def budget_windows(df: pd.DataFrame, scenario: str | None = None, windows: tuple[int, ...] = (1, 3, 5)
                   ) -> pd.DataFrame:
    """forecast_budget_window rows: totals over the first 1, 3, 5 forecast years, summed per draw then summarised
    (scenario, scheme, window_years, first_year, last_year, p10, p50, p90, mean). Windows longer than the horizon
    are left out."""
    a = _with_all(df)
    first, last = int(a["year"].min()), int(a["year"].max())
    frames = []
    for w in windows:
        if first + w - 1 > last:
            continue
        tot = a[a["year"] <= first + w - 1].groupby(["scheme_id", "draw"], as_index=False)["tax_kzt"].sum()
        s = _stats(tot.groupby("scheme_id"), "tax_kzt").assign(window_years=w, first_year=first,
                                                              last_year=first + w - 1)
        frames.append(s)
    out = pd.concat(frames, ignore_index=True).rename(columns={"scheme_id": "scheme"})
    out.insert(0, "scenario", scenario or df.attrs.get("forecast_id", ""))
    return out[["scenario", "scheme", "window_years", "first_year", "last_year", "p10", "p50", "p90", "mean"]
               ].sort_values(["scheme", "window_years"]).reset_index(drop=True)


def compare(reform_id: str, baseline_id: str, to_year: int, runs: int = 1000, seed: int = 0,
            cutoff: dt.date | str | None = None, **kw: Any) -> pd.DataFrame:
    """Reform − baseline per draw, year and scheme, with the same random draws (common random numbers).
    Columns: draw, year, scheme_id, reform_kzt, baseline_kzt, tax_kzt (the difference); summarise() works on it."""
    r = simulate(reform_id, to_year, runs, seed, cutoff, **kw)
    b = simulate(baseline_id, to_year, runs, seed, cutoff, **kw)
    m = r.merge(b, on=["draw", "year", "scheme_id"], how="outer", suffixes=("_r", "_b")).fillna({
        "tax_kzt_r": 0.0, "tax_kzt_b": 0.0})
    m = m.rename(columns={"tax_kzt_r": "reform_kzt", "tax_kzt_b": "baseline_kzt"})
    m["tax_kzt"] = m["reform_kzt"] - m["baseline_kzt"]
    m = m.sort_values(["scheme_id", "draw", "year"]).reset_index(drop=True)
    m.attrs.update(forecast_id=f"{reform_id} - {baseline_id}", seed=seed, runs=runs)
    return m
