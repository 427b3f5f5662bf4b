"""Commands that write files from the published snapshot: `export` (workbook, CSV, Parquet) and `report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from minetax.cli.common import HomeOpt, console
from minetax.config import DEFAULT_SCENARIO, Settings
from minetax.errors import MinetaxError

OutOpt = Annotated[Path, typer.Option(help="folder to write into (created if missing)")]


def _check_scenarios(*ids: str | None) -> None:
    from minetax.tax.schemes import check_id

    for v in ids:
        if v is not None:
            check_id("scenario", v)


def export(out: OutOpt,
           format: Annotated[str, typer.Option("--format", help="xlsx | csv | parquet")] = "xlsx",
           scenario: Annotated[str | None, typer.Option(help="scenario (default: kz-baseline for xlsx; all for "
                                                        "csv/parquet)")] = None,
           compare: Annotated[str | None, typer.Option(
               "--compare", help="reform scenario to set against it (csv/parquet: both scenarios' rows and their "
               "comparison)")] = None,
           force: Annotated[bool, typer.Option(help="overwrite existing files")] = False,
           home: HomeOpt = None) -> None:
    """Export from the published snapshot: an Excel workbook, or CSV/Parquet of every analyst view."""
    from minetax.outputs.export import context, export_views
    from minetax.outputs.workbook import write_workbook

    _check_scenarios(scenario, compare)
    settings = Settings.make(home)
    if format == "xlsx":
        ctx = context(settings, scenario or DEFAULT_SCENARIO, compare)
        console.print(f"wrote {write_workbook(settings, ctx, out, force)}")
    elif format in ("csv", "parquet"):
        paths = export_views(settings, format, out, scenario or (DEFAULT_SCENARIO if compare else None), force,
                             compare)
        console.print(f"wrote {len(paths)} files to {out.resolve()}:")
        for p in paths:
            console.print(f"  {p.name}")
    else:
        raise MinetaxError("--format must be xlsx, csv or parquet")


def report(out: OutOpt,
           format: Annotated[str, typer.Option("--format", help="pdf | html")] = "pdf",
           scenario: Annotated[str, typer.Option(help="scenario")] = DEFAULT_SCENARIO,
           compare: Annotated[str | None, typer.Option("--compare", help="reform scenario to set against it")] = None,
           force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
           home: HomeOpt = None) -> None:
    """A report for people: revenue over time with its band, by scheme, baseline vs reform, tax gap, assumptions."""
    from minetax.outputs.export import context
    from minetax.outputs.report import write_html, write_pdf

    _check_scenarios(scenario, compare)
    if format not in ("pdf", "html"):
        raise MinetaxError("--format must be pdf or html")
    settings = Settings.make(home)
    ctx = context(settings, scenario, compare)
    path = (write_pdf if format == "pdf" else write_html)(settings, ctx, out, force)
    console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command()(report)
