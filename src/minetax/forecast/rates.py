"""Tax rates in force for the forecast fleet, month by month, and the taxes they give.

The law is not re-implemented here: the rates come from the one rate model (sql/tax/rate_in_force.sql, through
minetax.tax.rates), evaluated on a scratch in-memory DuckDB with the fleet as the subject of every month of every
forecast year (the rate in force on the month's first day, at the year's fleet power price and capacity, with the
fleet's categories). The forecast's grain, as the top-down country's:
- a flat load: the fleet runs evenly over the hours of the day and the days of the year (a month's kWh are the
  year's × its days / the year's days), so time-of-use periods weigh by their hours and seasons by their days;
- one taxpayer: for marginal bands the fleet's kWh so far in the tax period are its volume (an upper bound: the
  lower bands count once, not per miner), evaluated for every distinct annual kWh of the draws;
- no region: only suspension windows covering every region apply. With `suspend` (the behavioural model), a
  window's expected activity is zero: the months' activity is scaled by 1 - the share of their days inside a
  window of any scheme of the scenario (minetax.tax.rates, column suspended_share).
A year's tax is the base at full activity × Σ over its months of (month's share of the year's kWh × activity ×
rate), × the year's USD/KZT rate where the rate is in USD.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from minetax.forecast.assumptions import ForecastError
from minetax.tax import rates as law
from minetax.tax.schemes import Scheme

if TYPE_CHECKING:
    from minetax.forecast.fleet import FleetPaths

DEFAULT_ATTRIBUTES = {"connection": "grid", "energy_source": "coal", "metered": True, "licensed": True}
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
PER_KWH = ("per_kwh", "per_kwh_by_price", "per_kwh_foreign", "per_kwh_marginal", "per_kwh_time_of_use")


def fleet_subjects(years: Sequence[int], price_kzt_per_kwh: Sequence[float] | np.ndarray,
                   capacity_mw: Sequence[float] | np.ndarray, attrs: dict | None = None) -> list[dict]:
    """The fleet as subjects of the law: one per year (its 1 January), with that year's power price and capacity."""
    cats = {**DEFAULT_ATTRIBUTES, **(attrs or {})}
    return [{"month": dt.date(int(y), 1, 1), "avg_price_kzt_per_kwh": float(price_kzt_per_kwh[i]),
             "capacity_mw": float(capacity_mw[i]), "connection": cats["connection"],
             "energy_source": cats["energy_source"], "metered": cats["metered"], "licensed": cats["licensed"]}
            for i, y in enumerate(years)]


def rates_by_year(con: duckdb.DuckDBPyConnection, scheme: Scheme, subjects: list[dict]) -> list[tuple[float, str]]:
    """(rate, basis) per subject from the rate model; no rate (no bracket for the price) counts as 0."""
    return [(0.0 if rate is None else float(rate), basis) for rate, basis in law.rates_for(con, scheme, subjects)]


def month_weights(years: Sequence[int]) -> np.ndarray:
    """years × 12: each month's share of the year's kWh for a fleet running flat (its days / the year's days)."""
    days = np.array([[calendar.monthrange(int(y), m)[1] for m in range(1, 13)] for y in years], dtype=float)
    return days / days.sum(axis=1, keepdims=True)


