"""Prefect flow for one minetax run: a few coarse tasks around the Prefect-free steps in minetax.pipeline."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from minetax import interrupts, pipeline
from minetax.config import DEFAULT_SCENARIO, Settings
from minetax.load.ingest import InputFile


@task(name="ingest", cache_policy=NO_CACHE)
def ingest_task(ctx: pipeline.RunContext, progress: pipeline.Progress = None) -> list[InputFile]:
    return pipeline.ingest(ctx, progress)


@task(name="estimate", cache_policy=NO_CACHE)
def estimate_task(ctx: pipeline.RunContext, progress: pipeline.Progress = None) -> None:
    return pipeline.estimate(ctx, progress)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(ctx: pipeline.RunContext, progress: pipeline.Progress = None) -> Path:
    return pipeline.publish(ctx, progress)


@flow(name="minetax-run", validate_parameters=False)
def run_flow(home: str | None = None, data_dir: str | None = None, scenario_id: str = DEFAULT_SCENARIO,
             schemes_dir: str | None = None, progress: pipeline.Progress = None) -> dict[str, str]:
    """Load, validate, estimate and publish one scenario. Returns the run id and the snapshot path."""
    interrupts.take_over()  # Ctrl-C and SIGTERM stop the run through minetax.interrupts, not Prefect's handler
    settings = Settings.make(home, data_dir, schemes_dir)
    ctx = pipeline.begin(settings, scenario_id, flow_run_id=str(flow_run.id) if flow_run.id else None)
    try:
        ingest_task(ctx, progress)
        estimate_task(ctx, progress)
        path = publish_task(ctx, progress)
    except BaseException as e:
        pipeline.fail(ctx, e)
        raise
    return {"run_id": ctx.run_id, "scenario_id": scenario_id, "published": str(path),
            "warehouse": str(settings.warehouse_path)}


@task(name="backfill", cache_policy=NO_CACHE)
def backfill_task(settings: Settings, scenario_id: str, m_from: dt.date, m_to: dt.date,
                  progress: pipeline.Progress = None, flow_run_id: str | None = None
                  ) -> tuple[pipeline.RunContext, Path, list[pipeline.Chunk]]:
    return pipeline.backfill(settings, scenario_id, m_from, m_to, progress, flow_run_id)


@flow(name="minetax-backfill", validate_parameters=False)
def backfill_flow(m_from: str, m_to: str, home: str | None = None, data_dir: str | None = None,
                  scenario_id: str = DEFAULT_SCENARIO, schemes_dir: str | None = None,
                  progress: pipeline.Progress = None) -> dict[str, Any]:
    """Recompute a range of months period by period (resumable), then publish."""
    interrupts.take_over()
    settings = Settings.make(home, data_dir, schemes_dir)
    lo, hi = (dt.date.fromisoformat(m + "-01") for m in (m_from, m_to))
    ctx, path, computed = backfill_task(settings, scenario_id, lo, hi, progress,
                                        str(flow_run.id) if flow_run.id else None)
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
                         progress: pipeline.Progress = None) -> dict[str, str]:
    """Fetch the last `days` days of network data into the drop folder, then run the scenario: only the tax
    periods whose network figures changed are recomputed."""
    from minetax.sources.network import DEFAULT_URL

    settings = Settings.make(home, data_dir, schemes_dir)
    settings.ensure()
    end = dt.date.today() - dt.timedelta(days=1)
    path = fetch_network_task(url or DEFAULT_URL, end - dt.timedelta(days=days - 1), end, settings.inbox_dir)
    out = run_flow(home=home, data_dir=data_dir, scenario_id=scenario_id, schemes_dir=schemes_dir, progress=progress)
    return {**out, "fetched": str(path)}


def call(flow_name: str, temporary_api: str | None, **params: Any) -> State[Any]:
    """Run flow `flow_name` of this module once and return its final state. `temporary_api`: the URL of the
    temporary API the caller started (flows.temporary_api), used for this run with heartbeats off: they tell a
    lasting server that a run has crashed, and stopping their thread costs up to 1 s at the end of every flow (it
    sleeps in 1 s steps); None: Prefect's configured API, as it is."""
    settings = {PREFECT_API_URL: temporary_api, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None} if temporary_api else None
    with temporary_settings(settings) if settings else contextlib.nullcontext():
        return globals()[flow_name](return_state=True, **params)
