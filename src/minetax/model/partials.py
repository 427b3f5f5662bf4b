"""Map, then reduce: the readings of a run's months as map tasks over the partitions, whose partials the model unions.

`plan` (in the run's process, on the warehouse) groups the partitions of the months a run recomputes into map tasks:
the partitions of one month in bucket order, a task taking partitions until it holds TASK_ROWS readings, and at
least buckets / MONTH_TASKS of them (so a month is at most MONTH_TASKS tasks). So a task
never spans two months (a new month leaves every other month's tasks, and their keys, as they were), a warehouse of
100M readings over three years has one task a month, and 1 billion a few hundred (Prefect's scheduling stalls past
about 2,000 tasks; a task costs 30 ms of Prefect and one DuckDB connection). A task's key is a hash of what it
reads (its partition files, the readings later files replaced in them, the partial's format): its partial is
_partials/<key>.parquet in the readings store. A task whose partial exists is not planned again (unchanged
partitions are not recomputed), and a task run twice (Dask re-runs the tasks of a lost worker) writes the same file
again, atomically: nothing changes.

`run_task` (anywhere: in process, or a Dask worker through flows/) opens DuckDB in memory with capped threads and
memory (so that Dask does not kill its worker for DuckDB's memory, which it cannot see), reads the task's
partitions from the store, checks the per-farm rules across files where a partition holds more than one file
(sql/map/partial_checks.sql) and writes the partial (sql/map/partial_energy.sql). It returns a small summary, or
the error with the partition and file named; it never raises, so the reduce decides.

`reduce` (in the run's process) refuses the run if a task failed or broke a rule, naming the partition and files,
and registers the tasks' partials as map_partials, which sql/model/farm_month.sql reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from minetax import db
from minetax.errors import MinetaxError
from minetax.faults import crashpoint
from minetax.load import partitions
from minetax.storage import Store

TASK_ROWS = 8_000_000  # readings per map task, at most (unless one partition holds more, or MONTH_TASKS binds)
MONTH_TASKS = 32  # map tasks a month, at most: a task takes at least buckets / MONTH_TASKS partitions, so 100B readings
# over three years (256 buckets of 10.9M readings) make 1,152 tasks, not 9,216 (Prefect stalls past about 2,000)
PARTIAL_FORMAT = "2"  # bump when sql/map/partial_energy.sql or partial_hours.sql change what a partial holds
MEMORY_ENV, THREADS_ENV = "MINETAX_TASK_MEMORY", "MINETAX_TASK_THREADS"


@dataclass(frozen=True)
class MapTask:
    """One map task: what it reads and where it writes; small and picklable (sent to Dask workers)."""

    key: str
    store: str  # the readings store's URL
    files: tuple[str, ...]  # its partition files, relative to the store
    partitions: tuple[str, ...]  # their names, bucket=B/ym=YYYYMM
    segments: int  # loaded files among them (the cross-file rules run when > 1)
    rows: int
    replaced: tuple[tuple[str, str, str], ...] = ()  # (farm_id, ts_start ISO, segment) replaced by later files
    memory_limit: str = "1GB"
    threads: int = 1
    hours: bool = False  # also the hours partial (time-of-use schemes in the scenario)
    temp_directory: str | None = None  # where DuckDB spills beyond memory_limit (a Dask worker's own folder)

    @property
    def partial(self) -> str:
        return f"_partials/{self.key}.parquet"

    @property
    def partial_hours(self) -> str:
        return f"_partials/{self.key}-hours.parquet"

    @property
    def label(self) -> str:
        return ", ".join(self.partitions[:3]) + (f" and {len(self.partitions) - 3} more" if len(self.partitions) > 3
                                                 else "")


@dataclass
class MapResult:
    key: str
    partial: str
    partitions: tuple[str, ...]
    files: tuple[str, ...]
    rows: int = 0
    kwh: float = 0.0
    seconds: float = 0.0
    cached: bool = False
    findings: list[dict[str, Any]] = field(default_factory=list)  # rules broken: rule, info, readings, examples
    error: str | None = None


Mapper = Callable[[Sequence[MapTask]], list[MapResult]]


def limits(threads: int | None = None) -> tuple[str, int]:
    """DuckDB's memory limit and threads for one map task (MINETAX_TASK_MEMORY, MINETAX_TASK_THREADS)."""
    memory = os.environ.get(MEMORY_ENV, "1GB")
    t = os.environ.get(THREADS_ENV)
    return memory, int(t) if t else (threads or os.cpu_count() or 1)


