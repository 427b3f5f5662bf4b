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
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from minetax.config import CLUSTER_ENV, Settings
from minetax.errors import MinetaxError

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner

HEALTH_TIMEOUT_S = 3.0  # the Prefect server must answer /health within this
CONNECT_TIMEOUT_S = 3.0  # the Dask scheduler must accept a connection within this
DUCKDB_SHARE = 0.5  # of a Dask worker's memory limit, for DuckDB in its tasks (duckdb_config)
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
    _check_scheduler(settings.cluster, host, port)
    return url


def task_runner(settings: Settings) -> DaskTaskRunner | None:
    """prefect-dask's DaskTaskRunner on the cluster when one is set, else None: the flow's own runner, in this
    process. The command line calls require_server(settings) first, before Prefect starts; here the address and the
    scheduler are checked again (a scheduled run of a deployment gets here without the command line), so a
    scheduler that does not answer fails the run at once with a MinetaxError rather than after Dask's 30 s timeout."""
    if not settings.cluster:
        return None
    _check_scheduler(settings.cluster, *check_address(settings.cluster))
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(address=settings.cluster)


def _check_scheduler(address: str, host: str, port: int) -> None:
    """MinetaxError unless something accepts connections at the scheduler's address within CONNECT_TIMEOUT_S."""
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise MinetaxError(f"cannot reach the Dask scheduler at {address} (--cluster or {CLUSTER_ENV}): "
                           f"{e.strerror or e}. Start it (`dask scheduler`, then `dask worker {address}` on "
                           "each machine) or fix the address") from e


def duckdb_config(share: float = DUCKDB_SHARE) -> dict[str, str | int]:
    """DuckDB settings for a map task (duckdb.connect(config=…)): on a Dask worker, `share` of the worker's memory
    limit divided among its threads as memory_limit, one thread, and the worker's folder for DuckDB to spill to;
    elsewhere {} (DuckDB's own defaults, as a run in one process has always used).

    Dask counts DuckDB's memory as unmanaged and kills a worker at 95% of its limit (pauses it at 80%); DuckDB's
    memory_limit caps its buffer pool, not every allocation, and Python, pyarrow and Prefect need their share, so
    DuckDB gets half the worker's limit by default and spills the rest of a large sort or group-by to disk."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # not inside a Dask task
        return {}
    config: dict[str, str | int] = {"threads": 1, "temp_directory": str(Path(worker.local_directory) / "duckdb")}
    limit = worker.memory_manager.memory_limit
    if limit:
        per_task = int(limit * share / max(1, worker.state.nthreads))
        config["memory_limit"] = f"{per_task // 2**20}MiB"
    return config


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
