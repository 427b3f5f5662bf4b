"""Prefect deployments: the monthly close and the daily network refresh, on cron schedules in Asia/Almaty.

`minetax serve` serves them from this process against a running Prefect server; `minetax deploy --pool P`
registers them on a work pool instead, for `prefect worker start --pool P` to run.
"""

from __future__ import annotations

from collections.abc import Coroutine

from prefect.schedules import Cron

from flows.pipeline import refresh_network_flow, run_flow
from minetax.config import PROJECT_ROOT, Settings

TIMEZONE = "Asia/Almaty"
MONTHLY_CLOSE = "0 6 5 * *"  # the 5th of every month at 06:00: the previous month's meter data is in
NETWORK_REFRESH = "0 7 * * *"  # every day at 07:00: yesterday's network figures


def parameters(settings: Settings, scenario: str) -> dict:
    return {"home": str(settings.home), "data_dir": str(settings.data_dir), "scenario_id": scenario,
            "schemes_dir": str(settings.schemes_dir)}


def environment(settings: Settings) -> dict[str, str]:
    """The settings a flow reads from the environment (Settings.make): the Dask cluster and the readings store.
    A deployment on a work pool carries them as job variables; `minetax serve` has them in its own environment,
    which the runs it starts inherit."""
    from minetax.config import CLUSTER_ENV, READINGS_STORE_ENV

    found = {CLUSTER_ENV: settings.cluster, READINGS_STORE_ENV: settings.readings_store}
    return {name: value for name, value in found.items() if value}


def specs(settings: Settings, scenario: str, url: str | None) -> list[tuple]:
    """(flow, entrypoint, name, cron, parameters, description) of each deployment."""
    p = parameters(settings, scenario)
    return [
        (run_flow, "flows/pipeline.py:run_flow", "monthly-close", MONTHLY_CLOSE, p,
         "Monthly close: load new inputs, recompute the changed tax periods, validate, publish."),
        (refresh_network_flow, "flows/pipeline.py:refresh_network_flow", "network-refresh", NETWORK_REFRESH,
         {**p, "url": url}, "Daily: fetch the last week of network data, then recompute what changed."),
    ]


def for_serve(settings: Settings, scenario: str, url: str | None = None) -> list:
    return [flow.to_deployment(name=name, schedules=[Cron(cron, timezone=TIMEZONE)], parameters=params,
                               description=text, tags=["minetax"])
            for flow, _, name, cron, params, text in specs(settings, scenario, url)]


def take_over(deployments: list) -> list[str]:
    """Make deployments of the same names that `minetax deploy --pool` registered into served ones, before
    `minetax serve` serves them; return "flow/name (pool P)" of each one changed.

    There is one deployment per flow and name on a server. `minetax deploy --pool P` registers it with P's work
    pool, a pull step (set the working directory to the project) and job variables; serving the same name re-applies
    the deployment but leaves the pool on it and drops its storage path, so every run that serve then started
    crashed while loading the flow ("No such file or directory: '<project>/None'"), and a worker of P could still take
    its runs. The last command wins, as a user expects: the deployment keeps its id and run history and becomes
    exactly what serve registers (no work pool, no pull steps, no job variables, the served process's working
    directory), so serve runs it and no worker does; `minetax deploy --pool P` makes it a pool's again."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentUpdate
    from prefect.exceptions import ObjectNotFound

    changed = []
    with get_client(sync_client=True) as client:
        for d in deployments:
            try:
                found = client.read_deployment_by_name(f"{d.flow_name}/{d.name}")
            except ObjectNotFound:
                continue
            if found.work_pool_name or found.pull_steps or found.path != ".":
                client.update_deployment(found.id, DeploymentUpdate(work_pool_name=None, pull_steps=[], path=".",
                                                                    job_variables={}))
                changed.append(f"{d.flow_name}/{d.name} (pool {found.work_pool_name})" if found.work_pool_name
                               else f"{d.flow_name}/{d.name}")
    return changed


def serve(deployments: list, pause_on_shutdown: bool = True) -> None:
    """Serve the deployments from this process until interrupted (Prefect pauses their schedules on exit when
    pause_on_shutdown)."""
    from prefect import serve as prefect_serve

    prefect_serve(*deployments, pause_on_shutdown=pause_on_shutdown)


def to_work_pool(settings: Settings, scenario: str, pool: str, url: str | None = None) -> list[str]:
    """Register the deployments on a work pool; a process worker started in this project's environment runs
    them (`uv run prefect worker start --pool POOL`). Returns their ids."""
    from prefect import flow as prefect_flow

    ids = []
    for _, entrypoint, name, cron, params, text in specs(settings, scenario, url):
        remote = prefect_flow.from_source(source=str(PROJECT_ROOT), entrypoint=entrypoint)
        if isinstance(remote, Coroutine):  # async-compatible: called from sync code, it returns the flow itself
            raise TypeError("Flow.from_source returned a coroutine in synchronous code")
        ids.append(str(remote.deploy(name=name, work_pool_name=pool, schedules=[Cron(cron, timezone=TIMEZONE)],
                                     parameters=params, description=text, tags=["minetax"], print_next_steps=False,
                                     job_variables={"env": environment(settings)})))
    return ids
