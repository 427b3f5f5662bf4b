"""A scenario's assumptions as the model stage reads them: temp tables and parameters.

price_path(date, multiplier): the BTC price multiplier from each date on; share_assumed(country, date, low,
central, high, source): the country's hashrate share assumed from each date on (minetax.graph lists both as
inputs of sql/model/*.sql). model_params: the $parameters the model files declare.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # the scenario is defined with the schemes; the model does not import the tax stage
    from minetax.tax.schemes import Scenario

EVER = dt.date(1900, 1, 1)  # "from the beginning": a constant assumption


def write_assumption_tables(con: duckdb.DuckDBPyConnection, scenario: Scenario) -> None:
    """Temp tables the model SQL reads: price_path(date, multiplier), share_assumed(country, date, …)."""
    a = scenario.assumptions
    m = a.get("btc_price_multiplier", 1.0)
    path = sorted(m.items()) if isinstance(m, dict) else [(EVER, m)]
    con.execute("CREATE OR REPLACE TEMP TABLE price_path (date DATE, multiplier DOUBLE)").fetchall()
    con.executemany("INSERT INTO price_path (date, multiplier) VALUES (?, ?)", [[d, float(v)] for d, v in path])
    con.execute("CREATE OR REPLACE TEMP TABLE share_assumed (country VARCHAR, date DATE, low DOUBLE, "
                "central DOUBLE, high DOUBLE, source VARCHAR)").fetchall()
    hs = a.get("hashrate_share") or {}
    rows = [[hs["country"], d, v["low"], v["central"], v["high"], v.get("source")]
            for d, v in sorted((hs.get("assumed") or {}).items())]
    if hs and not rows:  # observed shares only
        rows = [[hs["country"], EVER, None, None, None, None]]
    if rows:
        con.executemany("INSERT INTO share_assumed (country, date, low, central, high, source) "
                        "VALUES (?, ?, ?, ?, ?, ?)", rows)


def model_params(run_id: str, scenario: Scenario) -> dict:
    """The scenario's parameters of sql/model/*.sql (PUE band, efficiency series, fx pair, unmetered band)."""
    a = scenario.assumptions
    pue = a.get("pue", {})
    band = a.get("unmetered_energy_band", {"low": 0.8, "high": 1.1})
    return {"run_id": run_id, "scenario_id": scenario.scenario_id, "pue_low": float(pue.get("low", 1.01)),
            "pue_central": float(pue.get("central", 1.10)), "pue_high": float(pue.get("high", 1.20)),
            "fx_pair": a.get("fx_pair", "USD/KZT"), "efficiency": a.get("efficiency", "estimated"),
            "band_low": float(band["low"]), "band_high": float(band["high"]),
            # kWh by farm and day are kept (model.farm_day_energy) only for schemes with suspension windows, their
            # one reader; a scheme that gains windows changes the scenario's version, so every month is remodelled
            "days": any("suspensions" in s.parameters for s in scenario.schemes)}
