"""Rolling-origin backtest (`minetax forecast backtest`): at the end of each year from 2018 to 2024, forecast 1, 2
and 3 years ahead with only the warehouse's data up to that day, and score the forecasts against what happened.

Measures: the network hashrate (annual mean of the daily values), and for the sample's licensed farms (the run's
tax.estimates) the fee base (GWh) and the fee (KZT). The sample's farms are held at their origin-year energy and
price; the share of it that keeps mining in a later year follows the forecast's market, as in the forecast's own
behaviour (sites whose power price plus fee per kWh the mined value covers; lognormal spread of site prices), so
base_y = base_origin × min(1, mining_share_y / mining_share_origin), and the fee is each farm's base times its rate
in force that year (the one rate model, at the farm's origin-year price and categories). The ratio is capped at 1: the
farms are held at their origin-year energy (no growth is modelled), and where the model finds a farm unprofitable
in its origin year though it mined (a fee bracket above its margin), a ratio would otherwise explode.

Models: the forecast given (feedback network), the naive forecasts (default: constant growth as today, `kz-naive`, 25%
a year set with hindsight in 2025; and constant growth fitted at the origin, `kz-naive-fitted`, the mean and sd of the
last 4 years of growth up to the cut), and "no change" (every measure at its origin-year value; a point forecast, so it
has no band and no coverage). Every forecast reads the history only up to its origin (engine.run's cutoff).
Scores per model × measure × horizon: n, MdAPE of P50 (median of |P50 − actual| / actual), coverage (share of
actual outcomes inside P10–P90; nominal 80%) and the mean weighted interval score of the logs (`wis`), a proper score
of P50 and band together. MdAPE looks at P50 alone and coverage at the band alone: a band too narrow to hold the
outcomes costs nothing in MdAPE, and a band wide enough to hold everything wins coverage; both cost in the WIS. With
one band (α = 0.2), on log values l = log P10, m = log P50, u = log P90, y = log actual:
    WIS = (½·|y − m| + (α/2)·IS) / 1.5,   IS = (u − l) + (2/α)·(l − y)₊ + (2/α)·(y − u)₊
(Bracher, Ray, Gneiting and Reich 2021, "Evaluating epidemic forecasts in an interval format"; the score of the
COVID-19 Forecast Hubs). It approximates the CRPS; for a point forecast (no change) it is |y − m|. Logs make it
relative (0.10 ≈ a 10% miss) and comparable across years; lower is better. An origin or a target year the data do
not allow is left out and said so in `notes`, never filled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from minetax import db
from minetax.forecast.assumptions import Forecast, ForecastError, load_forecast, value_of
from minetax.forecast.engine import Result, run
from minetax.forecast.fleet import efficiency_path, world_ratio
from minetax.forecast.history import History
from minetax.forecast.response import _profitable_share
from minetax.tax import rates as law

ORIGINS = tuple(range(2018, 2025))
HORIZONS = (1, 2, 3)
NO_CHANGE = "no change"
NAIVE_IDS = ("kz-naive", "kz-naive-fitted")
MEASURES = ("network_hashrate_ths", "fee_base_gwh", "fee_revenue_kzt")


def actual_network(history: History) -> dict[int, float]:
    """Annual mean hashrate (TH/s) of every year with at least 360 network days in the warehouse."""
    net = history.network()
    g = net.groupby(net["date"].dt.year)["hashrate_ths"].agg(["mean", "size"])
    return {int(y): float(r["mean"]) for y, r in g.iterrows() if r["size"] >= 360}


def fee_base(history: History, scenario_id: str) -> pd.DataFrame:
    """The sample's licensed farms by fee scheme, farm and year, in the years the sample covers whole (some farm
    has 12 months of estimates; farms that started or stopped during such a year count with their months)."""
    fb = db.query_file(history.con, "forecast/history_fee_base.sql", {"scenario_id": scenario_id})
    full = fb.groupby("year")["months"].transform("max") >= 12
    return fb[full].reset_index(drop=True)


def _value_per_kwh(res: Result, k: int) -> np.ndarray:
    """Mined value per kWh (KZT) of year index k per draw, for the forecast fleet's efficiency."""
    if res.market.coins_per_ths is not None:
        cpt = res.market.coins_per_ths[:, k]
    else:
        cpt = res.issuance_btc[k] / res.market.hashrate_ths[:, k]
    kwh_per_ths = 8.76 * res.j_per_th[:, k] * res.fleet.pue[k]  # 1 TH/s for a year at e J/TH: 8.76·e kWh
    return cpt * res.market.price_usd[:, k] * res.fleet.fx[k] / kwh_per_ths


