"""Commands that run the pipeline later, on a Prefect server: `serve` and `deploy` (the scheduled deployments)."""

from __future__ import annotations

import os
import signal
from typing import Annotated, NoReturn

import typer
from rich.text import Text

from minetax.cli.common import DataOpt, HomeOpt, SchemesOpt, console, err, prefect_env
from minetax.cli.run import ClusterOpt, ReadingsStoreOpt, check_execution
from minetax.config import DEFAULT_SCENARIO, Settings
from minetax.errors import MinetaxError

ScenarioOpt = Annotated[str, typer.Option(help="scenario of the monthly close")]
UrlOpt = Annotated[str | None, typer.Option(help="network metrics API for the daily refresh")]


def _need_server() -> str:
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        raise MinetaxError("scheduling needs a running Prefect server (the temporary one cannot keep schedules):\n"
                           "  uv run prefect server start            # in another terminal\n"
                           "  export PREFECT_API_URL=http://127.0.0.1:4200/api")
    return url


def _interrupt(*_: object) -> NoReturn:
    raise KeyboardInterrupt


def serve(home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None,
          scenario: ScenarioOpt = DEFAULT_SCENARIO, url: UrlOpt = None,
          pause_on_exit: Annotated[bool, typer.Option(help="pause the schedules when serve stops "
                                                      "(Prefect's default)")] = True,
          cluster: ClusterOpt = None, readings_store: ReadingsStoreOpt = None) -> None:
    """Serve the scheduled deployments (monthly close, daily network refresh) against a Prefect server."""
    settings = Settings.make(home, data_dir, schemes_dir, cluster, readings_store)
    api = _need_server()
    check_execution(settings)  # the runs it starts inherit the settings from this process's environment
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    prefect_env(settings)
    from flows.deployments import MONTHLY_CLOSE, NETWORK_REFRESH, TIMEZONE, for_serve, take_over
    from flows.deployments import serve as serve_deployments

    deployments = for_serve(settings, scenario, url)
    for name in take_over(deployments):
        console.print(f"{name}: was registered for a work pool (`minetax deploy --pool`); now served here, and no "
                      "worker of the pool runs it (`minetax deploy --pool` gives it back to the pool)")
    console.print(f"serving against {api}: minetax-run/monthly-close ({MONTHLY_CLOSE}, {TIMEZONE}) and "
                  f"minetax-network-refresh/network-refresh ({NETWORK_REFRESH}, {TIMEZONE}); Ctrl-C stops")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve_deployments(deployments, pause_on_shutdown=pause_on_exit)
    except KeyboardInterrupt:
        pass
    finally:
        if pause_on_exit:
            err.print(Text.assemble(("serve stopped: the schedules of minetax-run/monthly-close and "
                                     "minetax-network-refresh/network-refresh are now PAUSED on the server.", "yellow"),
                                    " No scheduled run starts until `minetax serve` runs again (serving, or `minetax "
                                    "deploy` for a worker, makes them active again)."), soft_wrap=True)
        else:
            err.print("serve stopped: the schedules stay ACTIVE on the server but nothing executes them; scheduled "
                      "runs will wait as Late until `minetax serve` runs again.", style="yellow", soft_wrap=True)


def deploy(pool: Annotated[str, typer.Option(help="Prefect work pool (type process)")],
           home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None,
           scenario: ScenarioOpt = DEFAULT_SCENARIO, url: UrlOpt = None, cluster: ClusterOpt = None,
           readings_store: ReadingsStoreOpt = None) -> None:
    """Register the scheduled deployments on a work pool, for `prefect worker start --pool POOL` to run."""
    settings = Settings.make(home, data_dir, schemes_dir, cluster, readings_store)
    api = _need_server()
    check_execution(settings, scheduler=False)  # the deployments carry the settings (flows/deployments.py)
    prefect_env(settings)
    from flows.deployments import to_work_pool

    ids = to_work_pool(settings, scenario, pool, url)
    console.print(f"registered {len(ids)} deployments on pool {pool!r} at {api}; start a worker with:\n"
                  f"  uv run prefect worker start --pool {pool}")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(deploy)
