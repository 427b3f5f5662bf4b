"""The run, step by step, without Prefect: begin → ingest → estimate → publish (flows/ orchestrates these).

A run is all or nothing. `begin` takes the home's run lock and opens the warehouse once; the connection is kept for
the whole run. `ingest` and `estimate` work in ONE transaction: inputs are merged into core, the model and the
tax estimates are recomputed and the output suites run, and only when every input suite and every output check has
passed does `publish` commit it and swap in the new snapshot. Any failure rolls the transaction back, so core,
model, tax and the readings manifest are exactly as before; then the failure itself (inputs, quarantine,
validation results, the run's status and message) is recorded outside that transaction, for inspection.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from minetax import db, interrupts, warehouse
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.faults import crashpoint
from minetax.load import ingest as ing
from minetax.model.partials import Mapper
from minetax.publish import runlog, runs
from minetax.publish import snapshot as pub
from minetax.runlock import RunLock
from minetax.tax import estimate as est
from minetax.tax.schemes import Scenario, load_scenario
from minetax.validate import docs
from minetax.validate.suites import Report

Progress = Callable[[str], None] | None


@dataclass
class Stage:
    """One step of a run as it went, for the caller to show (flows/ logs it): its name (ingest, estimate, publish),
    wall time, and for estimate the months it recomputed (as meta.runs.periods says)."""
    name: str
    seconds: float = 0.0
    periods: str | None = None
    map: dict | None = None  # estimate: the map over the readings partitions (tasks, run, seconds; see partials)


@dataclass
class RunContext:
    settings: Settings
    scenario: Scenario
    run_id: str
    con: duckdb.DuckDBPyConnection | None = None
    lock: RunLock | None = None
    in_transaction: bool = False
    files: list[ing.InputFile] = field(default_factory=list)  # what ingest took (recorded when the run ends)
    reports: list[Report] = field(default_factory=list)  # validation reports of inputs and outputs
    stages: list[Stage] = field(default_factory=list)  # each step that ran, in order (a backfill: one per chunk)
    mapper: Mapper | None = None  # runs the map tasks (flows/: on a Dask cluster); None: in this process

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The warehouse, open from `begin` until the run is published or has failed."""
        if self.con is None:
            raise MinetaxError(f"run {self.run_id}: the warehouse is already closed")
        return self.con

    def begin_transaction(self) -> None:
        if not self.in_transaction:
            self.connection.execute("BEGIN TRANSACTION").fetchall()
            self.in_transaction = True

    def commit(self) -> None:
        if self.in_transaction:
            self.connection.execute("COMMIT").fetchall()
            self.in_transaction = False

    def rollback(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            self.connection.execute("ROLLBACK").fetchall()

    def close(self) -> None:
        """Roll back whatever is not committed, close the warehouse and release the run lock (idempotent)."""
        try:
            if self.con is not None:
                try:
                    self.rollback()
                finally:
                    self.con.close()
        finally:
            self.con = None
            if self.lock is not None:
                self.lock.release()
                self.lock = None


@contextmanager
def _timed(ctx: RunContext, name: str) -> Iterator[Stage]:
    """Record a step on ctx.stages with its wall time (also when it fails)."""
    stage = Stage(name)
    ctx.stages.append(stage)
    t0 = time.perf_counter()
    try:
        yield stage
    finally:
        stage.seconds = time.perf_counter() - t0


def begin(settings: Settings, scenario_id: str, flow_run_id: str | None = None) -> RunContext:
    """Check the scenario and its schemes (refused before anything runs), take the run lock, record the run."""
    scenario = load_scenario(scenario_id, settings.scenarios_dir, settings.schemes_dir)
    settings.ensure()
    lock = RunLock.acquire(settings.home)
    ctx = RunContext(settings, scenario, runs.new_run_id(), lock=lock)
    try:
        ctx.con = con = warehouse.connect(settings.warehouse_path)
        runs.mark_crashed(con, settings.published_path)
        runs.start(con, ctx.run_id, scenario_id, str(settings.data_dir),
                   {"scenario": scenario_id, "home": str(settings.home), "schemes_dir": str(settings.schemes_dir),
                    "assumptions": scenario.assumptions}, flow_run_id)
        runs.record_schemes(con, ctx.run_id, scenario)
        runlog.write(settings, runs.summary(con, ctx.run_id))
    except BaseException:
        ctx.close()
        raise
    crashpoint("begin:recorded")
    return ctx


def ingest(ctx: RunContext, progress: Progress = None) -> list[ing.InputFile]:
    """Stage, validate and merge every input (inside the run's transaction, not committed)."""
    ctx.begin_transaction()
    with _timed(ctx, "ingest"), interrupts.active(ctx.connection):
        ctx.files, reports = ing.load_inputs(ctx.connection, ctx.settings, ctx.run_id, progress)
    ctx.reports += reports
    crashpoint("ingest:merged-all")
    return ctx.files


def estimate(ctx: RunContext, progress: Progress = None, window: tuple[dt.date, dt.date] | None = None) -> None:
    """Recompute model and tax for the months that need it and run the output suites (inside the transaction)."""
    ctx.begin_transaction()
    with _timed(ctx, "estimate") as stage, interrupts.active(ctx.connection):
        stage.map = {}
        ctx.reports += est.estimate(ctx.connection, ctx.run_id, ctx.scenario, progress, window, ctx.mapper, stage.map)
        query = "SELECT periods FROM meta.runs WHERE run_id = ?"
        stage.periods = ctx.connection.execute(query, [ctx.run_id]).fetchall()[0][0]


def commit(ctx: RunContext) -> None:
    """Make the run's changes to core, model and tax permanent, with the records of its inputs and checks."""
    ing.record_inputs(ctx.connection, ctx.run_id, ctx.files)
    for r in ctx.reports:
        ing.record_validation(ctx.connection, ctx.run_id, r)
    ctx.commit()
    docs.record(ctx.settings, ctx.run_id, ctx.reports)  # in Great Expectations' result format, for Data Docs
    ctx.reports = []
    crashpoint("run:committed")


def publish(ctx: RunContext, progress: Progress = None, snapshot: bool = True) -> Path:
    """Commit the run (every check passed), then write and swap in the published snapshot; release the lock.
    snapshot=False: commit only; the caller writes one snapshot after several runs (`minetax compare`), which
    shows this run as succeeded (if that snapshot is never written, the next run's snapshot has the estimates)."""
    if progress:
        progress("publishing snapshot" if snapshot else "committing")
    try:
        with _timed(ctx, "publish"):
            commit(ctx)
            con = ctx.connection
            if not snapshot:
                runs.finish(con, ctx.run_id, "succeeded")
                runlog.write(ctx.settings, runs.summary(con, ctx.run_id))
                return ctx.settings.published_path
            runs.finish(con, ctx.run_id, "publishing")  # the snapshot shows it as succeeded
            try:
                with interrupts.active(con):
                    path = pub.publish(con, ctx.settings, ctx.run_id)
            except BaseException as e:
                runs.finish(con, ctx.run_id, "failed", "the checked estimates are stored in the warehouse but could "
                            f"not be published ({_reason(e)}); the next run publishes them without recomputing")
                raise
            runs.finish(con, ctx.run_id, "succeeded")
            runlog.write(ctx.settings, runs.summary(con, ctx.run_id))
        return path
    finally:
        ctx.close()


def _reason(e: BaseException) -> str:
    if isinstance(e, KeyboardInterrupt):
        return "interrupted"
    return str(e).splitlines()[0][:300] if str(e) else type(e).__name__


def fail(ctx: RunContext, error: BaseException) -> None:
    """Roll the run back, then record why it failed: its inputs (quarantined, or not loaded because the run was
    refused), the validation results, and the run's status. Never raises over the original error."""
    con = ctx.con
    if con is None:  # published already, or closed: only the run log can still be told
        return
    reports = [*ctx.reports, *getattr(error, "reports", [])]
    try:
        ctx.rollback()
        files = getattr(error, "files", None) or ctx.files
        for f in files:
            if f.status == "loaded":
                f.status = "not_loaded"  # valid, but the run that took it did not commit
        ing.record_inputs(con, ctx.run_id, files)
        for r in reports:
            ing.record_validation(con, ctx.run_id, r)
        ing.record_quarantine(con, ctx.run_id, getattr(error, "rejected", []))
        status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        runs.finish(con, ctx.run_id, status, _message(error))
        runlog.write(ctx.settings, runs.summary(con, ctx.run_id))
    except (duckdb.Error, OSError, MinetaxError):
        pass  # e.g. the disk is full: the rollback happened; the original error is what the user needs
    finally:
        ctx.close()
        # the results as Great Expectations' JSON (milliseconds); the pages are rendered by whoever shows them
        # (`minetax run` after a refused run, the flow's artifacts, `minetax docs`), not inside the run
        docs.record(ctx.settings, ctx.run_id, reports)


def _message(error: BaseException) -> str:
    if isinstance(error, KeyboardInterrupt):
        return "interrupted; rolled back, nothing was changed"
    return (str(error) or type(error).__name__)[:4000]


def run(settings: Settings, scenario_id: str, progress: Progress = None,
        flow_run_id: str | None = None) -> tuple[RunContext, Path]:
    """The whole run in one call (used by the flow's tasks in order, and by tests without Prefect)."""
    ctx = begin(settings, scenario_id, flow_run_id)
    try:
        ingest(ctx, progress)
        estimate(ctx, progress)
        return ctx, publish(ctx, progress)
    except BaseException as e:
        fail(ctx, e)
        raise


Chunk = tuple[dt.date, dt.date]  # first days of the first and last month of a tax period


def backfill_chunks(scenario: Scenario, m_from: dt.date, m_to: dt.date) -> list[Chunk]:
    """Whole tax periods of the scenario's coarsest scheme covering [m_from, m_to], in order."""
    lo, hi = est.whole_periods(m_from, m_to, scenario)
    n = max(est.PERIOD_MONTHS[s.tax_period] for s in scenario.schemes)
    chunks: list[Chunk] = []
    start = lo
    while start <= hi:
        m = start.month - 1 + n
        nxt = start.replace(year=start.year + m // 12, month=m % 12 + 1)
        last = m - 1
        chunks.append((start, start.replace(year=start.year + last // 12, month=last % 12 + 1)))
        start = nxt
    return chunks


def _backfill_done(con: duckdb.DuckDBPyConnection, backfill_id: str, chunks: list[Chunk]) -> set[dt.date]:
    query = "SELECT chunk_start FROM meta.backfills WHERE backfill_id = ? AND status = 'done'"
    done = {r[0] for r in con.execute(query, [backfill_id]).fetchall()}
    if done >= {c[0] for c in chunks}:  # the last one finished: this is a new backfill
        con.execute("DELETE FROM meta.backfills WHERE backfill_id = ?", [backfill_id]).fetchall()
        done = set()
    return done


def _backfill_record(ctx: RunContext, backfill_id: str, m_from: dt.date, m_to: dt.date, chunk: Chunk,
                     status: str) -> None:
    db.run_file(ctx.connection, "publish/backfill_record.sql", {
        "backfill_id": backfill_id, "scenario_id": ctx.scenario.scenario_id, "m_from": m_from, "m_to": m_to,
        "chunk_start": chunk[0], "chunk_end": chunk[1], "status": status, "run_id": ctx.run_id})


def backfill(settings: Settings, scenario_id: str, m_from: dt.date, m_to: dt.date, progress: Progress = None,
             flow_run_id: str | None = None, mapper: Mapper | None = None) -> tuple[RunContext, Path, list[Chunk]]:
    """Recompute [m_from, m_to] period by period, then publish. The inputs and the incremental update are one
    transaction (all or nothing, as in a run); each backfill chunk then commits on its own, so the backfill is
    resumable: the chunks of an unfinished backfill of the same scenario and range that are done are skipped.
    `mapper` runs the map tasks (None: in this process), as a run's ctx.mapper."""
    ctx = begin(settings, scenario_id, flow_run_id)
    ctx.mapper = mapper
    try:
        ingest(ctx, progress)
        estimate(ctx, progress)  # first bring every period up to date with the inputs (incremental)
        commit(ctx)
        chunks = backfill_chunks(ctx.scenario, m_from, m_to)
        backfill_id = f"{scenario_id}:{m_from:%Y-%m}:{m_to:%Y-%m}"
        done = _backfill_done(ctx.connection, backfill_id, chunks)
        computed = []
        for chunk in (c for c in chunks if c[0] not in done):
            if progress:
                progress(f"backfill {chunk[0]:%Y-%m}..{chunk[1]:%Y-%m}")
            try:
                estimate(ctx, progress, chunk)
                commit(ctx)
            except BaseException:
                ctx.rollback()
                _backfill_record(ctx, backfill_id, m_from, m_to, chunk, "failed")
                raise
            _backfill_record(ctx, backfill_id, m_from, m_to, chunk, "done")
            runs.set_periods(ctx.connection, ctx.run_id, f"{chunks[0][0]:%Y-%m}..{chunks[-1][1]:%Y-%m} (backfill)")
            computed.append(chunk)
        return ctx, publish(ctx, progress), computed
    except BaseException as e:
        fail(ctx, e)
        raise
