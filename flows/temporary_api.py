"""Prefect's temporary local API for `minetax run`, started first, so it comes up while the flows are imported.

Left to Prefect, the temporary API starts when the first flow calls it: the calling process imports the whole
server package (2–3 s here) only to launch a subprocess, then waits while that subprocess imports the same code
and answers (3–4 s), one after the other. Started here before Prefect is imported, the subprocess boots while
this process imports Prefect and the flows, and this process never imports the server. `minetax run` on
2 farms × 1 day, with Prefect's database already created, took 11.9–12.7 s with Prefect's own start and
8.0–8.2 s with this one (the API answered 3.7 s after its launch, 2.7 s after the flows were imported).

It is the same server Prefect starts: the same command (uvicorn with prefect.server.api.server:create_app), the
same environment flags (UI off; an ephemeral server, so no background services), the same database under
PREFECT_HOME. The flow is pointed at it with PREFECT_API_URL for its duration, and it is stopped at the end. When
PREFECT_API_URL is already set (a running Prefect server), none is started: the flow uses that server.

It runs in its own session (process group), so the Ctrl-C a terminal sends to the whole foreground group reaches
only `minetax run`: without that the API died at once while the run, unwinding, still needed it (Prefect's client
then retried against it for a minute). `minetax run` stops it when it exits, however it ends (atexit, after a
signal too: minetax.interrupts turns SIGINT and SIGTERM into a normal unwinding), and on Linux the kernel sends it
SIGTERM if `minetax run` dies without unwinding (kill -9): it is never left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from minetax.errors import MinetaxError

STARTUP_TIMEOUT_S = 120.0  # a busy 2-core machine can take long; Prefect's own default is 20 s
TIMEOUT_VAR = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"  # Prefect's own setting for the same wait


STOP_TIMEOUT_S = 3.0  # then it is killed: its database is SQLite, safe against that, and a run must stop fast

# uvicorn, started so that it gets SIGTERM when its parent dies (Linux PR_SET_PDEATHSIG; elsewhere it is not set).
# The last argument is the parent's PID: if the parent died before prctl took effect, the server exits at once.
_LAUNCH = """\
import ctypes, os, signal, sys
parent = int(sys.argv.pop())
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
except (OSError, AttributeError):
    pass
if os.getppid() != parent:
    sys.exit(0)
import gc
gc.disable()  # no cycle collection while Prefect's server is imported and built: 0.4-0.6 s of its 2.3 s
import prefect.server.api.server as server
factory = server.create_app
def create_app(*args, **kwargs):
    app = factory(*args, **kwargs)
    gc.freeze()  # what start-up made lives as long as the server: never scanned again
    gc.enable()
    return app
server.create_app = create_app
import runpy
sys.argv[0] = "uvicorn"
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


