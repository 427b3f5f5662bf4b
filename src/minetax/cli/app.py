"""The `minetax` command: the typer app made of the command modules, and main() with its error handling.

Each command module has a `register(app)` that adds its commands; the order here is the order of `minetax --help`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.text import Text

from minetax import interrupts
from minetax.cli import exits, forecast, init, outputs, policy, query, run, sample, schedule
from minetax.cli.common import err, interrupt_note, quick_exit
from minetax.errors import MinetaxError, explain

COMMANDS = (run, init, schedule, outputs, forecast, policy, query, sample)
# Command modules that may not be there yet: `minetax models` (the model graph) once minetax/cli/models.py exists.
OPTIONAL_COMMANDS = ("minetax.cli.models", "minetax.cli.docs")


def make_app() -> typer.Typer:
    """The typer app with every command registered."""
    app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                      help="Estimate tax revenue from cryptocurrency mining (Kazakhstan lead case).")
    app.callback()(_root_options)
    for module in COMMANDS:
        module.register(app)
    for name in OPTIONAL_COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:  # the module is there but something it imports is not: a bug, show it
                raise
            continue
        module.register(app)
    return app


def _print_version(value: bool) -> None:
    if value:
        from minetax import version

        typer.echo(version.current().describe())
        raise typer.Exit()


def _root_options(show_version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_print_version,
        help="print the version, the code commit when known, and where the resources are read from")] = False) -> None:
    pass


app = make_app()


def fail(message: str) -> NoReturn:
    """Print `error: <message>` (user data in it printed as text, never as markup) and exit with code 1."""
    err.print(Text.assemble(("error:", "red"), " ", message), highlight=False, soft_wrap=True)
    sys.exit(1)


def _home_hint() -> Path:
    """The home this command uses (--home, else MINETAX_HOME, else the default), to name files in messages."""
    from minetax.config import default_home

    args = sys.argv[1:]
    for i, a in enumerate(args):
        if a.startswith("--home="):
            return Path(a.split("=", 1)[1]).expanduser()
        if a == "--home" and i + 1 < len(args):
            return Path(args[i + 1]).expanduser()
    return default_home()


def _interrupted() -> str:
    return f"interrupted ({interrupts.signal_name() or 'Ctrl-C'}); {interrupt_note[0]()}"


def main() -> None:
    """Run the command. Every failure a user can act on is one `error: …` line (and its details), exit code 1:
    MinetaxError, Ctrl-C or SIGTERM, a full or read-only disk, a damaged database. Other errors are bugs and keep
    their traceback."""
    interrupts.install()
    try:
        _main()
    except SystemExit as e:
        interrupts.settle()  # a signal while the temporary API is stopped at exit must not print a traceback
        if quick_exit[0]:
            exits.leave(e.code)
        raise
    finally:
        interrupts.settle()
    if quick_exit[0]:
        exits.leave(0)


def _main() -> None:
    try:
        app()
    except SystemExit as e:
        if interrupts.requested() and e.code not in (0, None):  # typer turns KeyboardInterrupt into exit code 130
            fail(_interrupted())
        raise
    except MinetaxError as e:
        fail(_interrupted() if interrupts.requested() else str(e))
    except (Exception, KeyboardInterrupt) as e:
        if interrupts.requested() or isinstance(e, KeyboardInterrupt):
            fail(_interrupted())
        message = explain(e, _home_hint())
        if message is None:
            raise
        fail(message)


if __name__ == "__main__":
    main()
