"""Commands that read the published snapshot and print it: `sql` (ad hoc, sandboxed) and `runs` (the run log)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from minetax.cli.common import HomeOpt, console
from minetax.config import Settings
from minetax.errors import MinetaxError

if TYPE_CHECKING:  # pandas is imported where it is used: `minetax run` launches Prefect's API first
    import pandas as pd


def sql(query: Annotated[str | None, typer.Argument(help="SQL to run on the published snapshot")] = None,
        file: Annotated[Path | None, typer.Option("-f", "--file", help="read the query from a file")] = None,
        param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE for $NAME in the query "
                                                        "(repeatable)")] = None,
        home: HomeOpt = None,
        format: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
        timeout: Annotated[float, typer.Option("--timeout", help="stop the query after SECONDS")] = 60.0,
        memory: Annotated[str, typer.Option("--memory", help="memory limit of the query, e.g. 500MB")] = "2GB") -> None:
    """Run read-only SQL on the published snapshot (examples: sql/examples/*.sql)."""
    from minetax.publish.query import parse_params, read_query_file, run_query

    if format not in ("table", "csv", "json"):
        raise MinetaxError("--format must be table, csv or json")
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
    else:
        _print_table(df)


def _print_table(df: pd.DataFrame) -> None:
    """Cells and headers are Text, never markup: a value like [/red] prints as it is."""
    out = Console(width=None if sys.stdout.isatty() else 240)
    t = Table()
    for c in df.columns:
        t.add_column(Text(str(c)), justify="right" if df[c].dtype.kind in "iuf" else "left")
    for row in df.itertuples(index=False):
        t.add_row(*[Text(_cell(v)) for v in row])
    out.print(t)
    out.print(f"{len(df)} rows")


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
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.6g}"
    return str(v)


def runs(home: HomeOpt = None, limit: Annotated[int, typer.Option(help="most recent runs to show")] = 20) -> None:
    """List runs: id, Prefect flow run, start, finish, status, scenario, periods and inputs (from the published
    snapshot and the run log: never the warehouse, so it never blocks or fails a run)."""
    from minetax.publish.runs import list_runs

    df, source = list_runs(Settings.make(home), limit)
    t = Table("run", "flow run", "started", "finished", "status", "scenario", "periods", "inputs",
              title=f"Runs ({source})")
    for r in df.itertuples():  # values are data, printed as text (never as markup)
        t.add_row(*(Text(v) for v in (_text(r.run_id), _text(r.flow_run_id)[:8], _text(r.started_at)[:19],
                                      _text(r.finished_at)[:19], _text(r.status), _text(r.scenario_id),
                                      _text(r.periods), _text(r.inputs))))
    console.print(t)
    for r in df[df.status.isin(["failed", "interrupted", "crashed"])].head(3).itertuples():
        first = _text(r.message).splitlines()
        console.print(Text(f"{r.run_id} {r.status}: ", style="red") + Text(first[0] if first else ""))


def _text(v: Any) -> str:
    """A cell as plain text: missing values (None, NaN, NaT) are empty."""
    return "" if v is None or v != v else _cell(v)


def register(app: typer.Typer) -> None:
    app.command()(sql)
    app.command()(runs)