def plan(con: duckdb.DuckDBPyConnection, home: Path, m_from: dt.date, m_to: dt.date, threads: int | None = None,
         hours: bool = False) -> tuple[list[MapTask], list[MapTask]]:
    """The map tasks of months m_from..m_to (first days): (all of them, those whose partial is missing). `hours`:
    the hours partials are needed too (a time-of-use scheme): a task whose hours partial is missing runs."""
    rows = con.execute(db.statement("map/plan_partitions.sql"), [m_from, m_to]).fetchall()
    store = partitions.store_of(con, home)
    memory, n_threads = limits(threads)
    found = partitions.layout(con)
    at_least = math.ceil((found[0] if found else 1) / MONTH_TASKS)  # partitions a task takes, at least
    tasks: list[MapTask] = []
    group: list[tuple] = []
    for row in rows:  # (bucket, month, files, segments, rows), in (month, bucket) order
        if group and (row[1] != group[0][1]
                      or (sum(g[4] for g in group) + row[4] > TASK_ROWS and len(group) >= at_least)):
            tasks.append(_task(con, store, group, memory, n_threads, hours))
            group = []
        group.append(row)
    if group:
        tasks.append(_task(con, store, group, memory, n_threads, hours))
    return tasks, [t for t in tasks if not store.exists(t.partial) or (hours and not store.exists(t.partial_hours))]


def collect(con: duckdb.DuckDBPyConnection, home: Path) -> int:
    """Delete the partials that no task of the warehouse's partitions reads any more (a month whose readings a later
    file replaced has a new key; its old partial would stay forever). A partial is a cache keyed by content: one
    deleted in error is only computed again. Run by the model after its map, in the run holding the lock; files
    being written (hidden temporary names) are never listed. Returns how many were deleted."""
    tasks, _ = plan(con, home, dt.date(1900, 1, 1), dt.date(2999, 12, 1))
    keep = {t.partial for t in tasks} | {t.partial_hours for t in tasks}
    store = partitions.store_of(con, home)
    stale = [rel for rel in store.list("_partials/") if rel not in keep]
    for rel in stale:
        store.delete(rel)
    return len(stale)


def _task(con: duckdb.DuckDBPyConnection, store: Store, group: list[tuple], memory: str, threads: int,
          hours: bool) -> MapTask:
    files = tuple(f for g in group for f in g[2])
    names = tuple(f"bucket={b}/ym={m:%Y%m}" for b, m, *_ in group)
    replaced = tuple((r[0], r[1].isoformat(sep=" "), r[2]) for r in con.execute(
        db.statement("map/plan_replaced.sql"), [[f for g in group for f in g[2]]]).fetchall())
    digest = hashlib.sha256(json.dumps([PARTIAL_FORMAT, files, replaced]).encode()).hexdigest()
    segments = max(g[3] for g in group)
    return MapTask(digest, store.url, files, names, segments, sum(g[4] for g in group), replaced, memory, threads,
                   hours)


