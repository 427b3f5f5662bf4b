"""The model stage over a window of months: farm × month and country × month (sql/model/, run by minetax.graph).

Inside the caller's transaction: the scenario's assumption tables, the map over the readings partitions of the
window (minetax.model.partials: in this process, or on a cluster through the caller's mapper) and its partials as
map_partials and map_partial_hours, then every file of the model stage in graph order. No model file reads the
readings themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from typing import TYPE_CHECKING

import duckdb

from minetax import graph, version
from minetax.load import segments
from minetax.model import partials
from minetax.model.assumptions import model_params, write_assumption_tables

if TYPE_CHECKING:  # the scenario is defined with the schemes; the model does not import the tax stage
    from minetax.tax.schemes import Scenario


def model_version(con: duckdb.DuckDBPyConnection, scenario: Scenario, hours: bool) -> str:
    """What the model rows of a scenario depend on besides the data: the model files' parameters (not the run or
    the scenario's name), the assumption tables they read (price_path, share_assumed: written first), the hours
    switch and the code. Two scenarios of one version (a reform of the tax only) have the same model rows."""
    params = {k: v for k, v in model_params("", scenario).items() if k not in ("run_id", "scenario_id")}
    tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("price_path", "share_assumed")}
    text = json.dumps([params, tables, hours, str(version.current())], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _donor(con: duckdb.DuckDBPyConnection, scenario_id: str, wanted: str) -> str | None:
    """Another scenario whose model rows are current (made for `wanted`, no input changed since), if any."""
    rows = con.execute("SELECT scenario_id FROM meta.model_state WHERE model_version = ? AND scenario_id <> ? AND "
                       "change_seq = (SELECT coalesce(max(seq), 0) FROM meta.changes) ORDER BY updated_at DESC "
                       "LIMIT 1", [wanted, scenario_id]).fetchall()
    return rows[0][0] if rows else None


def save_state(con: duckdb.DuckDBPyConnection, scenario: Scenario, wanted: str) -> None:
    """Record the model the scenario's rows now reflect (after a run that brought the whole scenario up to date)."""
    con.execute("INSERT OR REPLACE INTO meta.model_state VALUES (?, ?, (SELECT coalesce(max(seq), 0) FROM "
                "meta.changes), ?)", [scenario.scenario_id, wanted, dt.datetime.now()]).fetchall()


def run(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, m_from: dt.date, m_to: dt.date,
        mapper: partials.Mapper | None = None, stats: dict | None = None) -> tuple[list[str], str]:
    """Recompute model.farm_month and model.country_month for months m_from..m_to (first days); `mapper` runs the
    map tasks (None: in this process); `stats` gets the map's figures (tasks, run, seconds), and `copied_from` when
    the rows were copied from another scenario of the same model (sql/model/model_copy.sql: a reform of the tax
    only reads neither the readings nor the partials). Returns the files run, in order, and the model version."""
    write_assumption_tables(con, scenario)
    hours = any(s.family == "per_kwh_time_of_use" for s in scenario.schemes)  # hours partials only for those
    wanted = model_version(con, scenario, hours)
    donor = _donor(con, scenario.scenario_id, wanted)
    if donor is not None:
        graph.run_file(con, "model/model_copy.sql", {"run_id": run_id, "scenario_id": scenario.scenario_id,
                                                     "donor": donor, "m_from": m_from, "m_to": m_to})
        graph.run_file(con, "model/readings_total.sql")
        if stats is not None:
            stats.update(tasks=0, run=0, seconds=0.0, task_seconds=0.0, rows=0, copied_from=donor)
        return ["model/model_copy.sql", "model/readings_total.sql"], wanted
    home = segments.home_of(con)
    t0 = time.perf_counter()
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
    return done, wanted
