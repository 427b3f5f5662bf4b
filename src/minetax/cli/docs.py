"""The `docs` command: the validation reports (Great Expectations Data Docs) of the runs, built when needed."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from minetax.cli.common import HomeOpt, console, err
from minetax.config import Settings
from minetax.errors import MinetaxError


def docs(run: Annotated[str | None, typer.Option("--run", help="one run's page (its id, as `minetax runs` shows "
                                                 "it)")] = None,
         serve: Annotated[bool, typer.Option("--serve", help="serve the reports on 127.0.0.1 until Ctrl-C")] = False,
         port: Annotated[int, typer.Option("--port", help="port for --serve (0: any free port)")] = 8765,
         rebuild: Annotated[bool, typer.Option("--rebuild", help="render every page again from the stored "
                                               "results")] = False,
         home: HomeOpt = None) -> None:
    """Print where the validation reports are (Data Docs HTML, one page per run and suite, failed rows included):
    the index of every run, or one run's page with --run; pages missing or older than their results are built
    first (Great Expectations' renderer, a few seconds)."""
    from minetax.validate import docs as vdocs

    settings = Settings.make(home)
    by_run = vdocs.runs_with_results(settings)
    if not by_run:
        raise MinetaxError(f"no validation results under {vdocs.folder(settings)} yet: run `minetax run` first")
    if run is not None and vdocs.index_path(settings, run).stem not in by_run:
        known = ", ".join(list(by_run)[:5])
        raise MinetaxError(f"no validation results for run {run!r} (latest: {known})")
    if rebuild or _stale(settings, run):
        err.print("building validation reports (Great Expectations Data Docs)…", highlight=False)
        vdocs.render(settings, run, force=rebuild)
    page = vdocs.index_path(settings, run)
    if serve:
        _serve(vdocs.folder(settings), page, port)
        return
    console.print(Text(str(page)), soft_wrap=True)
    if run is not None:
        for failed in vdocs.failed_pages(settings, run):
            console.print(Text("failed: " + str(failed)), soft_wrap=True)


def _stale(settings: Settings, run: str | None) -> bool:
    """A page, the run's page or the index is missing or older than the newest stored result."""
    from minetax.validate import docs as vdocs

    stored = vdocs.results(settings, run)
    newest = max((p.stat().st_mtime_ns for p in stored), default=0)
    pairs = [(vdocs.index_path(settings, run), newest), (vdocs.index_path(settings), newest),
             *((p.with_suffix(".html"), p.stat().st_mtime_ns) for p in stored)]
    return any(not page.exists() or page.stat().st_mtime_ns < since for page, since in pairs)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


def _serve(root: Path, page: Path, port: int) -> None:
    """Serve `root` on 127.0.0.1 (never on other interfaces) until Ctrl-C."""
    handler = functools.partial(_Quiet, directory=str(root))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as e:
        raise MinetaxError(f"cannot serve on 127.0.0.1:{port} ({e.strerror or e}); choose another with --port") from e
    url = f"http://127.0.0.1:{server.server_address[1]}/{page.relative_to(root).as_posix()}"
    console.print(Text(f"serving {root} at {url} (Ctrl-C stops)"), soft_wrap=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("stopped", highlight=False)
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.command("docs")(docs)
