"""The model stage over a window of months: farm × month and country × month (sql/model/, run by minetax.graph).

Inside the caller's transaction: the scenario's assumption tables, the readings of the window (temp view
window_readings over the segments that may hold them), then every file of the model stage in graph order.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb

from minetax import graph
from minetax.load import segments
from minetax.model.assumptions import model_params, write_assumption_tables

if TYPE_CHECKING:  # the scenario is defined with the schemes; the model does not import the tax stage
    from minetax.tax.schemes import Scenario


def run(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, m_from: dt.date, m_to: dt.date) -> list[str]:
    """Recompute model.farm_month and model.country_month for months m_from..m_to (first days). Returns the files
    run, in order."""
    write_assumption_tables(con, scenario)
    segments.window_view(con, m_from, m_to + dt.timedelta(days=32))  # past the last month's end
    # issue 17: readings by hour and day (sql/model/farm_month_hour.sql) only for a scheme that needs them
    profiles = any(s.family == "per_kwh_time_of_use" or "suspensions" in s.parameters for s in scenario.schemes)
    return graph.run(con, "model", {**model_params(run_id, scenario), "m_from": m_from, "m_to": m_to,
                                    "profiles": profiles})
