"""The `minetax` command line."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from minetax import interrupts
from minetax.config import DEFAULT_SCENARIO, Settings
from minetax.errors import MinetaxError, explain

if TYPE_CHECKING:  # pandas is imported where it is used: `minetax run` launches Prefect's API first
    import pandas as pd

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Estimate tax revenue from cryptocurrency mining (Kazakhstan lead case).")
# markup off: farm names, file names, paths, scheme titles and query results are printed as text ("[/red]" in a farm
# name is a name, not a style); styling is given explicitly (Text, style=). Status lines take Text for the same reason.
console = Console(width=None if sys.stdout.isatty() else 160, markup=False)
err = Console(stderr=True, markup=False)

HomeOpt = Annotated[Path | None, typer.Option("--home", help="state folder (default: $MINETAX_HOME or "
                                              "~/.local/share/minetax)")]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="input files (default: the embedded data/)")]
SchemesOpt = Annotated[Path | None, typer.Option("--schemes-dir", help="scheme files, scenarios in its scenarios/ "
                                                 "(default: the project's schemes/)")]


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
    import logging

    logging.getLogger("EventsWorker").setLevel(logging.ERROR)


@app.command()
def run(home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None,
        scenario: Annotated[str, typer.Option(help="scenario id (schemes/scenarios/<id>.yaml)")] = DEFAULT_SCENARIO):
    """Load, validate, estimate and publish (the main job), then print a revenue summary."""
    settings = Settings.make(home, data_dir, schemes_dir)
    t0 = time.perf_counter()
    out = run_scenario(settings, scenario)
    print_summary(settings, out, time.perf_counter() - t0)


def run_scenario(settings: Settings, scenario: str, flow_name: str = "run_flow", **extra) -> dict:
    """Run a flow for one scenario on Prefect's temporary API, with a progress line; raise on failure."""
    from minetax.tax.schemes import load_scenario

    load_scenario(scenario, settings.scenarios_dir, settings.schemes_dir)  # refused before Prefect starts
    settings.ensure()
    prefect_env(settings)
    _check_writable(settings.home)
    snapshot, before = settings.published_path, _file_id(settings.published_path)
    _interrupt_note[0] = lambda: ("nothing was changed (the run was rolled back)" if _file_id(snapshot) == before
                                  else f"the run had finished: its results are published in {snapshot}")
    with console.status(Text(f"{scenario}: starting Prefect (temporary local API)…")) as status:
        from flows import temporary_api

        ready = temporary_api.start()  # boots while Prefect and the flows are imported
        # pyarrow imports pandas on first use, inside the run: here it loads while the API is still booting
        import pandas  # noqa: F401

        import flows.pipeline

        state = flows.pipeline.call(
            flow_name, ready(), home=str(settings.home), data_dir=str(settings.data_dir), scenario_id=scenario,
            schemes_dir=str(settings.schemes_dir), progress=lambda msg: status.update(Text(f"{scenario}: {msg}…")),
            **extra)
    if state.is_failed():
        exc = state.result(raise_on_failure=False)
        if interrupts.requested():  # whatever the error, it is the consequence of the signal
            raise KeyboardInterrupt
        if isinstance(exc, MinetaxError):
            raise exc
        message = explain(exc, settings.home) if isinstance(exc, BaseException) else None
        if message:
            raise MinetaxError(message) from exc
        if isinstance(exc, BaseException):  # a bug, not a user error: show where
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        raise MinetaxError(f"run failed: {exc!r}")
    return state.result()


