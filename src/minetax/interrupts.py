"""Stopping a run on Ctrl-C or SIGTERM within seconds, cleanly: interrupt DuckDB, then unwind.

`install()` (called once by the command line) makes SIGINT and SIGTERM do the same thing: the first one interrupts
the query of every connection registered with `active(con)` (DuckDB stops a running statement at its next check,
in any thread) and raises KeyboardInterrupt in the main thread, so the run's own `except`/`finally` blocks roll
back its transaction, record it and stop the temporary API. A second or third signal while that happens only
interrupts the connections again: it does not raise, so it cannot cut the rollback short or print a traceback.

DuckDB turns an interrupt that reaches it during a query into its own error ("Query interrupted", a
RuntimeError), not a KeyboardInterrupt; `active()` turns it back into KeyboardInterrupt when a signal was
received, and `requested()` tells the caller that whatever error it holds is the consequence of one.
Prefect-free, like the rest of minetax.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

_active: list[Any] = []  # connections (anything with .interrupt()) doing a run's work
_guard = threading.Lock()
_received: list[int] = []  # signal numbers received since install() (or reset())
_installed: list[bool] = []  # install() was called in this process: the CLI owns the signals
_settled: list[bool] = []  # settle() was called: the command is over, signals no longer raise


@contextlib.contextmanager
def active(con: Any) -> Iterator[None]:
    """Register `con` as a connection doing a run's work, so a signal can interrupt its query. An error raised
    inside because of a signal (DuckDB's "Query interrupted") comes out as KeyboardInterrupt."""
    with _guard:
        _active.append(con)
    take_over()
    try:
        yield con
    except Exception as e:
        if _received:
            raise KeyboardInterrupt(f"interrupted by {signal_name()}") from e
        raise
    finally:
        with _guard:
            if con in _active:
                _active.remove(con)


def interrupt_all() -> None:
    """Interrupt the running query (if any) of every registered connection."""
    with _guard:
        cons = list(_active)
    for con in cons:
        with contextlib.suppress(Exception):  # closed meanwhile: nothing to stop
            con.interrupt()


def requested() -> bool:
    """Whether a SIGINT or SIGTERM has been received since install()."""
    return bool(_received)


def signal_name() -> str:
    """'Ctrl-C' (SIGINT) or 'SIGTERM': the first signal received."""
    if not _received:
        return ""
    return "Ctrl-C" if _received[0] == signal.SIGINT else signal.Signals(_received[0]).name


def _handle(signum: int, frame: FrameType | None) -> None:
    first = not _received and not _settled
    _received.append(signum)
    interrupt_all()
    if first:
        raise KeyboardInterrupt(f"interrupted by {signal_name()}")


def settle() -> None:
    """From now on a signal raises nothing: the command has finished and only exit handlers are left (stopping the
    temporary API, which takes at most a few seconds); an exception there would print a traceback."""
    _settled[:] = [True]


def install() -> None:
    """SIGINT and SIGTERM both stop the process as described above (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        return
    reset()
    _installed[:] = [True]
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # ignored, e.g. `minetax run &` in a script: keep so
        signal.signal(signal.SIGINT, _handle)
    signal.signal(signal.SIGTERM, _handle)


def take_over() -> None:
    """Put the handlers of install() back if something replaced them (Prefect's flow engine swaps in its own
    SIGTERM handler for a flow run; its exception, raised inside a DuckDB query, would come out as DuckDB's
    "Query interrupted" and be taken for an ordinary error). A no-op unless install() was called, or off the main
    thread. Prefect restores the handler it found (ours) when the flow ends."""
    if not _installed or threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(sig)
        if current is not _handle and current is not signal.SIG_IGN:
            signal.signal(sig, _handle)


def reset() -> None:
    """Forget signals received so far (for a process that goes on after handling one, e.g. tests)."""
    _received.clear()
    _settled.clear()
