"""The run, step by step, without Prefect: begin → ingest → estimate → publish (flows/ orchestrates these).

Each step opens the warehouse, does its work in its own transaction and closes it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from minetax import db, runs
from minetax import estimate as est
from minetax import ingest as ing
from minetax import publish as pub
from minetax.config import Settings
from minetax.faults import crashpoint
from minetax.schemes import Scenario, load_scenario

Progress = Callable[[str], None] | None


@dataclass
class RunContext:
    settings: Settings
    scenario: Scenario
    run_id: str


def begin(settings: Settings, scenario_id: str, flow_run_id: str | None = None) -> RunContext:
    """Check the scenario and its schemes (refused before anything runs), then record the run."""
    scenario = load_scenario(scenario_id, settings.scenarios_dir, settings.schemes_dir)
    settings.ensure()
    ctx = RunContext(settings, scenario, runs.new_run_id())
    con = db.warehouse(settings.warehouse_path)
    try:
        runs.mark_crashed(con, settings.published_path)
        runs.start(con, ctx.run_id, scenario_id, str(settings.data_dir),
                   {"scenario": scenario_id, "home": str(settings.home), "schemes_dir": str(settings.schemes_dir),
                    "assumptions": scenario.assumptions}, flow_run_id)
        runs.record_schemes(con, ctx.run_id, scenario)
    finally:
        con.close()
    crashpoint("begin:recorded")
    return ctx


def ingest(ctx: RunContext, progress: Progress = None) -> list[ing.InputFile]:
    con = db.warehouse(ctx.settings.warehouse_path)
    try:
        return ing.load_inputs(con, ctx.settings, ctx.run_id, progress)
    finally:
        con.close()


def estimate(ctx: RunContext, progress: Progress = None, window=None) -> None:
    con = db.warehouse(ctx.settings.warehouse_path)
    try:
        est.estimate(con, ctx.run_id, ctx.scenario, progress, window)
    finally:
        con.close()


def publish(ctx: RunContext, progress: Progress = None) -> Path:
    if progress:
        progress("publishing snapshot")
    con = db.warehouse(ctx.settings.warehouse_path)
    try:
        runs.finish(con, ctx.run_id, "publishing")  # the snapshot shows it as succeeded
        try:
            path = pub.publish(con, ctx.settings, ctx.run_id)
        except BaseException as e:
            runs.finish(con, ctx.run_id, "failed", f"publish failed: {e}")
            raise
        runs.finish(con, ctx.run_id, "succeeded")
        return path
    finally:
        con.close()


def fail(ctx: RunContext, error: BaseException) -> None:
    con = db.warehouse(ctx.settings.warehouse_path)
    try:
        runs.finish(con, ctx.run_id, "failed", str(error)[:4000])
    finally:
        con.close()


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


def backfill_chunks(scenario, m_from, m_to) -> list[tuple]:
    """Whole tax periods of the scenario's coarsest scheme covering [m_from, m_to], in order."""
    lo, hi = est.whole_periods(m_from, m_to, scenario)
    n = max(est.PERIOD_MONTHS[s.tax_period] for s in scenario.schemes)
    chunks, start = [], lo
    while start <= hi:
        m = start.month - 1 + n
        nxt = start.replace(year=start.year + m // 12, month=m % 12 + 1)
        last = m - 1
        chunks.append((start, start.replace(year=start.year + last // 12, month=last % 12 + 1)))
        start = nxt
    return chunks


def backfill(settings: Settings, scenario_id: str, m_from, m_to, progress: Progress = None,
             flow_run_id: str | None = None) -> tuple[RunContext, Path, list[tuple]]:
    """Recompute [m_from, m_to] period by period, each in its own transaction, then publish. Resumable: the
    chunks of an unfinished backfill of the same scenario and range that are done are skipped."""
    ctx = begin(settings, scenario_id, flow_run_id)
    try:
        ingest(ctx, progress)
        estimate(ctx, progress)  # first bring every period up to date with the inputs (incremental)
        chunks = backfill_chunks(ctx.scenario, m_from, m_to)
        backfill_id = f"{scenario_id}:{m_from:%Y-%m}:{m_to:%Y-%m}"
        con = db.warehouse(settings.warehouse_path)
        try:
            done = {r[0] for r in con.execute("SELECT chunk_start FROM meta.backfills WHERE backfill_id = ? "
                                              "AND status = 'done'", [backfill_id]).fetchall()}
            if done >= {c[0] for c in chunks}:  # the last one finished: this is a new backfill
                con.execute("DELETE FROM meta.backfills WHERE backfill_id = ?", [backfill_id])
                done = set()
        finally:
            con.close()
        computed = []
        for chunk in chunks:
            if chunk[0] in done:
                continue
            if progress:
                progress(f"backfill {chunk[0]:%Y-%m}..{chunk[1]:%Y-%m}")
            try:
                estimate(ctx, progress, chunk)
                status = "done"
            except BaseException:
                status = "failed"
                raise
            finally:
                con = db.warehouse(settings.warehouse_path)
                try:
                    con.execute("DELETE FROM meta.backfills WHERE backfill_id = ? AND chunk_start = ?",
                                [backfill_id, chunk[0]])
                    con.execute("INSERT INTO meta.backfills VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
                                [backfill_id, scenario_id, m_from, m_to, chunk[0], chunk[1], status, ctx.run_id])
                    if status == "done":
                        runs.set_periods(con, ctx.run_id, f"{chunks[0][0]:%Y-%m}..{chunks[-1][1]:%Y-%m} (backfill)")
                finally:
                    con.close()
            computed.append(chunk)
        return ctx, publish(ctx, progress), computed
    except BaseException as e:
        fail(ctx, e)
        raise