def _before(kwh: np.ndarray, tax_period: str) -> np.ndarray:
    """kWh earlier in the same tax period, for kWh by month on the last axis (12)."""
    n = PERIOD_MONTHS[tax_period]
    per = kwh.reshape(*kwh.shape[:-1], 12 // n, n)
    return (np.cumsum(per, axis=-1) - per).reshape(kwh.shape)


def _columns(years: Sequence[int], fleet: FleetPaths, attrs: dict, rows: np.ndarray) -> dict[str, list]:
    """Subject columns for the months of the years at index `rows` (each repeated 12 times, months 1..12)."""
    cats = {**DEFAULT_ATTRIBUTES, **(attrs or {})}
    idx = np.repeat(rows, 12)
    n = len(idx)
    return {"month": [dt.date(int(years[i]), m, 1) for i, m in zip(idx, np.tile(np.arange(1, 13), len(rows)),
                                                                  strict=True)],
            "avg_price_kzt_per_kwh": [float(fleet.elec_price[i]) for i in idx],
            "capacity_mw": [float(fleet.capacity_mw[i]) for i in idx],
            **{k: [cats[k]] * n for k in ("connection", "energy_source", "metered", "licensed")}}


def _fx(s: Scheme, fleet: FleetPaths) -> np.ndarray | float:
    """KZT per unit of the rate's currency, by year: 1 for KZT (and shares), the USD/KZT path for USD."""
    if s.family not in PER_KWH or s.currency == "KZT":
        return 1.0
    if s.currency == "USD":
        return fleet.fx
    raise ForecastError(f"scheme {s.scheme_id}: rates in {s.currency} cannot be forecast (only KZT and USD: the "
                        "forecast has a USD/KZT path, no other exchange rate)")


@dataclass
class MonthRates:
    """One scheme's rates for the fleet by month: rate (years × 12, or draws × years × 12 for marginal bands),
    the bases (years × 12) and the share of each month inside a suspension window (years × 12)."""
    rate: np.ndarray
    basis: list[list[str]]
    suspended: np.ndarray


def month_rates(con: duckdb.DuckDBPyConnection, s: Scheme, years: Sequence[int], fleet: FleetPaths, attrs: dict,
                active_kwh: np.ndarray | None = None, law_as_of: dt.date | None = None) -> MonthRates:
    """The rate model on the fleet's months. Marginal bands need `active_kwh` (draws × years × 12: the fleet's kWh
    in each month); each distinct year of kWh is one taxpayer's, its bands on its kWh so far in the tax period.
    `law_as_of`: the day whose law applies to every month (None: each month's own)."""
    ny = len(years)
    if s.family != "per_kwh_marginal":
        got = law.rates_for_columns(con, s, _columns(years, fleet, attrs, np.arange(ny)), law_as_of)
        rate = np.array([0.0 if r is None else float(r) for r, _, _ in got]).reshape(ny, 12)
        return MonthRates(rate, [[b for _, b, _ in got[i * 12:(i + 1) * 12]] for i in range(ny)],
                          np.array([sh for _, _, sh in got]).reshape(ny, 12))
    if active_kwh is None:
        raise ForecastError(f"scheme {s.scheme_id}: marginal bands need the fleet's kWh")
    draws = active_kwh.shape[0]
    year_of = np.repeat(np.arange(ny), draws)  # year-major rows: (year, draw) × month
    keyed = np.column_stack([year_of, active_kwh.transpose(1, 0, 2).reshape(ny * draws, 12)])
    uniq, inverse = np.unique(keyed, axis=0, return_inverse=True)  # each distinct year of kWh, once
    rows = uniq[:, 0].astype(int)
    cols = _columns(years, fleet, attrs, rows)
    cols["volume_kwh"] = uniq[:, 1:].reshape(-1).tolist()
    cols["volume_before_kwh"] = _before(uniq[:, 1:], s.tax_period).reshape(-1).tolist()
    got = law.rates_for_columns(con, s, cols, law_as_of)
    by_unique = np.array([0.0 if r is None else float(r) for r, _, _ in got]).reshape(len(uniq), 12)
    by_draw = by_unique[inverse.reshape(-1)].reshape(ny, draws, 12).transpose(1, 0, 2)  # draws × years × 12
    mid = np.argsort(active_kwh.sum(axis=2), axis=0, kind="stable")[draws // 2]  # the median draw's volume
    shown = [int(inverse.reshape(-1)[i * draws + mid[i]]) for i in range(ny)]  # whose bases are shown
    return MonthRates(by_draw, [[got[u * 12 + m][1] for m in range(12)] for u in shown],
                      np.array([sh for _, _, sh in got]).reshape(len(uniq), 12)[shown])


@dataclass
class FleetTax:
    taxes: dict[str, np.ndarray]  # scheme_id -> draws × years KZT
    rates: dict[str, list[tuple[float, str]]]  # scheme_id -> (rate per active unit of base, bases) per year
    active: np.ndarray  # years: the share of the year's flat activity outside suspension windows (1 without)


def _weighted(rate: np.ndarray, weight: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Σ over months of weight × rate; in a year `free` of suspensions a rate the same in every month is that rate,
    exactly (the weights of a full year sum to 1)."""
    same = np.all(rate == rate[..., :1], axis=-1) & free
    return np.where(same, rate[..., 0], (rate * weight).sum(axis=-1))


def fleet_taxes(schemes: list[Scheme], years: list[int], fleet: FleetPaths, energy: np.ndarray, value: np.ndarray,
                cost: np.ndarray, attrs: dict, suspend: bool = False, volume_kwh: np.ndarray | None = None,
                law_as_of: dt.date | None = None) -> FleetTax:
    """Tax per scheme (KZT) for bases at full activity (draws × years, or years), the (rate, basis) per scheme and
    year, and the activity left by suspension windows (all 1 unless `suspend`). `volume_kwh`: the fleet's kWh a
    year at full activity for marginal bands (default: `energy`). `law_as_of`: the day whose law applies to every
    month (the forecast's law_as_of; None: each month's own law)."""
    energy, value, cost = np.broadcast_arrays(*(np.atleast_2d(np.asarray(a, dtype=float)) for a in
                                                (energy, value, cost)))
    volume = energy if volume_kwh is None else np.atleast_2d(np.asarray(volume_kwh, dtype=float))
    weights = month_weights(years)
    with law.scratch() as con:
        months = {s.scheme_id: month_rates(con, s, years, fleet, attrs, law_as_of=law_as_of) for s in schemes
                  if s.family != "per_kwh_marginal" or "suspensions" in s.parameters}
        suspended = (np.max([m.suspended for m in months.values()], axis=0) if suspend and months
                     else np.zeros_like(weights))
        free = ~np.any(suspended > 0, axis=1)  # years without a suspended day
        activity = weights * (1.0 - suspended)  # years × 12: share of the year's kWh mined in each month
        active = np.where(free, 1.0, activity.sum(axis=1))
        out, rates = {}, {}
        for s in schemes:
            mr = months.get(s.scheme_id)
            if mr is None or s.family == "per_kwh_marginal":
                mr = month_rates(con, s, years, fleet, attrs, volume[:, :, None] * activity[None], law_as_of)
            k = _weighted(mr.rate, activity, free)  # years, or draws × years
            out[s.scheme_id] = _family_tax(s, k, fleet, energy, value, cost)
            per = np.median(np.atleast_2d(k), axis=0) / np.where(active > 0, active, 1.0)
            rates[s.scheme_id] = [(float(per[i]), "; ".join(dict.fromkeys(mr.basis[i]))) for i in range(len(years))]
    return FleetTax(out, rates, active)


def _family_tax(s: Scheme, k: np.ndarray, fleet: FleetPaths, energy: np.ndarray, value: np.ndarray,
                cost: np.ndarray) -> np.ndarray:
    """The scheme's tax (KZT) on its base at full activity, with k = Σ months' weight × activity × rate per year."""
    if s.family in PER_KWH:
        return energy * k * _fx(s, fleet)
    if s.family == "electricity_cost_share":
        return cost * k
    if s.family == "mined_value_share":
        return value * k
    if s.family == "income_tax":
        return np.maximum(0.0, value - cost) * k
    raise ForecastError(f"scheme {s.scheme_id}: family {s.family} not supported in forecasts")


def taxes_for(schemes: list[Scheme], years: list[int], fleet: FleetPaths, energy: np.ndarray, value: np.ndarray,
              cost: np.ndarray, attrs: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Tax per scheme (KZT) at full activity, and the (rate, basis) per scheme and year (see fleet_taxes)."""
    res = fleet_taxes(schemes, years, fleet, energy, value, cost, attrs)
    return res.taxes, res.rates


def _tax_per_kwh(schemes: list[Scheme], years: list[int], fleet: FleetPaths, value_per_kwh: np.ndarray,
                 attrs: dict, suspend: bool = False, law_as_of: dt.date | None = None) -> np.ndarray:
    """Total tax per kWh mined (KZT), for the behavioural test: marginal bands at the fleet's volume if all of it
    mines; per kWh of the activity left by suspension windows."""
    one = np.ones(len(years))
    res = fleet_taxes(schemes, years, fleet, one, value_per_kwh, fleet.elec_price * one, attrs, suspend,
                      volume_kwh=fleet.energy_kwh, law_as_of=law_as_of)
    total = np.zeros_like(value_per_kwh, dtype=float)
    for tax in res.taxes.values():
        total = total + tax
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(res.active > 0, total / np.where(res.active > 0, res.active, 1.0), 0.0)