def run_task(task: MapTask, con: duckdb.DuckDBPyConnection | None = None) -> MapResult:
    """Run one map task (see the module's text). `con`: an in-memory connection to reuse (in process)."""
    t0 = time.perf_counter()
    result = MapResult(task.key, task.partial, task.partitions, task.files)
    own = con is None
    config: dict[str, str | bool | int | float | list[str]] = {"threads": task.threads,
                                                               "memory_limit": task.memory_limit}
    if task.temp_directory:
        config["temp_directory"] = task.temp_directory
    c = duckdb.connect(config=config) if own else con
    assert c is not None
    try:
        crashpoint("map:task")
        store = Store.open(task.store)
        store.readings_relation(c, list(task.files), "task_readings")
        c.execute("CREATE OR REPLACE TEMP TABLE task_replaced (farm_id VARCHAR, ts_start TIMESTAMP, "
                  "segment VARCHAR)").fetchall()
        if task.replaced:
            c.executemany("INSERT INTO task_replaced VALUES (?, CAST(? AS TIMESTAMP), ?)", list(task.replaced))
        db.run_file(c, "map/task_rows.sql")
        if task.segments > 1:
            cols = ("rule", "info", "readings", "examples")
            result.findings = [dict(zip(cols, r, strict=True))
                               for r in c.execute(db.statement("map/partial_checks.sql")).fetchall()]
        if task.hours:
            store.write_parquet(c, db.statement("map/partial_hours.sql"), task.partial_hours)
        store.write_parquet(c, db.statement("map/partial_energy.sql"), task.partial)
        store.relation(c, [task.partial], "task_partial")  # the partial just written (small): its readings and kWh
        kwh, readings = c.execute("SELECT coalesce(sum(kwh), 0), coalesce(sum(readings), 0) FROM task_partial"
                                  ).fetchall()[0]
        result.kwh, result.rows = float(kwh), int(readings)
    except Exception as e:  # a broken or missing partition file: named by the reduce, with the task's files
        result.error = f"{type(e).__name__}: {e}"
    finally:
        if own:
            c.close()
    result.seconds = time.perf_counter() - t0
    return result


def run_local(tasks: Sequence[MapTask]) -> list[MapResult]:
    """The default mapper: every task in this process, one after another, each with all cores."""
    with duckdb.connect() as con:
        if tasks:
            con.execute(f"SET threads = {tasks[0].threads}").fetchall()
            con.execute(f"SET memory_limit = '{tasks[0].memory_limit}'").fetchall()
        return [run_task(t, con) for t in tasks]


class PartitionError(MinetaxError):
    """A map task failed or found readings that break a per-farm rule: the run is refused, nothing published."""


def reduce(con: duckdb.DuckDBPyConnection, home: Path, tasks: Sequence[MapTask], results: Sequence[MapResult]
           ) -> None:
    """Check the map's results and register the partials of `tasks` as map_partials and map_partial_hours (empty
    relations when there are none)."""
    by_key = {r.key: r for r in results}
    missing = [t for t in tasks if t.key not in by_key and not partitions.store_of(con, home).exists(t.partial)]
    problems = [_problem(r) for r in results if r.error or any(not f["info"] for f in r.findings)]
    problems += [f"partition {t.label}: no result from its map task (files {', '.join(t.files)})" for t in missing]
    if problems:
        raise PartitionError("the map over the readings partitions failed; nothing was published:\n  - "
                             + "\n  - ".join(problems))
    if not tasks:
        db.run_file(con, "map/map_partials_empty.sql")
        return
    store = partitions.store_of(con, home)
    store.relation(con, [t.partial for t in tasks], "map_partials")
    if all(t.hours for t in tasks):
        store.relation(con, [t.partial_hours for t in tasks], "map_partial_hours")
    else:  # no time-of-use scheme: no hours partials, the empty relation (the second statement of the file)
        con.execute(db.statements(db.sql_text("map/map_partials_empty.sql"))[1]).fetchall()


def _problem(r: MapResult) -> str:
    files = ", ".join(r.files[:4]) + (f" and {len(r.files) - 4} more" if len(r.files) > 4 else "")
    where = f"partition {', '.join(r.partitions[:3])}{' …' if len(r.partitions) > 3 else ''} (files {files})"
    if r.error:
        return f"{where}: the map task failed: {r.error}"
    broken = [f for f in r.findings if not f["info"]]
    return where + ": " + "; ".join(f"{f['rule']}: {f['readings']} readings, e.g. {'; '.join(f['examples'][:3])}"
                                    for f in broken)