def _actual_value_per_kwh(history: History, fc: Forecast, res: Result, year: int) -> float:
    """The same for the actual year `year` from its network days (BTC per TH/s summed over days × day's price)."""
    net = history.network(dt.date(year, 1, 1), dt.date(year, 12, 31))
    btc_per_ths = ((net["subsidy_btc"] + net["fees_btc"]) / net["hashrate_ths"]).to_numpy(float)
    value_usd = float((btc_per_ths * net["price_usd"].to_numpy(float)).sum())
    ratio = world_ratio(fc)
    eff = history.data(dt.date(year, 12, 31)).efficiency
    world = eff.loc[eff["date"].dt.year == year, "estimated_j_per_th"]
    if ratio is not None and res.market.j_per_th is not None and len(world):
        j = ratio * float(world.mean())
    else:
        j = float(efficiency_path(fc, [year])[0])
    return value_usd * res.fleet.fx[0] / (8.76 * j * res.fleet.pue[0])


def _sample_draws(fc: Forecast, res: Result, history: History, fb: pd.DataFrame, origin: int
                  ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per target year: (fee base GWh, fee KZT) per draw for the sample's farms of the origin year."""
    base0 = fb[fb["year"] == origin]
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if base0.empty:
        return out
    spread = float(value_of(fc.doc.get("site_price_spread", 0.0)))
    schemes = {s.scheme_id: s for s in fc.schemes}
    v0 = _actual_value_per_kwh(history, fc, res, origin)
    with law.scratch() as con:
        for k, y in enumerate(res.years):
            vpk = _value_per_kwh(res, k)
            gwh, kzt = np.zeros(res.runs), np.zeros(res.runs)
            for n, (sid, farms) in enumerate(base0.groupby("scheme_id")):
                if sid not in schemes:
                    continue
                subj = [{"month": dt.date(y, 1, 1), "avg_price_kzt_per_kwh": float(r.avg_price_kzt_per_kwh),
                         "capacity_mw": float(r.capacity_mw), "connection": r.connection,
                         "energy_source": r.energy_source, "metered": bool(r.metered), "licensed": bool(r.licensed)}
                        for r in farms.itertuples()]
                rate = np.array([0.0 if r is None else float(r)
                                 for r, _ in law.rates_for(con, schemes[sid], subj, fc.law_as_of)])
                rate0 = np.array([0.0 if r is None else float(r) for r, _ in law.rates_for(
                    con, schemes[sid], [{**s, "month": dt.date(origin, 1, 1)} for s in subj], fc.law_as_of)])
                price = farms["avg_price_kzt_per_kwh"].to_numpy(float)
                m0, _ = _profitable_share(np.array([v0]) - rate0, price, spread) if spread > 0 else (
                    (v0 >= price + rate0).astype(float), None)
                base = farms["base_kwh"].to_numpy(float)
                for i in range(len(farms)):
                    if spread > 0:
                        m, _ = _profitable_share(vpk - rate[i], np.full(res.runs, price[i]), spread)
                    else:
                        m = (vpk >= price[i] + rate[i]).astype(float)
                    b = base[i] * np.minimum(1.0, m / max(float(m0[i]), 1e-9))
                    gwh += b / 1e6 if n == 0 else 0.0  # the base once, the fee of every per-kWh scheme
                    kzt += b * rate[i]
            out[y] = (gwh, kzt)
    return out


def _bands(draws: np.ndarray) -> tuple[float, float, float]:
    p10, p50, p90 = np.percentile(draws, [10, 50, 90])
    return float(p10), float(p50), float(p90)


def _origin_rows(origin: int, model: str, res: Result, fc: Forecast, history: History, actual_h: dict[int, float],
                 fb: pd.DataFrame, actual_fb: dict[int, tuple[float, float]]) -> list[dict]:
    rows = []
    sample = _sample_draws(fc, res, history, fb, origin) if origin in actual_fb else {}
    for k, y in enumerate(res.years):
        h = y - origin
        if y in actual_h:
            rows.append(_row(origin, h, y, model, "network_hashrate_ths", res.market.hashrate_ths[:, k], actual_h[y]))
        if y in sample and y in actual_fb:
            rows.append(_row(origin, h, y, model, "fee_base_gwh", sample[y][0], actual_fb[y][0]))
            rows.append(_row(origin, h, y, model, "fee_revenue_kzt", sample[y][1], actual_fb[y][1]))
    return rows


def _row(origin: int, h: int, y: int, model: str, measure: str, draws: np.ndarray | float, actual: float) -> dict:
    if np.ndim(draws) == 0:
        p10 = p50 = p90 = float(draws)
        inside: bool | None = None  # a point forecast has no band
    else:
        p10, p50, p90 = _bands(np.asarray(draws))
        inside = bool(p10 <= actual <= p90)
    ape = abs(p50 - actual) / abs(actual) if actual else None
    return {"origin": origin, "horizon": h, "year": y, "model": model, "measure": measure, "p10": p10, "p50": p50,
            "p90": p90, "actual": actual, "ape": ape, "inside": inside, "wis": wis_log(p10, p50, p90, actual)}


WIS_ALPHA = 0.2  # the P10–P90 band


def wis_log(p10: float, p50: float, p90: float, actual: float) -> float | None:
    """Weighted interval score of P10/P50/P90 against the actual, on log values (None where a value is not
    positive: no log)."""
    if min(p10, p50, p90, actual) <= 0:
        return None
    lo, m, hi, y = np.log([p10, p50, p90, actual])
    interval = (hi - lo) + 2 / WIS_ALPHA * (max(lo - y, 0.0) + max(y - hi, 0.0))
    return float((0.5 * abs(y - m) + WIS_ALPHA / 2 * interval) / 1.5)


def _no_change_rows(origin: int, actual_h: dict[int, float], actual_fb: dict[int, tuple[float, float]],
                    horizons: Iterable[int]) -> list[dict]:
    rows = []
    for h in horizons:
        y = origin + h
        if origin in actual_h and y in actual_h:
            rows.append(_row(origin, h, y, NO_CHANGE, "network_hashrate_ths", actual_h[origin], actual_h[y]))
        if origin in actual_fb and y in actual_fb:
            rows.append(_row(origin, h, y, NO_CHANGE, "fee_base_gwh", actual_fb[origin][0], actual_fb[y][0]))
            rows.append(_row(origin, h, y, NO_CHANGE, "fee_revenue_kzt", actual_fb[origin][1], actual_fb[y][1]))
    return rows


def scores(rows: pd.DataFrame) -> pd.DataFrame:
    """model × measure × horizon: n, MdAPE of P50 (%), coverage of P10–P90 (%; None for a point forecast), mean
    weighted interval score of the logs (wis; None where no row has one)."""
    out = []
    for (model, measure, h), g in rows.groupby(["model", "measure", "horizon"], sort=True):
        ape = g["ape"].dropna()
        ins = g["inside"].dropna()
        out.append({"model": model, "measure": measure, "horizon": int(h), "n": len(g),
                    "mdape_pct": float(np.median(ape) * 100) if len(ape) else None,
                    "coverage_pct": float(ins.astype(float).mean() * 100) if len(ins) else None,
                    "wis": float(g["wis"].dropna().mean()) if g["wis"].notna().any() else None})
    return pd.DataFrame(out)


def naive_list(naive_ids: str | Iterable[str] | None) -> list[str]:
    """The naive forecast ids: one id, several, or a comma-separated text ('' or None: none)."""
    if naive_ids is None:
        return []
    items = naive_ids.split(",") if isinstance(naive_ids, str) else list(naive_ids)
    return list(dict.fromkeys(i.strip() for i in items if i.strip()))


def rolling_backtest(history: History, forecast_id: str = "kz-baseline",
                     naive_ids: str | Iterable[str] | None = NAIVE_IDS, runs: int = 1000, seed: int = 7,
                     origins: Iterable[int] = ORIGINS, horizons: Iterable[int] = HORIZONS, **kw: Any) -> dict:
    """Rows (origin × horizon × model × measure: p10, p50, p90, actual, ape, inside), scores, and notes (what
    the data did not allow). `naive_ids`: the naive forecasts scored beside it (see naive_list). `kw`:
    forecasts_dir, scenarios_dir, schemes_dir."""
    horizons = tuple(horizons)
    naive = naive_list(naive_ids)
    dirs = {k: v for k, v in kw.items() if k in ("forecasts_dir", "scenarios_dir", "schemes_dir")}
    actual_h = actual_network(history)
    fcs = {fid: load_forecast(fid, *[dirs[k] for k in ("forecasts_dir", "scenarios_dir", "schemes_dir") if k in dirs])
           for fid in (forecast_id, *naive)}
    fb = fee_base(history, fcs[forecast_id].scenario_id)
    g = fb.groupby("year")
    first_scheme = fb["scheme_id"].min() if len(fb) else None
    actual_fb = {int(y): (float(r[r["scheme_id"] == first_scheme]["base_kwh"].sum() / 1e6), float(r["tax_kzt"].sum()))
                 for y, r in g}
    rows: list[dict] = []
    notes: list[str] = []
    last_full = max(actual_h) if actual_h else None
    for origin in origins:
        targets = [origin + h for h in horizons if last_full and origin + h <= last_full]
        if not targets:
            notes.append(f"origin {origin}: no full year of network data after it in the warehouse")
            continue
        for fid in fcs:
            try:
                res = run(fid, max(targets), runs, seed, dt.date(origin, 12, 31), history=history,
                          from_year=origin + 1, **dirs)
            except ForecastError as e:
                first = history.network()["date"].iloc[0].date()
                notes.append(f"origin {origin}, {fid}: not forecast (the warehouse's network history starts {first}):"
                             f" {e}")
                continue
            rows += _origin_rows(origin, fid, res, fcs[fid], history, actual_h, fb, actual_fb)
        rows += _no_change_rows(origin, actual_h, actual_fb, horizons)
    if actual_fb:
        yrs = sorted(actual_fb)
        notes.append(f"fee base and fee: the sample's licensed farms have full years {yrs[0]}-{yrs[-1]} in the "
                     f"warehouse; origins before {yrs[0]} and years after {yrs[-1]} are not scored for them")
    else:
        notes.append("fee base and fee: no full year of the sample's licensed farms in the warehouse")
    df = pd.DataFrame(rows, columns=["origin", "horizon", "year", "model", "measure", "p10", "p50", "p90", "actual",
                                     "ape", "inside", "wis"])
    return {"forecast_id": forecast_id, "naive_ids": naive, "runs": runs, "seed": seed,
            "origins": list(origins), "horizons": list(horizons), "rows": df,
            "scores": scores(df) if len(df) else pd.DataFrame(), "notes": notes}
