"""Commands that read the published snapshot and print it: `sql` (ad hoc, sandboxed) and `runs` (the run log)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.text import Text

from minetax.cli.common import HomeOpt, console, stdout_width
from minetax.cli.layout import Col, Layout, show
from minetax.config import Settings
from minetax.errors import MinetaxError

if TYPE_CHECKING:  # pandas is imported where it is used: `minetax run` launches Prefect's API first
    import pandas as pd


def sql(query: Annotated[str | None, typer.Argument(help="SQL to run on the published snapshot")] = None,
        file: Annotated[Path | None, typer.Option("-f", "--file", help="read the query from a file")] = None,
        param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE for $NAME in the query "
                                                        "(repeatable)")] = None,
        home: HomeOpt = None,
        format: Annotated[str, typer.Option("--format", help="auto (a table if it fits the terminal, else one block "
                                            "per row) | table | vertical | csv | json | markdown")] = "auto",
        width: Annotated[int | None, typer.Option("--width", help="lay out for this many columns instead of the "
                                                  "terminal's; 0: no limit (a table as wide as it needs)")] = None,
        timeout: Annotated[float, typer.Option("--timeout", help="stop the query after SECONDS")] = 60.0,
        memory: Annotated[str, typer.Option("--memory", help="memory limit of the query, e.g. 500MB")] = "2GB") -> None:
    """Run read-only SQL on the published snapshot (examples: sql/examples/*.sql)."""
    from minetax.publish.query import parse_params, read_query_file, run_query

    if format not in FORMATS:
        raise MinetaxError(f"--format must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}")
    if width is not None and width < 0:
        raise MinetaxError("--width must be 0 (no limit) or more")
    if file is not None and query is None:
        query = read_query_file(file)
    elif query is None or file is not None:
        raise MinetaxError("give a query or -f FILE (one of them)")
    df = run_query(Settings.make(home), query, parse_params(param or []), timeout=timeout, memory=memory,
                   source=None if file is None else str(file))
    if format == "csv":
        df.to_csv(sys.stdout, index=False)
    elif format == "json":
        sys.stdout.write(df_to_json(df) + "\n")
    elif format == "markdown":
        sys.stdout.write(df_to_markdown(df))
    else:
        _print_result(df, cast(Layout, format), width)


FORMATS = ("auto", "table", "vertical", "csv", "json", "markdown")


def _print_result(df: pd.DataFrame, layout: Layout, width: int | None) -> None:
    """A table that fits the width, or one block per row; numbers never cut. Cells and headers are text, never
    markup: a value like [/red] prints as it is."""
    out = Console(width=stdout_width(240), markup=False, highlight=False)
    cols, rows = _cells(df)
    show(out, cols, rows, layout=layout, width=width)
    out.print(f"{len(df)} rows")


def _cells(df: pd.DataFrame) -> tuple[list[Col], list[list[str]]]:
    cols = [Col(str(c), number=df[c].dtype.kind in "iuf") for c in df.columns]
    return cols, [[_cell(v) for v in row] for row in df.itertuples(index=False)]


def df_to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of the displayed values; numbers right-aligned, | and line breaks escaped."""
    cols, rows = _cells(df)

    def line(cells: list[str]) -> str:
        escaped = (c.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>") for c in cells)
        return "| " + " | ".join(escaped) + " |\n"

    rule = "|" + "|".join("---:" if c.number else "---" for c in cols) + "|\n"
    return line([c.name for c in cols]) + rule + "".join(line(r) for r in rows)


def df_to_json(df: pd.DataFrame) -> str:
    """Records; DATE columns (datetimes at midnight) as YYYY-MM-DD, other timestamps ISO."""
    from uuid import UUID

    df = df.copy()
    for c in df.columns:
        if df[c].dtype.kind == "M":
            s = df[c]
            df[c] = s.dt.strftime("%Y-%m-%d") if (s.dropna() == s.dropna().dt.normalize()).all() \
                else s.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif df[c].dtype == object:  # UUID, BLOB and BIT values as text (pandas' to_json fails on them)
            df[c] = df[c].map(lambda v: bytes(v).decode("ascii", "backslashreplace") if isinstance(
                v, bytes | bytearray | memoryview) else str(v) if isinstance(v, UUID) else v)
    try:
        return json.dumps(json.loads(df.to_json(orient="records")), indent=1)
    except (OverflowError, TypeError, ValueError) as e:
        raise MinetaxError(f"cannot write this result as JSON ({e}); cast the column to VARCHAR or use --format csv") \
            from e


def _cell(v: Any) -> str:
    import pandas as pd

    if v is None or (isinstance(v, float) and v != v) or v is getattr(pd, "NaT", None):
        return ""
    if isinstance(v, pd.Timestamp) and v == v.normalize():
        return str(v.date())
    if isinstance(v, float):  # -0.0 shows as 0; beyond 1e15 a double has no more digits worth printing
        v += 0.0
        return f"{v:,.2f}" if 1 <= abs(v) < 1e15 else f"{v:.15g}" if abs(v) >= 1e15 else f"{v:.6g}"
    return str(v)


def runs(home: HomeOpt = None, limit: Annotated[int, typer.Option(help="most recent runs to show")] = 20) -> None:
    """List runs: id, Prefect flow run, start, finish, status, scenario, periods and inputs (from the published
    snapshot and the run log: never the warehouse, so it never blocks or fails a run), and where each run's
    validation report is (Data Docs; `minetax docs` builds what is missing)."""
    from minetax.publish.runs import list_runs
    from minetax.validate import docs

    settings = Settings.make(home)
    df, source = list_runs(settings, limit)
    rows = [[_text(r.run_id), _text(r.flow_run_id)[:8], _text(r.started_at)[:19], _text(r.finished_at)[:19],
             _text(r.status), _text(r.scenario_id), _text(r.periods), _text(r.inputs)] for r in df.itertuples()]
    # a table when it fits the terminal, else one block per run; values are text (never markup), never cut
    show(console, [Col(c) for c in ("run", "flow run", "started", "finished", "status", "scenario", "periods",
                                    "inputs")], rows, title=f"Runs ({source})")
    for r in df[df.status.isin(["failed", "interrupted", "crashed"])].head(3).itertuples():
        first = _text(r.message).splitlines()
        console.print(Text(f"{r.run_id} {r.status}: ", style="red") + Text(first[0] if first else ""))
    reported = docs.runs_with_results(settings)
    shown = [r for r in df.run_id if isinstance(r, str) and docs.index_path(settings, r).stem in reported]
    if shown:  # file names relative to the folder, so that each line fits the terminal
        console.print(Text("Validation reports (Data Docs; `minetax docs --run RUN` builds one and prints its path, "
                           f"`minetax docs --serve` serves them), in {docs.folder(settings)}:"))
        for run_id in shown:
            console.print(Text(f"  {run_id}  {docs.index_path(settings, run_id).relative_to(docs.folder(settings))}"))


def _text(v: Any) -> str:
    """A cell as plain text: missing values (None, NaN, NaT) are empty."""
    return "" if v is None or v != v else _cell(v)


def register(app: typer.Typer) -> None:
    app.command()(sql)
    app.command()(runs)
