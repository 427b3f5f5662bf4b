"""Prefect flow for one minetax run: a few coarse tasks around the Prefect-free steps in minetax.pipeline.

Each task logs what its step did through Prefect's run logger, and a run that published creates artifacts (revenue,
validation results, links to the snapshot, the report and the Data Docs); see flows/artifacts.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import prefect.task_engine  # noqa: F401  (with the flows, not at a task's first run: see minetax.cli.run._preload)
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.flow_engine import MINIMUM_HEARTBEAT_INTERVAL
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from flows import artifacts, heartbeats
from minetax import interrupts, pipeline
from minetax.config import DEFAULT_SCENARIO, Settings
from minetax.load.ingest import InputFile
from minetax.model import partials


@task(name="ingest", cache_policy=NO_CACHE)
def ingest_task(ctx: pipeline.RunContext, progress: pipeline.Progress = None) -> list[InputFile]:
    files = pipeline.ingest(ctx, progress)
    logger = get_run_logger()
    artifacts.log_files(logger, files)
    artifacts.log_stage(logger, ctx.stages[-1])
    return files


@task(name="estimate", cache_policy=NO_CACHE)
def estimate_task(ctx: pipeline.RunContext, progress: pipeline.Progress = None) -> None:
    pipeline.estimate(ctx, progress)
    artifacts.log_stage(get_run_logger(), ctx.stages[-1])


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(ctx: pipeline.RunContext, progress: pipeline.Progress = None, snapshot: bool = True) -> Path:
    path = pipeline.publish(ctx, progress, snapshot)
    logger = get_run_logger()
    artifacts.log_stage(logger, ctx.stages[-1])
    if snapshot:
        logger.info("published %s (run %s)", path, ctx.run_id)
    else:
        logger.info("committed run %s; the command that started it writes the snapshot %s", ctx.run_id, path)
    return path


@task(name="map-partitions", cache_policy=NO_CACHE)
def map_task(task: partials.MapTask) -> partials.MapResult:
    """One map task over readings partitions (minetax.model.partials.run_task): on a Dask worker, it reads the
    readings store and writes its partial there; it never opens the warehouse. DuckDB gets the worker's share of
    memory, one thread and the worker's folder to spill to (flows/executors.py: duckdb_config), unless
    MINETAX_TASK_MEMORY says otherwise."""
    from flows import executors

    config = executors.duckdb_config()
    if config and not os.environ.get(partials.MEMORY_ENV):
        task = dataclasses.replace(task, memory_limit=str(config.get("memory_limit", task.memory_limit)),
                                   threads=int(config.get("threads", task.threads)),
                                   temp_directory=str(config["temp_directory"]))
    return partials.run_task(task)


def cluster_mapper(settings: Settings) -> partials.Mapper | None:
    """The map on the Dask cluster of `settings` (prefect-dask's DaskTaskRunner; flows/executors.py), one Prefect
    task per map task, each with MINETAX_TASK_THREADS threads (default 1: a Dask worker runs one task per thread)
    and MINETAX_TASK_MEMORY of DuckDB memory if set, else the worker's share (map_task); None without a cluster
    (the map runs in this process)."""
    from flows import executors

    if not settings.cluster:
        return None

    def mapper(tasks: Sequence[partials.MapTask]) -> list[partials.MapResult]:
        if not tasks:
            return []
        memory, threads = partials.limits(threads=1)
        runner = executors.task_runner(settings)
        assert runner is not None
        sized = [dataclasses.replace(t, threads=threads, memory_limit=memory) for t in tasks]
        get_run_logger().info("map: %d tasks over %d readings on the Dask cluster %s", len(sized),
                              sum(t.rows for t in sized), settings.cluster)
        with runner:
            with _detached():
                futures = runner.map(map_task, {"task": sized})
            return [cast(partials.MapResult, f.result()) for f in futures]

    return mapper


@contextlib.contextmanager
def _detached() -> Iterator[None]:
    """Prefect sends the context of the submitting code with every task to the Dask worker: the flow run's
    parameters (the command line's progress callback) and, inside the estimate task, that task's own (the run's
    context, with its warehouse connection). Neither can be pickled nor is needed there: submit the map tasks as
    tasks of the flow run, without them."""
    from prefect.context import FlowRunContext, TaskRunContext

    flow_ctx = FlowRunContext.get()
    task_token = TaskRunContext.__var__.set(None)  # type: ignore[arg-type]
    flow_token = FlowRunContext.__var__.set(flow_ctx.model_copy(update={"parameters": {}})) if flow_ctx else None
    try:
        yield
    finally:
        if flow_token is not None:
            FlowRunContext.__var__.reset(flow_token)
        TaskRunContext.__var__.reset(task_token)


def _failed(ctx: pipeline.RunContext, error: BaseException, pages: bool) -> None:
    """Roll back and record the failure (minetax.pipeline.fail), then say in the run's log and artifacts what it
    had done: the files (with the quarantined one) if ingest had not logged them, the step that failed, and the
    validation results it recorded."""
    reports = [*ctx.reports, *getattr(error, "reports", [])]
    pipeline.fail(ctx, error)
    if isinstance(error, KeyboardInterrupt):
        return
    logger = get_run_logger()
    try:
        failed_in = ctx.stages[-1] if ctx.stages else None
        if failed_in is not None and failed_in.name == "ingest":
            artifacts.log_files(logger, getattr(error, "files", None) or ctx.files)
        if failed_in is not None:
            logger.error("%s failed after %.2f s; the run was rolled back, nothing was published", failed_in.name,
                         failed_in.seconds)
        artifacts.failed(ctx.settings, ctx.scenario.scenario_id, ctx.run_id, reports, logger, pages)
    except Exception as e:  # the API is unreachable, say: the run's own error is what the caller must see
        logger.warning("could not record the failed run's artifacts: %s", e)


def _show(settings: Settings, scenario_id: str, run_id: str, path: Path, pages: bool) -> None:
    """The artifacts of a published run. The run has published whatever happens here: a failure is a warning."""
    logger = get_run_logger()
    try:
        artifacts.published(settings, scenario_id, run_id, path, logger, pages)
    except Exception as e:
        logger.warning("run %s is published, but its artifacts could not all be made: %s", run_id, e)


@flow(name="minetax-run", validate_parameters=False)
def run_flow(home: str | None = None, data_dir: str | None = None, scenario_id: str = DEFAULT_SCENARIO,
             schemes_dir: str | None = None, progress: pipeline.Progress = None, report: bool = True,
             publish: bool = True) -> dict[str, str]:
    """Load, validate, estimate and publish one scenario. Returns the run id and the snapshot path. report: also
    write the HTML report to MINETAX_HOME/reports/ and render the run's validation Data Docs (both linked from the
    run's artifacts). publish=False: commit only, no snapshot and no artifacts of it: the caller (`minetax
    compare`) writes one snapshot after all its runs."""
    interrupts.take_over()  # Ctrl-C and SIGTERM stop the run through minetax.interrupts, not Prefect's handler
    settings = Settings.make(home, data_dir, schemes_dir)
    ctx = pipeline.begin(settings, scenario_id, flow_run_id=str(flow_run.id) if flow_run.id else None)
    ctx.mapper = cluster_mapper(settings)
    with heartbeats.beating():
        try:
            ingest_task(ctx, progress)
            estimate_task(ctx, progress)
            path = publish_task(ctx, progress, publish)
        except BaseException as e:
            _failed(ctx, e, report)
            raise
        if publish:
            _show(settings, scenario_id, ctx.run_id, path, report)
    return {"run_id": ctx.run_id, "scenario_id": scenario_id, "published": str(path),
            "warehouse": str(settings.warehouse_path)}


@task(name="backfill", cache_policy=NO_CACHE)
def backfill_task(settings: Settings, scenario_id: str, m_from: dt.date, m_to: dt.date,
                  progress: pipeline.Progress = None, flow_run_id: str | None = None
                  ) -> tuple[pipeline.RunContext, Path, list[pipeline.Chunk]]:
    ctx, path, computed = pipeline.backfill(settings, scenario_id, m_from, m_to, progress, flow_run_id,
                                            mapper=cluster_mapper(settings))
    logger = get_run_logger()
    artifacts.log_files(logger, ctx.files)
    for stage in ctx.stages:
        artifacts.log_stage(logger, stage)
    logger.info("backfill %s..%s: recomputed %d tax periods: %s", f"{m_from:%Y-%m}", f"{m_to:%Y-%m}", len(computed),
                ", ".join(f"{a:%Y-%m}..{b:%Y-%m}" for a, b in computed) or "none (all done)")
    return ctx, path, computed


@flow(name="minetax-backfill", validate_parameters=False)
def backfill_flow(m_from: str, m_to: str, home: str | None = None, data_dir: str | None = None,
                  scenario_id: str = DEFAULT_SCENARIO, schemes_dir: str | None = None,
                  progress: pipeline.Progress = None, report: bool = True) -> dict[str, Any]:
    """Recompute a range of months period by period (resumable), then publish (report: as in run_flow)."""
    interrupts.take_over()
    settings = Settings.make(home, data_dir, schemes_dir)
    lo, hi = (dt.date.fromisoformat(m + "-01") for m in (m_from, m_to))
    with heartbeats.beating():
        ctx, path, computed = backfill_task(settings, scenario_id, lo, hi, progress,
                                            str(flow_run.id) if flow_run.id else None)
        _show(settings, scenario_id, ctx.run_id, path, report)
    return {"run_id": ctx.run_id, "scenario_id": scenario_id, "published": str(path),
            "warehouse": str(settings.warehouse_path), "chunks": [f"{a:%Y-%m}..{b:%Y-%m}" for a, b in computed]}


@task(name="fetch-network", retries=2, retry_delay_seconds=30, cache_policy=NO_CACHE)
def fetch_network_task(url: str, start: dt.date, end: dt.date, inbox: Path) -> Path:
    from minetax.sources.network import api_key, fetch_network, write_network_file

    key = api_key(inbox.parent)  # from the environment or MINETAX_HOME/secrets.env; never a flow parameter
    return write_network_file(fetch_network(url, start, end, key=key), inbox, start, end)


@flow(name="minetax-network-refresh", validate_parameters=False)
def refresh_network_flow(home: str | None = None, data_dir: str | None = None, scenario_id: str = DEFAULT_SCENARIO,
                         schemes_dir: str | None = None, url: str | None = None, days: int = 7,
                         progress: pipeline.Progress = None, report: bool = True) -> dict[str, str]:
    """Fetch the last `days` days of network data into the drop folder, then run the scenario: only the tax
    periods whose network figures changed are recomputed."""
    from minetax.sources.network import DEFAULT_URL

    settings = Settings.make(home, data_dir, schemes_dir)
    settings.ensure()
    end = dt.date.today() - dt.timedelta(days=1)
    path = fetch_network_task(url or DEFAULT_URL, end - dt.timedelta(days=days - 1), end, settings.inbox_dir)
    get_run_logger().info("fetched network data %s..%s into %s", end - dt.timedelta(days=days - 1), end, path)
    out = run_flow(home=home, data_dir=data_dir, scenario_id=scenario_id, schemes_dir=schemes_dir, progress=progress,
                   report=report)
    return {**out, "fetched": str(path)}


def call(flow_name: str, temporary_api: str | None, **params: Any) -> State[Any]:
    """Run flow `flow_name` of this module once and return its final state. `temporary_api`: the URL of the
    temporary API the caller started (flows.temporary_api), used for this run with heartbeats off: they tell a
    lasting server that a run has crashed; None: Prefect's configured API, as it is, with the flow run's heartbeats
    sent by flows.heartbeats at Prefect's interval instead of by Prefect's own thread, which cost up to 1 s at the
    end of every flow (it sleeps in 1 s steps). On a temporary API nobody sees the run's artifacts, so the HTML
    report and the Data Docs pages are not made there (`minetax report`, `minetax docs` make them) unless `report`
    is given."""
    from prefect.settings import get_current_settings

    settings: dict[Any, Any] = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    interval = None
    if temporary_api:
        settings[PREFECT_API_URL] = temporary_api
        params.setdefault("report", False)
    elif (every := get_current_settings().flows.heartbeat_frequency) is not None:
        interval = max(every, MINIMUM_HEARTBEAT_INTERVAL)
    token = heartbeats.INTERVAL.set(interval)
    try:
        with temporary_settings(settings):
            return globals()[flow_name](return_state=True, **params)
    finally:
        heartbeats.INTERVAL.reset(token)
