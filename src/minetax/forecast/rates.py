"""Tax rates in force for the forecast fleet, year by year, and the taxes they give.

The law is not re-implemented here: the rates come from the one rate model (sql/tax/rate_in_force.sql, through
minetax.tax.rates), evaluated on a scratch in-memory DuckDB with the fleet as the subject, one per year (the rate
in force on 1 January, at the year's fleet power price and capacity, with the fleet's categories).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from minetax.forecast.assumptions import ForecastError
from minetax.tax import rates as law
from minetax.tax.schemes import Scheme

if TYPE_CHECKING:
    from minetax.forecast.fleet import FleetPaths

DEFAULT_ATTRIBUTES = {"connection": "grid", "energy_source": "coal", "metered": True, "licensed": True}


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


def _family_tax(s: Scheme, rate: np.ndarray, fleet: FleetPaths, energy: np.ndarray, value: np.ndarray,
                cost: np.ndarray) -> np.ndarray:
    """The scheme's tax (KZT) on its base at the given rate per year."""
    if s.family in ("per_kwh", "per_kwh_by_price"):
        return energy * rate
    if s.family == "per_kwh_foreign":
        if s.currency != "USD":
            raise ForecastError(f"scheme {s.scheme_id}: only USD-denominated foreign rates are forecast")
        return energy * rate * fleet.fx
    if s.family == "electricity_cost_share":
        return cost * rate
    if s.family == "mined_value_share":
        return value * rate
    if s.family == "income_tax":
        return np.maximum(0.0, value - cost) * rate
    raise ForecastError(f"scheme {s.scheme_id}: family {s.family} not supported in forecasts")


def taxes_for(schemes: list[Scheme], years: list[int], fleet: FleetPaths, energy: np.ndarray, value: np.ndarray,
              cost: np.ndarray, attrs: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Tax per scheme (KZT) for arrays broadcast over years (last axis), and the (rate, basis) per scheme and year."""
    out, rates = {}, {}
    subjects = fleet_subjects(years, fleet.elec_price, fleet.capacity_mw, attrs)
    with law.scratch() as con:
        for s in schemes:
            rates[s.scheme_id] = rates_by_year(con, s, subjects)
            out[s.scheme_id] = _family_tax(s, np.array([r for r, _ in rates[s.scheme_id]]), fleet, energy, value,
                                           cost)
    return out, rates


def _tax_per_kwh(schemes: list[Scheme], years: list[int], fleet: FleetPaths, value_per_kwh: np.ndarray,
                 attrs: dict) -> np.ndarray:
    """Total tax per kWh mined (KZT), for the behavioural test."""
    one = np.ones(len(years))
    taxes, _ = taxes_for(schemes, years, fleet, one, value_per_kwh, fleet.elec_price * one, attrs)
    total = np.zeros_like(value_per_kwh, dtype=float)
    for tax in taxes.values():
        total = total + tax
    return total
