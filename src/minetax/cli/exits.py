"""Leaving the process at once after a command that ran a Prefect flow.

When a Python process ends normally, after the exit handlers, the interpreter tears down every module it imported
and frees their objects one by one. A `minetax run` has imported Prefect, pydantic, pandas, pyarrow and DuckDB:
that teardown took 0.3-0.5 s of the 4 s a run on 2 farms × 1 day costs against a running Prefect server, and does
nothing a later run can see. `leave()` does what a normal exit does that matters (it waits for the threads a normal
exit waits for, runs the exit handlers: Prefect's last events and logs, stopping the temporary API, closing log
files; flushes the standard streams), then ends the process with os._exit. By then the command has closed its
DuckDB connections and files (a DuckDB commit is durable when it returns; the published snapshot is swapped in by
a rename after it is closed).

Only the console entry point (minetax.cli.app.main) calls it, and only after a command that ran a flow
(common.quick_exit); a command run in-process (tests, CliRunner) never gets here.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def _code(code: object) -> int:
    """The exit status sys.exit(code) would give: None is 0, an int is itself, anything else is printed to stderr
    and is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def leave(code: object) -> NoReturn:
    status = _code(code)
    main = threading.main_thread()
    for t in threading.enumerate():  # as a normal exit does: wait for the threads that are not daemons
        if t is not main and not t.daemon and t.is_alive():
            t.join()
    atexit._run_exitfuncs()  # noqa: SLF001 - the handlers a normal exit runs, in the same (reverse) order
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a broken pipe: nothing more can be said
            pass
    os._exit(status)
