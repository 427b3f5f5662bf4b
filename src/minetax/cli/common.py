"""What every command shares: the consoles, the common options, Prefect's environment, the interrupt note."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from minetax.config import Settings


def stdout_width(default: int) -> int | None:
    """The width to lay output out for: $COLUMNS when set, else the terminal's (None: Rich asks the terminal), else
    (output to a file or a pipe) `default`."""
    return None if os.environ.get("COLUMNS", "").isdigit() or sys.stdout.isatty() else default


# markup off: farm names, file names, paths, scheme titles and query results are printed as text ("[/red]" in a farm
# name is a name, not a style); styling is given explicitly (Text, style=). Status lines take Text for the same reason.
console = Console(width=stdout_width(160), markup=False)
err = Console(stderr=True, markup=False)

HomeOpt = Annotated[Path | None, typer.Option("--home", help="state folder (default: $MINETAX_HOME or "
                                              "~/.local/share/minetax)")]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="input files (default: the embedded data/)")]
SchemesOpt = Annotated[Path | None, typer.Option("--schemes-dir", help="scheme files, scenarios in its scenarios/ "
                                                 "(default: the project's schemes/)")]

# What an interrupt leaves behind, said after "interrupted (…);": a run sets it to say whether anything changed.
interrupt_note: list[Callable[[], str]] = [lambda: "stopped"]

# Set by a command that ran a Prefect flow: main() then leaves without Python's own teardown (minetax.cli.exits).
quick_exit: list[bool] = [False]


def prefect_env(settings: Settings) -> None:
    """Prefect state under MINETAX_HOME, telemetry off, time for the temporary API to start."""
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # Prefect's own log lines would repeat our errors with tracebacks; we print errors ourselves.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    # Nor "Still processing items" when a run stopped by Ctrl-C exits with events unsent (a logger outside prefect.*)
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)


def file_id(path: Path) -> tuple[int, int, int] | None:
    """Inode, modification time and size: a file replaced or rewritten since has another id."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size
