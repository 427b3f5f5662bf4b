"""Processes of bench/run.py: each step in a fresh process, and the servers some steps need (a Prefect server, a
Dask scheduler and workers), started by the benchmark, watched by PID and stopped by it.

A service runs in a session (process group) of its own, started here; it is stopped by that group's id: SIGTERM,
then SIGKILL after a grace period. Its peak RSS is read from /proc (VmHWM) of each process of its tree before it
stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUN = Path(__file__).resolve().parent / "run.py"
QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "false"}


def env(extra: dict[str, str], server: bool = False) -> dict[str, str]:
    """The environment of a step: telemetry off; PREFECT_API_URL only where a step is meant to use a server (a
    value left in the caller's environment would silently turn every temporary-API step into a server step)."""
    e = {**os.environ, **QUIET, **extra}
    if not server:
        e.pop("PREFECT_API_URL", None)
    return e


def child(step: str, work: Path, server: bool = False, **extra: str) -> dict:
    """Run one step in a fresh process; return its JSON result with wall time and peak RSS (MB: the largest single
    process of the step's tree, e.g. the run and not Prefect's API server beside it). A step that times a command
    of its own (`minetax run`) reports that command instead."""
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, str(RUN), "--step", step, "--work", str(work)], stdout=subprocess.PIPE,
                         text=True, env=env(extra, server), cwd=ROOT)
    out = p.stdout.read() if p.stdout else ""
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0:
        raise StepFailed(f"step {step} on {work} failed (status {status}):\n{out[-2000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    return {"wall_s": time.perf_counter() - t0, "peak_rss_mb": usage.ru_maxrss / 1024, **res}


class StepFailed(RuntimeError):
    pass


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree(pid: int) -> list[int]:
    """pid and every descendant (from /proc)."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def peak_rss_mb(pid: int) -> dict[int, float]:
    """VmHWM (peak RSS) of pid and each live descendant, MB."""
    peaks = {}
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[p] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return peaks


class Service:
    """A server process started by the benchmark (its own session), stopped by its process group id."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, extra: dict[str, str]) -> None:
        self.name = name
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.log: IO[bytes] = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env(extra, server=True),
                                  cwd=ROOT, start_new_session=True)
        print(f"  started {name} (pid {self.p.pid}): {' '.join(argv)}", flush=True)

    def alive(self) -> bool:
        return self.p.poll() is None

    def peaks(self) -> dict[int, float]:
        return peak_rss_mb(self.p.pid)

    def fail(self, why: str) -> RuntimeError:
        tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
        return RuntimeError(f"{self.name}: {why}\n--- {self.log_path} ---\n{tail}")

    def stop(self, grace_s: float = 10.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        # workers the group left behind (none expected): the group is ours, end it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.p.pid, signal.SIGKILL)
        self.log.close()
        print(f"  stopped {self.name} (pid {self.p.pid})", flush=True)


def prefect_server(work: Path, timeout_s: float = 180.0) -> tuple[Service, str]:
    """`prefect server start` on 127.0.0.1 with its database under work/prefect-server; wait until /api/health
    answers; return the service and its API URL."""
    port = free_port()
    home = work / "prefect-server"
    home.mkdir(parents=True, exist_ok=True)
    svc = Service("prefect-server", [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                                     str(port), "--no-ui"], work / "logs", {"PREFECT_HOME": str(home)})
    url = f"http://127.0.0.1:{port}/api"
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        if not svc.alive():
            raise svc.fail("exited before answering")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    print(f"  prefect server healthy after {time.perf_counter() - t0:.1f} s at {url}", flush=True)
                    return svc, url
        except OSError:
            pass
        time.sleep(0.5)
    svc.stop()
    raise svc.fail(f"no answer on {url}/health within {timeout_s:.0f} s")


def count(url: str, what: str) -> int:
    """How many flow_runs / task_runs the Prefect server holds (POST /api/<what>/count)."""
    req = urllib.request.Request(f"{url}/{what}/count", data=b"{}", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return int(json.loads(r.read()))


def dask_cluster(work: Path, api_url: str, workers: int = 2, timeout_s: float = 120.0) -> tuple[list[Service], str]:
    """`dask scheduler` and `dask worker --nworkers N --nthreads 1` on 127.0.0.1 (the workers see PREFECT_API_URL
    and the benchmark's PREFECT_HOME); wait until the workers joined; return the services and the address."""
    port = free_port()
    addr = f"tcp://127.0.0.1:{port}"
    extra = {"PREFECT_API_URL": api_url, "PREFECT_HOME": str(work / "prefect-home")}
    sched = Service("dask-scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                       "--no-dashboard"], work / "logs", extra)
    svcs = [sched]
    try:
        wk = Service("dask-workers", [str(BIN / "dask"), "worker", addr, "--nworkers", str(workers), "--nthreads",
                                      "1", "--no-dashboard", "--local-directory", str(work / "dask-worker-space")],
                     work / "logs", extra)
        svcs.append(wk)
        from distributed import Client

        t0 = time.perf_counter()
        with Client(addr, timeout=timeout_s) as c:
            c.wait_for_workers(workers, timeout=timeout_s)
        print(f"  dask: {workers} workers joined {addr} after {time.perf_counter() - t0:.1f} s", flush=True)
        return svcs, addr
    except BaseException:
        for s in reversed(svcs):
            s.stop()
        raise
