"""The fleet's response to a year's market and taxes: energy, mined value, power cost and taxes per draw, and, with
behaviour on, the share of sites that keep mining (those whose price plus tax per kWh the mined value covers)."""

from __future__ import annotations

import math

import numpy as np

from minetax.forecast.assumptions import Forecast, value_of
from minetax.forecast.fleet import FleetPaths
from minetax.forecast.rates import DEFAULT_ATTRIBUTES, _tax_per_kwh, fleet_taxes


def _phi(x: np.ndarray) -> np.ndarray:
    """Standard normal distribution function."""
    return 0.5 * (1.0 + np.vectorize(math.erf)(np.asarray(x, dtype=float) / math.sqrt(2.0)))


def _profitable_share(limit: np.ndarray, mean_price: np.ndarray, cv: float) -> tuple[np.ndarray, np.ndarray]:
    """For site prices p ~ lognormal(mean mean_price, coefficient of variation cv): the share of sites with
    p <= limit, and their mean price E[p | p <= limit] (the fleet price where no site mines)."""
    s2 = math.log1p(cv * cv)
    s = math.sqrt(s2)
    m = np.log(mean_price) - s2 / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.where(limit > 0, limit, 1.0)) - m) / s
        share = np.where(limit > 0, _phi(z), 0.0)
        lower = mean_price * _phi(z - s)
        price = np.where(share > 0, lower / np.where(share > 0, share, 1.0), mean_price)
    return share, price


def fleet_outcome(fc: Forecast, fleet: FleetPaths, coins: np.ndarray, price_usd: np.ndarray, years: list[int]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], dict,
                             dict[str, np.ndarray]]:
    """Energy, value, cost, the mining flag, taxes, rates (runs × years) for given coins/prices, and the tax lost
    to suspension windows per scheme (runs × years; empty when no window takes activity away): the tax the same
    fleet, mining as it does, would pay if the windows' days were mined too, less the tax it pays."""
    attrs = {**DEFAULT_ATTRIBUTES, **{k: value_of(v) for k, v in (fc.doc["fleet"].get("attributes") or {}).items()}}
    value = coins * price_usd * fleet.fx
    energy = np.broadcast_to(fleet.energy_kwh, value.shape).astype(float)
    cost = energy * fleet.elec_price
    mining = np.ones_like(value)
    behaviour = bool(value_of(fc.doc.get("behaviour", False)))  # also: no activity inside suspension windows
    if behaviour:
        with np.errstate(divide="ignore", invalid="ignore"):
            vpk = np.where(energy > 0, value / np.where(energy > 0, energy, 1), 0.0)
        tpk = _tax_per_kwh(fc.schemes, years, fleet, vpk, attrs, suspend=True, law_as_of=fc.law_as_of)
        spread = float(value_of(fc.doc.get("site_price_spread", 0.0)))
        if spread > 0:
            # sites pay different prices (lognormal around the fleet price, coefficient of variation `spread`):
            # the share of capacity whose price + tax per kWh is covered keeps mining, at its own lower prices
            mining, site_price = _profitable_share(vpk - tpk, fleet.elec_price * np.ones_like(vpk), spread)
            cost = energy * mining * site_price
        else:
            mining = np.where(vpk < fleet.elec_price + tpk, 0.0, 1.0)
            cost = cost * mining
        value, energy = value * mining, energy * mining
    res = fleet_taxes(fc.schemes, years, fleet, energy, value, cost, attrs, suspend=behaviour, law_as_of=fc.law_as_of)
    act = res.active  # the year's activity outside suspension windows (1 without)
    lost: dict[str, np.ndarray] = {}
    if np.any(act < 1):  # the windows took activity away: what their days would have paid
        full = fleet_taxes(fc.schemes, years, fleet, energy, value, cost, attrs, law_as_of=fc.law_as_of)
        lost = {sid: full.taxes[sid] - res.taxes[sid] for sid in res.taxes}
    return energy * act, value * act, cost * act, mining * act, res.taxes, res.rates, lost
