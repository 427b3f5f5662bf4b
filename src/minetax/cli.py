"""The `minetax` command line."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from minetax.config import DEFAULT_SCENARIO, Settings
from minetax.errors import MinetaxError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Estimate tax revenue from cryptocurrency mining (Kazakhstan lead case).")
console = Console()
err = Console(stderr=True)

HomeOpt = Annotated[Path | None, typer.Option("--home", help="state folder (default: $MINETAX_HOME or "
                                              "~/.local/share/minetax)")]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="input files (default: the embedded data/)")]


def prefect_env(settings: Settings) -> None:
    """Prefect state under MINETAX_HOME, telemetry off, time for the temporary API to start."""
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # Prefect's own log lines would repeat our errors with tracebacks; we print errors ourselves.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")


@app.command()
def run(home: HomeOpt = None, data_dir: DataOpt = None,
        scenario: Annotated[str, typer.Option(help="scenario id (schemes/scenarios/<id>.yaml)")] = DEFAULT_SCENARIO):
    """Load, validate, estimate and publish (the main job), then print a revenue summary."""
    settings = Settings.make(home, data_dir)
    settings.ensure()
    prefect_env(settings)
    t0 = time.perf_counter()
    with console.status("starting Prefect (temporary local API)…") as status:
        from flows.pipeline import run_flow

        state = run_flow(home=str(settings.home), data_dir=str(settings.data_dir), scenario_id=scenario,
                         progress=lambda msg: status.update(msg + "…"), return_state=True)
    if state.is_failed():
        exc = state.result(raise_on_failure=False)
        if isinstance(exc, MinetaxError):
            raise exc
        if isinstance(exc, BaseException):  # a bug, not a user error: show where
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        raise MinetaxError(f"run failed: {exc!r}")
    out = state.result()
    print_summary(settings, out, time.perf_counter() - t0)


def print_summary(settings: Settings, out: dict, seconds: float) -> None:
    from minetax.query import run_query

    df = run_query(settings, "SELECT * FROM revenue_by_year WHERE run_id IS NOT NULL "
                             f"AND scenario_id = '{out['scenario_id']}' ORDER BY scheme_id, year")
    span = run_query(settings, "SELECT min(period_start) AS a, max(period_end) AS b FROM estimates "
                               f"WHERE scenario_id = '{out['scenario_id']}'").iloc[0]
    t = Table(title=f"Revenue by year — scenario {out['scenario_id']}, {span['a']:%Y-%m} to {span['b']:%Y-%m}, "
                    f"run {out['run_id']}")
    for col, just in (("year", "left"), ("scheme", "left"), ("farms", "right"), ("periods", "right"),
                      ("base GWh", "right"), ("tax KZT", "right")):
        t.add_column(col, justify=just)
    for r in df.itertuples():
        t.add_row(str(r.year), r.scheme_id, str(r.farms), str(r.periods), f"{r.base_kwh / 1e6:,.1f}",
                  f"{r.tax_kzt:,.0f}")
    t.add_row("total", "", "", "", f"{df.base_kwh.sum() / 1e6:,.1f}", f"{df.tax_kzt.sum():,.0f}", style="bold")
    console.print(t)
    console.print(f"published snapshot: {out['published']}")
    console.print(f"warehouse:          {out['warehouse']}")
    console.print(f"query it:           minetax sql \"select * from revenue_by_year\"   ({seconds:.1f} s)")


@app.command()
def sql(query: Annotated[str, typer.Argument(help="SQL to run on the published snapshot")],
        home: HomeOpt = None,
        format: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table"):
    """Run read-only SQL on the published snapshot."""
    from minetax.query import run_query

    if format not in ("table", "csv", "json"):
        raise MinetaxError("--format must be table, csv or json")
    df = run_query(Settings.make(home), query)
    if format == "csv":
        df.to_csv(sys.stdout, index=False)
    elif format == "json":
        sys.stdout.write(df_to_json(df) + "\n")
    else:
        out = Console(width=None if sys.stdout.isatty() else 240)
        t = Table()
        for c in df.columns:
            t.add_column(str(c), justify="right" if df[c].dtype.kind in "iuf" else "left")
        for row in df.itertuples(index=False):
            t.add_row(*[_cell(v) for v in row])
        out.print(t)
        out.print(f"{len(df)} rows")


def df_to_json(df: pd.DataFrame) -> str:
    """Records; DATE columns (datetimes at midnight) as YYYY-MM-DD, other timestamps ISO."""
    df = df.copy()
    for c in df.columns:
        if df[c].dtype.kind == "M":
            s = df[c]
            df[c] = s.dt.strftime("%Y-%m-%d") if (s.dropna() == s.dropna().dt.normalize()).all() \
                else s.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return json.dumps(json.loads(df.to_json(orient="records")), indent=1)


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and v != v) or v is getattr(pd, "NaT", None):
        return ""
    if isinstance(v, pd.Timestamp) and v == v.normalize():
        return str(v.date())
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.6g}"
    return str(v)


@app.command("generate-sample")
def generate_sample(
        out: Annotated[Path, typer.Option(help="folder for farms.csv, energy_readings.parquet, farm_hashrate.parquet")],
        farms: Annotated[int, typer.Option(help="number of farms (the first 14 are the seed's templates)")] = 14,
        start: Annotated[str, typer.Option(help="first month YYYY-MM or day YYYY-MM-DD")] = "2021-01",
        end: Annotated[str, typer.Option(help="last month YYYY-MM or day YYYY-MM-DD (inclusive)")] = "2024-12",
        interval: Annotated[str, typer.Option(help="15min | 30min | 1h | 1d")] = "1h",
        seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 20260101):
    """Generate a deterministic synthetic sample of Kazakh mining farms (streamed to Parquet)."""
    from rich.progress import Progress

    from minetax.sample import generate

    with Progress(console=console, transient=True) as p:
        task = p.add_task("generating farms", total=farms)
        counts = generate(out, farms, start, end, interval, seed, progress=lambda n: p.advance(task))
    console.print(f"wrote {counts['farms']} farms, {counts['readings']:,} readings, "
                  f"{counts['hashrate_days']:,} hashrate days to {out}")


def main() -> None:
    try:
        app()
    except MinetaxError as e:
        err.print(f"[red]error:[/red] {e}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
