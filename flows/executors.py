"""Where a run's map tasks execute: in this process (the default), or on a Dask cluster through prefect-dask.

With `--cluster tcp://HOST:PORT` (or MINETAX_CLUSTER) the tasks go to that Dask scheduler with prefect-dask's
DaskTaskRunner. Each task then runs Prefect's task engine inside a Dask worker process and reports its state to
the Prefect API of the flow. That must be a running Prefect server that every worker can reach (PREFECT_API_URL):
with Prefect's temporary API (the default of `minetax run`) each worker would start a temporary API of its own, on
its own machine, and the runs would be scattered over them. So a cluster without a server is refused at once, before
anything runs (require_server), as is an address that is not tcp://HOST:PORT or a scheduler that does not answer.

Used from a flow body (the settings are known only there, also in a scheduled run of a deployment):

    runner = task_runner(settings)
    with runner or contextlib.nullcontext():
        futures = (runner.map(task, {...}) if runner else task.map(...))
"""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from minetax.config import CLUSTER_ENV, Settings
from minetax.errors import MinetaxError

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner

HEALTH_TIMEOUT_S = 3.0  # the Prefect server must answer /health within this
CONNECT_TIMEOUT_S = 3.0  # the Dask scheduler must accept a connection within this
START_SERVER = ("  uv run prefect server start            # in another terminal, or a server the workers reach\n"
                "  export PREFECT_API_URL=http://127.0.0.1:4200/api")


def check_address(address: str) -> tuple[str, int]:
    """(host, port) of a Dask scheduler address tcp://HOST:PORT; MinetaxError naming the setting otherwise."""
    parts = urlsplit(address.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None or parts.path or parts.query:
        raise MinetaxError(f"--cluster (or {CLUSTER_ENV}) {address!r} is not a Dask scheduler address: expected "
                           "tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786 (as `dask scheduler` prints it)")
    return parts.hostname, port


def require_server(settings: Settings) -> str | None:
    """Refuse a cluster run at once unless everything it needs is there: the address is tcp://HOST:PORT, a Prefect
    server answers at PREFECT_API_URL, and the scheduler accepts connections. Returns the server's URL (None
    without a cluster: nothing is required)."""
    if not settings.cluster:
        return None
    host, port = check_address(settings.cluster)
    url = os.environ.get("PREFECT_API_URL", "").strip()
    why = (f"--cluster {settings.cluster} needs a running Prefect server (PREFECT_API_URL) that every Dask worker "
           "reaches: without one each worker would start a temporary Prefect API of its own")
    if not url:
        raise MinetaxError(f"{why}. Start one and point minetax at it:\n{START_SERVER}")
    problem = _health(url)
    if problem:
        raise MinetaxError(f"{why}, and PREFECT_API_URL={url} does not answer ({problem}). Start it, or fix "
                           f"PREFECT_API_URL:\n{START_SERVER}")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise MinetaxError(f"cannot reach the Dask scheduler at {settings.cluster} (--cluster or {CLUSTER_ENV}): "
                           f"{e.strerror or e}. Start it (`dask scheduler`, then `dask worker {settings.cluster}` on "
                           "each machine) or fix the address") from e
    return url


def task_runner(settings: Settings) -> DaskTaskRunner | None:
    """prefect-dask's DaskTaskRunner on the cluster when one is set, else None: the flow's own runner, in this
    process. Call require_server(settings) first (the command line does, before Prefect starts)."""
    if not settings.cluster:
        return None
    check_address(settings.cluster)
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=settings.cluster)


def _health(url: str) -> str | None:
    """None if the Prefect API at `url` (…/api) answers its health check in time, else what went wrong."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=HEALTH_TIMEOUT_S) as r:
            body = r.read(100).strip()
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code} from {url.rstrip('/')}/health"
    except (OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        return str(getattr(reason, "strerror", None) or reason)
    return None if body == b"true" else f"{url.rstrip('/')}/health said {body[:40]!r}, not true"
