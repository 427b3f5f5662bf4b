"""The Kazakh fleet: its deterministic paths from the forecast file (capacity, utilisation, efficiency, power price,
exchange rate, fees); its response to the market and the taxes is in minetax.forecast.response."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from minetax.forecast.assumptions import Forecast, ForecastError, value_of, year_map, year_series
from minetax.forecast.history import Data

HOURS_PER_YEAR = 8760.0


def capacity_path(fc: Forecast, years: list[int]) -> np.ndarray:
    """Installed MW by year: the given path where it has the year, else the previous year + investment / capex."""
    cap = fc.doc["fleet"]["capacity_mw"]
    path = year_map(cap["path"], "fleet.capacity_mw.path")
    invest = year_map(cap["investment_kzt"], "fleet.capacity_mw.investment_kzt") if cap.get("investment_kzt") else {}
    capex = float(value_of(cap.get("capex_kzt_per_mw", 0)) or 0)
    if invest and capex <= 0:
        raise ForecastError("forecast refused: fleet.capacity_mw: investment needs capex_kzt_per_mw > 0")
    first = min(path)
    mw: dict[int, float] = {}
    for y in range(first, max(max(years), first) + 1):
        if y in path:
            mw[y] = path[y]
        else:
            mw[y] = mw[y - 1] + (invest.get(y, 0.0) / capex if invest else 0.0)
    return np.array([mw.get(y, path[first]) for y in years], dtype=float)


def efficiency_path(fc: Forecast, years: list[int]) -> np.ndarray:
    """Fleet J/TH by year: base value in its year, improving by `improvement` (share) a year."""
    e = fc.doc["fleet"]["efficiency_j_per_th"]
    base, base_year = float(value_of(e["base"])), int(value_of(e["base_year"]))
    imp = float(value_of(e["improvement_per_year"]))
    return np.array([base * (1 - imp) ** (y - base_year) for y in years], dtype=float)


@dataclass
class FleetPaths:
    years: list[int]
    capacity_mw: np.ndarray
    utilisation: np.ndarray
    j_per_th: np.ndarray
    pue: np.ndarray
    elec_price: np.ndarray  # KZT/kWh
    fx: np.ndarray  # KZT per USD
    fees_share: np.ndarray  # fees as a share of subsidy issuance

    @property
    def energy_kwh(self) -> np.ndarray:
        return self.capacity_mw * 1000 * HOURS_PER_YEAR * self.utilisation

    @property
    def hashrate_ths(self) -> np.ndarray:
        return self.capacity_mw * 1e6 * self.utilisation / (self.j_per_th * self.pue)


def fx_path(fc: Forecast, data: Data, years: list[int]) -> np.ndarray:
    """KZT per USD by year: the last USD/KZT rate in the history changing by `annual_change` a year ('last'),
    or the file's own value or path."""
    last_fx = float(data.fx["kzt_per_usd"].iloc[-1]) if not data.fx.empty else None
    fx_node = fc.doc["fx"]
    if isinstance(fx_node, dict) and value_of(fx_node.get("model", "last")) == "last":
        change = float(value_of(fx_node.get("annual_change", 0.0)) or 0.0)
        if last_fx is None:
            raise ForecastError("no USD/KZT data up to the cut-off")
        last_year = data.fx["date"].iloc[-1].year
        return np.array([last_fx * (1 + change) ** max(0, y - last_year) for y in years])
    return year_series(fx_node, years, "fx")


def fleet_paths(fc: Forecast, data: Data, years: list[int]) -> FleetPaths:
    f, d = fc.doc["fleet"], fc.doc
    return FleetPaths(years, capacity_path(fc, years), year_series(f["utilisation"], years, "fleet.utilisation"),
                      efficiency_path(fc, years), year_series(f["pue"], years, "fleet.pue"),
                      year_series(f["electricity_price_kzt_per_kwh"], years, "fleet.electricity_price_kzt_per_kwh"),
                      fx_path(fc, data, years),
                      year_series(d["network"]["fees_share_of_issuance"], years, "network.fees_share_of_issuance"))


def shifted(fleet: FleetPaths, shifts: dict | None) -> FleetPaths:
    """The fleet with assumptions moved for the tornado: capacity and kz_share (the fleet's hashrate, through its
    utilisation) as factors, electricity_price as a factor on the KZT/kWh path."""
    if not shifts:
        return fleet
    return replace(fleet, capacity_mw=fleet.capacity_mw * float(shifts.get("capacity", 1.0)),
                   utilisation=fleet.utilisation * float(shifts.get("kz_share", 1.0)),
                   elec_price=fleet.elec_price * float(shifts.get("electricity_price", 1.0)))