class TemporaryAPIError(MinetaxError):
    """The temporary API did not start: shown to the user as a minetax error, with the server's own output."""


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TemporaryAPI:
    """A Prefect API server in a subprocess on 127.0.0.1: launch, wait, stop (also at exit)."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.home = os.environ.get("PREFECT_HOME")  # where its database is
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile()  # the server's error output, shown if it fails to start

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def launch(self) -> None:
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
               "PREFECT__SERVER_FINAL": "1", **_skip_block_registration(), **_no_automations()}
        # py-key-value (Prefect's server stores through it) checks its own argument types at run time with beartype,
        # which warns on a mismatch and rewrites each of its modules on import: 0.2 s of the server's start
        env.setdefault("PY_KEY_VALUE_DISABLE_BEARTYPE", "true")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, "--factory", "prefect.server.api.server:create_app", "--host",
             "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on", str(os.getpid())],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)

    def _errors(self) -> str:
        """The end of the server's error output: its last lines name the cause (a traceback comes before them)."""
        self.log.seek(0)
        lines = [x for x in self.log.read().decode(errors="replace").splitlines() if x.strip()]
        return "\n".join(lines[-6:])

    def wait(self, timeout: float | None = None) -> str:
        """Block until the API answers its health check; return its URL. Raise with the server's own error
        output if it exits or does not answer in time (`timeout`, else $PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_
        SECONDS, else 120 s)."""
        if timeout is None:
            try:
                timeout = float(os.environ.get(TIMEOUT_VAR) or STARTUP_TIMEOUT_S)
            except ValueError:
                self.stop()
                raise TemporaryAPIError(f"{TIMEOUT_VAR}={os.environ[TIMEOUT_VAR]!r}: give a number of seconds"
                                        ) from None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.process
            if process is None:
                raise TemporaryAPIError("the temporary Prefect API was stopped before it was ready")
            if process.poll() is not None:
                err = self._errors()
                if "address already in use" in err.lower():  # the port was taken after it was chosen
                    self.port = _free_port()
                    self.log.seek(0)
                    self.log.truncate()
                    self.launch()
                    continue
                raise TemporaryAPIError(_known_cause(err) or
                                        f"the temporary Prefect API exited with code {process.returncode}:\n{err}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return self.url
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        self.stop()
        raise TemporaryAPIError(f"the temporary Prefect API did not answer within {timeout:g} s (set PREFECT_API_URL "
                           "to a running Prefect server, or try again on a less busy machine)")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        self.log.close()


def _skip_block_registration() -> dict[str, str]:
    """Prefect's settings that skip the block registration of the server's start, once a server has done it on
    this PREFECT_HOME (its memo store records it), unless the environment sets them.

    A starting server registers Prefect's block types in its database, once per set of installed collections:
    every start imports every installed Prefect collection to hash their block types and compare the hash with the
    one it stored. With prefect-dask installed that imports Dask's `distributed`: 0.7-0.8 s of the API's 3.5-4 s
    start, on every `minetax run`, for nothing (the types are in the database since the first run; minetax's flows
    use no blocks). The first run on a new PREFECT_HOME still registers them."""
    names = ("PREFECT_API_BLOCKS_REGISTER_ON_START", "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION")
    if any(n in os.environ for n in names):
        return {}
    home = os.environ.get("PREFECT_HOME") or os.path.expanduser("~/.prefect")
    memo = os.environ.get("PREFECT_SERVER_MEMO_STORE_PATH") or os.environ.get("PREFECT_MEMO_STORE_PATH") or \
        os.path.join(home, "memo_store.toml")
    try:
        with open(memo, encoding="utf-8") as f:
            done = "block_auto_registration" in f.read()
    except OSError:
        done = False
    return dict.fromkeys(names, "false") if done else {}


def _no_automations() -> dict[str, str]:
    """Prefect's setting that turns off the automation services (reactive triggers and their actions) of the
    temporary API, unless the environment sets it. An automation is defined on a lasting server; the temporary API
    lives for one command and nobody defines one there. Starting them cost 0.3-0.4 s of CPU before the API
    answered its first request."""
    name = "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"
    return {} if name in os.environ or "PREFECT_API_SERVICES_TRIGGERS_ENABLED" in os.environ else {name: "false"}


current: TemporaryAPI | None = None  # the API start() launched last (its process: current.process)


def _known_cause(output: str) -> str | None:
    """A full or read-only disk under Prefect's database, said as such (not as the server's traceback)."""
    where = os.environ.get("PREFECT_HOME") or "PREFECT_HOME"
    low = output.lower()
    if "database or disk is full" in low or "no space left on device" in low:
        return (f"no space left on the device holding {where} (Prefect's database for the run): free space and run "
                "again; nothing was changed")
    if "readonly database" in low or "read-only file system" in low:
        return (f"{where} is read-only (Prefect's database for the run cannot be written): make it writable, or point "
                "MINETAX_HOME (or --home) at a writable folder; nothing was changed")
    return None


def start() -> Callable[[], str | None]:
    """Launch the temporary API now, unless PREFECT_API_URL names a server or this process has one running
    already on the same PREFECT_HOME; return `ready()`, which waits for it and returns its URL (None: use the
    configured server). The server is stopped when this process exits, after Prefect's own exit handlers
    (registered later, so run earlier) have sent their last events to it."""
    if os.environ.get("PREFECT_API_URL"):
        return lambda: None
    global current
    if current is not None and current.process is not None and current.process.poll() is None and \
            current.home == os.environ.get("PREFECT_HOME"):
        return current.wait  # a second flow of the same command (`minetax compare`) uses the API already up
    api = current = TemporaryAPI()
    api.launch()
    atexit.register(api.stop)
    return api.wait