def _check_writable(home: Path) -> None:
    """A run writes MINETAX_HOME: refuse a read-only one at once, before Prefect starts (write a file, not
    os.access: root passes every permission check, not a read-only mount)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=home, prefix=".minetax-write-check-"):
            pass
    except OSError as e:
        said = OSError(e.errno, e.strerror, str(home))  # the home, not the name of the probe file
        raise MinetaxError(explain(said, home) or f"MINETAX_HOME {home} cannot be written: {e.strerror}") from e


def print_summary(settings: Settings, out: dict, seconds: float) -> None:
    from minetax.publish.query import run_query

    sid = out["scenario_id"]
    p = {"s": sid}
    df = run_query(settings, "SELECT * FROM revenue_by_year WHERE scenario_id = $s ORDER BY scheme_id, year", p)
    span = run_query(settings, "SELECT min(month) AS a, max(month) AS b, sum(energy_kwh) AS kwh, "
                               "count(DISTINCT farm_id) AS farms FROM farm_month WHERE scenario_id = $s", p).iloc[0]
    dynamic = df.tax_dynamic_kzt.notna().any()
    t = Table(title=f"Revenue by year — scenario {sid}, {span['a']:%Y-%m} to {span['b']:%Y-%m}, run {out['run_id']}")
    cols = [("scheme", "left"), ("year", "left"), ("farms", "right"), ("periods", "right"), ("base GWh", "right"),
            ("tax KZT low", "right"), ("tax KZT", "right"), ("tax KZT high", "right")]
    if dynamic:
        cols.append(("with behaviour KZT", "right"))
    for col, just in cols:
        t.add_column(col, justify=just)
    for r in df.itertuples():
        row = [r.scheme_id, str(r.year), str(r.farms), str(r.periods), f"{r.base_kwh / 1e6:,.1f}",
               f"{r.tax_low_kzt:,.0f}", f"{r.tax_kzt:,.0f}", f"{r.tax_high_kzt:,.0f}"]
        t.add_row(*(row + ([f"{r.tax_dynamic_kzt:,.0f}"] if dynamic else [])))
    total = ["all schemes", "total", str(span["farms"]), "", f"{span['kwh'] / 1e6:,.1f}",
             f"{df.tax_low_kzt.sum():,.0f}", f"{df.tax_kzt.sum():,.0f}", f"{df.tax_high_kzt.sum():,.0f}"]
    t.add_row(*(total + ([f"{df.tax_dynamic_kzt.sum():,.0f}"] if dynamic else [])), style="bold")
    console.print(t)
    gap = run_query(settings, "SELECT country, scheme_id, year(period_start) AS year, sum(gap_low_kzt) AS lo, "
                              "sum(gap_kzt) AS mid, sum(gap_high_kzt) AS hi FROM tax_gap WHERE scenario_id = $s "
                              "GROUP BY ALL ORDER BY scheme_id, year DESC", p)
    for g in gap.groupby("scheme_id").head(1).itertuples():
        console.print(f"tax gap {g.country} {g.year} ({g.scheme_id}, top-down minus declared): "
                      f"{g.mid:,.0f} KZT (range {g.lo:,.0f} to {g.hi:,.0f})")
    console.print(f"published snapshot: {out['published']}")
    console.print(f"warehouse:          {out['warehouse']}")
    console.print(f"query it:           minetax sql \"select * from revenue_by_year\"   ({seconds:.1f} s)")


@app.command()
def backfill(m_from: Annotated[str, typer.Option("--from", help="first month YYYY-MM")],
             m_to: Annotated[str, typer.Option("--to", help="last month YYYY-MM")],
             home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None,
             scenario: Annotated[str, typer.Option(help="scenario id")] = DEFAULT_SCENARIO):
    """Recompute a range of months, tax period by tax period; after a failure, the same command resumes."""
    import re

    for v in (m_from, m_to):
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v):
            raise MinetaxError(f"--from and --to take a month YYYY-MM, got {v!r}")
    if m_from > m_to:
        raise MinetaxError("--from must not be after --to")
    settings = Settings.make(home, data_dir, schemes_dir)
    t0 = time.perf_counter()
    out = run_scenario(settings, scenario, "backfill_flow", m_from=m_from, m_to=m_to)
    console.print(f"recomputed {len(out['chunks'])} tax periods: {', '.join(out['chunks']) or 'none (all done)'}")
    print_summary(settings, out, time.perf_counter() - t0)


@app.command("fetch-network")
def fetch_network(start: Annotated[str, typer.Option("--from", help="first day YYYY-MM-DD")],
                  end: Annotated[str, typer.Option("--to", help="last day YYYY-MM-DD")],
                  home: HomeOpt = None,
                  url: Annotated[str | None, typer.Option(help="metrics API base URL (Coin Metrics v4 shape)")] = None,
                  timeout: Annotated[float, typer.Option(help="seconds per request")] = 10.0,
                  retries: Annotated[int, typer.Option(help="retries of a failed request")] = 3):
    """Fetch daily network data (hashrate, issuance, fees, price) into the drop folder for the next run."""
    import datetime as dt

    from minetax.sources.network import DEFAULT_URL, api_key, write_network_file
    from minetax.sources.network import fetch_network as fetch

    try:
        lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as e:
        raise MinetaxError(f"--from and --to take a day YYYY-MM-DD: {e}") from e
    settings = Settings.make(home)
    with console.status(Text(f"fetching network data {lo}..{hi}…")):
        rows = fetch(url or DEFAULT_URL, lo, hi, key=api_key(settings.home), timeout=timeout, retries=retries)
    path = write_network_file(rows, settings.inbox_dir, lo, hi)
    console.print(f"wrote {len(rows)} days to {path}; the next `minetax run` validates and loads them")


def _need_server() -> str:
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        raise MinetaxError("scheduling needs a running Prefect server (the temporary one cannot keep schedules):\n"
                           "  uv run prefect server start            # in another terminal\n"
                           "  export PREFECT_API_URL=http://127.0.0.1:4200/api")
    return url


@app.command()
def serve(home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None,
          scenario: Annotated[str, typer.Option(help="scenario of the monthly close")] = DEFAULT_SCENARIO,
          url: Annotated[str | None, typer.Option(help="network metrics API for the daily refresh")] = None,
          pause_on_exit: Annotated[bool, typer.Option(help="pause the schedules when serve stops "
                                                      "(Prefect's default)")] = True):
    """Serve the scheduled deployments (monthly close, daily network refresh) against a Prefect server."""
    import signal

    settings = Settings.make(home, data_dir, schemes_dir)
    api = _need_server()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    prefect_env(settings)
    from flows.deployments import MONTHLY_CLOSE, NETWORK_REFRESH, TIMEZONE, for_serve
    from flows.deployments import serve as serve_deployments

    deployments = for_serve(settings, scenario, url)
    console.print(f"serving against {api}: minetax-run/monthly-close ({MONTHLY_CLOSE}, {TIMEZONE}) and "
                  f"minetax-network-refresh/network-refresh ({NETWORK_REFRESH}, {TIMEZONE}); Ctrl-C stops")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        serve_deployments(deployments, pause_on_shutdown=pause_on_exit)
    except KeyboardInterrupt:
        pass
    finally:
        if pause_on_exit:
            err.print(Text.assemble(("serve stopped: the schedules of minetax-run/monthly-close and "
                                     "minetax-network-refresh/network-refresh are now PAUSED on the server.", "yellow"),
                                    " No scheduled run starts until `minetax serve` runs again (serving, or `minetax "
                                    "deploy` for a worker, makes them active again)."), soft_wrap=True)
        else:
            err.print("serve stopped: the schedules stay ACTIVE on the server but nothing executes them; scheduled "
                      "runs will wait as Late until `minetax serve` runs again.", style="yellow", soft_wrap=True)


@app.command()
def deploy(pool: Annotated[str, typer.Option(help="Prefect work pool (type process)")],
           home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None,
           scenario: Annotated[str, typer.Option(help="scenario of the monthly close")] = DEFAULT_SCENARIO,
           url: Annotated[str | None, typer.Option(help="network metrics API for the daily refresh")] = None):
    """Register the scheduled deployments on a work pool, for `prefect worker start --pool POOL` to run."""
    settings = Settings.make(home, data_dir, schemes_dir)
    api = _need_server()
    prefect_env(settings)
    from flows.deployments import to_work_pool

    ids = to_work_pool(settings, scenario, pool, url)
    console.print(f"registered {len(ids)} deployments on pool {pool!r} at {api}; start a worker with:\n"
                  f"  uv run prefect worker start --pool {pool}")


@app.command()
def export(out: Annotated[Path, typer.Option(help="folder to write into (created if missing)")],
           format: Annotated[str, typer.Option("--format", help="xlsx | csv | parquet")] = "xlsx",
           scenario: Annotated[str | None, typer.Option(help="scenario (default: kz-baseline for xlsx; all for "
                                                        "csv/parquet)")] = None,
           compare: Annotated[str | None, typer.Option("--compare", help="reform scenario to set against it (xlsx)")]
           = None,
           force: Annotated[bool, typer.Option(help="overwrite existing files")] = False,
           home: HomeOpt = None):
    """Export from the published snapshot: an Excel workbook, or CSV/Parquet of every analyst view."""
    from minetax.outputs.export import context, export_views, write_workbook
    from minetax.tax.schemes import check_id

    for v in (scenario, compare):
        if v is not None:
            check_id("scenario", v)
    settings = Settings.make(home)
    if format == "xlsx":
        ctx = context(settings, scenario or DEFAULT_SCENARIO, compare)
        console.print(f"wrote {write_workbook(settings, ctx, out, force)}")
    elif format in ("csv", "parquet"):
        paths = export_views(settings, format, out, scenario, force)
        console.print(f"wrote {len(paths)} files to {out.resolve()}:")
        for p in paths:
            console.print(f"  {p.name}")
    else:
        raise MinetaxError("--format must be xlsx, csv or parquet")


@app.command()
def report(out: Annotated[Path, typer.Option(help="folder to write into (created if missing)")],
           format: Annotated[str, typer.Option("--format", help="pdf | html")] = "pdf",
           scenario: Annotated[str, typer.Option(help="scenario")] = DEFAULT_SCENARIO,
           compare: Annotated[str | None, typer.Option("--compare", help="reform scenario to set against it")] = None,
           force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
           home: HomeOpt = None):
    """A report for people: revenue over time with its band, by scheme, baseline vs reform, tax gap, assumptions."""
    from minetax.outputs.export import context
    from minetax.outputs.report import write_html, write_pdf
    from minetax.tax.schemes import check_id

    for v in (scenario, compare):
        if v is not None:
            check_id("scenario", v)
    if format not in ("pdf", "html"):
        raise MinetaxError("--format must be pdf or html")
    settings = Settings.make(home)
    ctx = context(settings, scenario, compare)
    path = (write_pdf if format == "pdf" else write_html)(settings, ctx, out, force)
    console.print(f"wrote {path}")


@app.command()
def forecast(scenario: Annotated[str, typer.Option(help="forecast file schemes/forecasts/<id>.yaml")]
             = DEFAULT_SCENARIO,
             to: Annotated[int, typer.Option("--to", help="last forecast year")] = 2030,
             runs: Annotated[int, typer.Option(help="Monte Carlo draws")] = 2000,
             seed: Annotated[int, typer.Option(help="random seed (same seed, same numbers)")] = 7,
             compare: Annotated[str | None, typer.Option("--compare", help="forecast to subtract, draw by draw")]
             = None,
             home: HomeOpt = None):
    """Forecast revenue for future budget years: P10/P50/P90 by scheme and year, and 1/3/5-year windows."""
    from minetax.forecast.store import run_forecast
    from minetax.tax.schemes import check_id

    for v in (scenario, compare):
        if v is not None:
            check_id("forecast", v)
    if not 1 <= runs <= 100_000:
        raise MinetaxError("--runs must be between 1 and 100000")
    settings = Settings.make(home)
    with console.status(Text(f"simulating {runs} draws of {scenario} to {to}…")):
        run_id, by_year, windows = run_forecast(settings, scenario, to, runs, seed, compare)
    what = f"{scenario} minus {compare}" if compare else scenario
    t = Table("scheme", "year", "P10 bn KZT", "P50 bn KZT", "P90 bn KZT", "mean bn KZT",
              title=f"Forecast {what} — {runs} draws, seed {seed}, run {run_id}")
    for r in by_year.itertuples():
        t.add_row(r.scheme, str(r.year), *(f"{v / 1e9:,.2f}" for v in (r.p10, r.p50, r.p90, r.mean)),
                  style="bold" if r.scheme == "all schemes" else None)
    console.print(t)
    t = Table("scheme", "window", "years", "P10 bn KZT", "P50 bn KZT", "P90 bn KZT", "mean bn KZT",
              title="Budget windows (sum per draw)")
    for r in windows.itertuples():
        t.add_row(r.scheme, f"{r.window_years} y", f"{r.first_year}–{r.last_year}",
                  *(f"{v / 1e9:,.2f}" for v in (r.p10, r.p50, r.p90, r.mean)))
    console.print(t)
    console.print(f"published: {settings.published_path} (forecast_by_year, forecast_budget_window)")


@app.command()
def schemes(detail: Annotated[str | None, typer.Option("--detail", help="show one scheme's dated values")] = None,
            schemes_dir: SchemesOpt = None):
    """List tax schemes and scenarios with their status and references."""
    from minetax.tax.schemes import list_scenarios, list_schemes, load_scenario, load_scheme

    st = Settings.make(schemes_dir=schemes_dir)
    if detail:
        s = load_scheme(detail, st.schemes_dir)
        console.print(Text.assemble((s.scheme_id, "bold"), f": {s.title} — family {s.family}, tax period "
                                    f"{s.tax_period}, rate in {s.rate_unit}, version {s.version[:12]}"))
        t = Table("parameter", "from", "value", "status", "reference")
        for pname, p in s.parameters.items():
            for d, e in p["values"].items():
                t.add_row(pname, str(d), json.dumps(e["value"], default=str), e["status"],
                          " ".join(str(e["reference"]["title"]).split()) + f" {e['reference'].get('url', '')}")
        console.print(t)
        return
    t = Table("scheme", "family", "period", "rate unit", "weakest status", "title", title="Schemes (schemes/*.yaml)")
    for sid in list_schemes(st.schemes_dir):
        s = load_scheme(sid, st.schemes_dir)
        t.add_row(s.scheme_id, s.family, s.tax_period, s.rate_unit, s.status, s.title)
    console.print(t)
    t = Table("scenario", "base", "schemes", "reform", "behaviour", "title",
              title="Scenarios (schemes/scenarios/*.yaml)")
    for cid in list_scenarios(st.scenarios_dir):
        c = load_scenario(cid, st.scenarios_dir, st.schemes_dir)
        reform = "yes" if any(s.version != load_scheme(s.scheme_id, st.schemes_dir).version for s in c.schemes) else ""
        t.add_row(c.scenario_id, c.base or "", ", ".join(s.scheme_id for s in c.schemes), reform,
                  "on" if (c.assumptions.get("behaviour") or {}).get("enabled") else "off", c.title)
    console.print(t)
    console.print("details and references: minetax schemes --detail <scheme>")


@app.command()
def compare(baseline: Annotated[str, typer.Argument(help="baseline scenario, e.g. kz-baseline")],
            reform: Annotated[str, typer.Argument(help="reform scenario, e.g. kz-fee-10")],
            home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None):
    """Baseline vs reform: difference by year, scheme and region, with 1, 3 and 5-year budget windows.

    Both scenarios are run first; a run only recomputes what changed since, so the comparison is never stale."""
    from minetax.tax.compare import by_region
    from minetax.tax.compare import compare as do_compare

    settings = Settings.make(home, data_dir, schemes_dir)
    for scenario in (baseline, reform):
        run_scenario(settings, scenario)
    by_year, windows = do_compare(settings, baseline, reform)
    t = Table("scheme", "year", "baseline KZT", "reform KZT", "difference KZT",
              title=f"{reform} vs {baseline}: revenue by year and scheme")
    for r in by_year.itertuples():
        t.add_row(r.scheme_id, str(r.year), f"{r.tax_baseline_kzt:,.0f}", f"{r.tax_reform_kzt:,.0f}",
                  _signed(r.difference_kzt))
    for y, g in by_year.groupby("year"):
        t.add_row("all schemes", str(y), f"{g.tax_baseline_kzt.sum():,.0f}", f"{g.tax_reform_kzt.sum():,.0f}",
                  _signed(g.difference_kzt.sum()), style="bold")
    console.print(t)
    t = Table("region", "baseline KZT", "reform KZT", "difference KZT", title="By region, all years and schemes")
    for r in by_region(settings, baseline, reform).itertuples():
        t.add_row(r.region, f"{r.tax_baseline_kzt:,.0f}", f"{r.tax_reform_kzt:,.0f}", _signed(r.difference_kzt))
    console.print(t)
    t = Table("scheme", "window", "years", "covered", "baseline KZT", "reform KZT", "difference KZT",
              title="Budget windows (from the first year the reform differs)")
    for r in windows.itertuples():
        t.add_row(r.scheme_id, f"{r.window_years} y", f"{r.first_year}–{r.last_year}", str(r.years_covered),
                  f"{r.tax_baseline_kzt:,.0f}", f"{r.tax_reform_kzt:,.0f}", _signed(r.difference_kzt))
    console.print(t)
    console.print(f"published: {settings.published_path} (tables scheme_comparison, budget_windows)")


@app.command()
def sql(query: Annotated[str | None, typer.Argument(help="SQL to run on the published snapshot")] = None,
        file: Annotated[Path | None, typer.Option("-f", "--file", help="read the query from a file")] = None,
        param: Annotated[list[str] | None, typer.Option("--param", help="NAME=VALUE for $NAME in the query "
                                                        "(repeatable)")] = None,
        home: HomeOpt = None,
        format: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
        timeout: Annotated[float, typer.Option("--timeout", help="stop the query after SECONDS")] = 60.0,
        memory: Annotated[str, typer.Option("--memory", help="memory limit of the query, e.g. 500MB")] = "2GB"):
    """Run read-only SQL on the published snapshot (examples: sql/examples/*.sql)."""
    from rich.text import Text

    from minetax.publish.query import parse_params, read_query_file, run_query

    if format not in ("table", "csv", "json"):
        raise MinetaxError("--format must be table, csv or json")
    if (query is None) == (file is None):
        raise MinetaxError("give a query or -f FILE (one of them)")
    if file is not None:
        query = read_query_file(file)
    df = run_query(Settings.make(home), query, parse_params(param or []), timeout=timeout, memory=memory,
                   source=None if file is None else str(file))
    if format == "csv":
        df.to_csv(sys.stdout, index=False)
    elif format == "json":
        sys.stdout.write(df_to_json(df) + "\n")
    else:  # cells and headers are Text, never markup: a value like [/red] prints as it is
        out = Console(width=None if sys.stdout.isatty() else 240)
        t = Table()
        for c in df.columns:
            t.add_column(Text(str(c)), justify="right" if df[c].dtype.kind in "iuf" else "left")
        for row in df.itertuples(index=False):
            t.add_row(*[Text(_cell(v)) for v in row])
        out.print(t)
        out.print(f"{len(df)} rows")


def _signed(v: float) -> str:
    """A difference in whole KZT with its sign; float noise below half a tenge shows as 0."""
    return "0" if abs(v) < 0.5 else f"{v:+,.0f}"


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


def _cell(v) -> str:
    import pandas as pd

    if v is None or (isinstance(v, float) and v != v) or v is getattr(pd, "NaT", None):
        return ""
    if isinstance(v, pd.Timestamp) and v == v.normalize():
        return str(v.date())
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.6g}"
    return str(v)


@app.command()
def runs(home: HomeOpt = None, limit: Annotated[int, typer.Option(help="most recent runs to show")] = 20):
    """List runs: id, Prefect flow run, start, finish, status, scenario, periods and inputs (from the published
    snapshot and the run log: never the warehouse, so it never blocks or fails a run)."""
    from rich.text import Text

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


def _text(v) -> str:
    """A cell as plain text: missing values (None, NaN, NaT) are empty."""
    return "" if v is None or v != v else _cell(v)


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

    from minetax.sources.sample import generate

    with Progress(console=console, transient=True) as p:
        task = p.add_task("generating farms", total=farms)
        counts = generate(out, farms, start, end, interval, seed, progress=lambda n: p.advance(task))
    console.print(f"wrote {counts['farms']} farms, {counts['readings']:,} readings, "
                  f"{counts['hashrate_days']:,} hashrate days to {out}")


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
    return f"interrupted ({interrupts.signal_name() or 'Ctrl-C'}); {_interrupt_note[0]()}"


_interrupt_note = [lambda: "stopped"]  # what an interrupt leaves behind: run_scenario says more


def _file_id(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def main() -> None:
    """Run the command. Every failure a user can act on is one `error: …` line (and its details), exit code 1:
    MinetaxError, Ctrl-C or SIGTERM, a full or read-only disk, a damaged database. Other errors are bugs and keep
    their traceback."""
    interrupts.install()
    try:
        _main()
    finally:
        interrupts.settle()  # a signal while the temporary API is stopped at exit must not print a traceback


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
