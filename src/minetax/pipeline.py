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
from minetax.schemes import Scenario, load_scenario
from minetax.validate import Validator

Progress = Callable[[str], None] | None
_validator = Validator()


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
        runs.start(con, ctx.run_id, scenario_id, str(settings.data_dir),
                   {"scenario": scenario_id, "home": str(settings.home), "schemes_dir": str(settings.schemes_dir),
                    "assumptions": scenario.assumptions}, flow_run_id)
        runs.record_schemes(con, ctx.run_id, scenario)
    finally:
        con.close()
    return ctx


def ingest(ctx: RunContext, progress: Progress = None) -> list[ing.InputFile]:
    con = db.warehouse(ctx.settings.warehouse_path)
    try:
        return ing.load_inputs(con, ctx.settings, ctx.run_id, _validator, progress)
    finally:
        con.close()


def estimate(ctx: RunContext, progress: Progress = None, window=None) -> None:
    con = db.warehouse(ctx.settings.warehouse_path)
    try:
        est.estimate(con, ctx.run_id, ctx.scenario, _validator, progress, window)
    finally:
        con.close()


def publish(ctx: RunContext, progress: Progress = None) -> Path:
    if progress:
        progress("publishing snapshot")
    con = db.warehouse(ctx.settings.warehouse_path)
    try:
        runs.finish(con, ctx.run_id, "succeeded")
        try:
            return pub.publish(con, ctx.settings, ctx.run_id)
        except BaseException as e:
            runs.finish(con, ctx.run_id, "failed", f"publish failed: {e}")
            raise
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
