"""The model stage over a window of months: farm × month and country × month (sql/model/, run by minetax.graph).

Inside the caller's transaction: the scenario's assumption tables, the map over the readings partitions of the
window (minetax.model.partials: in this process, or on a cluster through the caller's mapper) and its partials as
map_partials and map_partial_hours, then every file of the model stage in graph order. No model file reads the
readings themselves.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

import duckdb

from minetax import graph
from minetax.load import segments
from minetax.model import partials
from minetax.model.assumptions import model_params, write_assumption_tables

if TYPE_CHECKING:  # the scenario is defined with the schemes; the model does not import the tax stage
    from minetax.tax.schemes import Scenario


def run(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, m_from: dt.date, m_to: dt.date,
        mapper: partials.Mapper | None = None, stats: dict | None = None) -> list[str]:
    """Recompute model.farm_month and model.country_month for months m_from..m_to (first days); `mapper` runs the
    map tasks (None: in this process); `stats` gets the map's figures (tasks, run, seconds). Returns the files run,
    in order."""
    write_assumption_tables(con, scenario)
    home = segments.home_of(con)
    t0 = time.perf_counter()
    hours = any(s.family == "per_kwh_time_of_use" for s in scenario.schemes)  # hours partials only for those
    tasks, todo = partials.plan(con, home, m_from, m_to, hours=hours)
    results = (mapper or partials.run_local)(todo)
    partials.reduce(con, home, tasks, results)
    if stats is not None:
        stats.update(tasks=len(tasks), run=len(todo), seconds=time.perf_counter() - t0,
                     task_seconds=sum(r.seconds for r in results), rows=sum(t.rows for t in todo))
    done = graph.run(con, "model", {**model_params(run_id, scenario), "m_from": m_from, "m_to": m_to})
    if todo:  # new partials: some may stand for partitions a later file changed (the model has read what it needs)
        deleted = partials.collect(con, home)
        if stats is not None:
            stats["partials_deleted"] = deleted
    return done
