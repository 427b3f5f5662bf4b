"""Commands that run the pipeline now: `run`, `backfill`, `fetch-network`; and the summary a run prints."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

from minetax import interrupts
from minetax.cli.common import DataOpt, HomeOpt, SchemesOpt, console, file_id, interrupt_note, prefect_env, quick_exit
from minetax.config import DEFAULT_SCENARIO, Settings
from minetax.errors import MinetaxError, explain

ScenarioOpt = Annotated[str, typer.Option(help="scenario id (schemes/scenarios/<id>.yaml)")]
ClusterOpt = Annotated[str | None, typer.Option(
    "--cluster", help="run the map tasks on this Dask scheduler, tcp://HOST:PORT (default: $MINETAX_CLUSTER, else in "
    "this process); needs a Prefect server at $PREFECT_API_URL")]
ReadingsStoreOpt = Annotated[str | None, typer.Option(
    "--readings-store", help="where loaded readings are kept: a folder or s3://bucket/prefix (default: "
    "$MINETAX_READINGS_STORE, else MINETAX_HOME/core/energy_readings)")]


def run(home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None,
        scenario: ScenarioOpt = DEFAULT_SCENARIO, cluster: ClusterOpt = None,
        readings_store: ReadingsStoreOpt = None) -> None:
    """Load, validate, estimate and publish (the main job), then print a revenue summary."""
    settings = Settings.make(home, data_dir, schemes_dir, cluster, readings_store)
    t0 = time.perf_counter()
    out = run_scenario(settings, scenario)
    print_summary(settings, out, time.perf_counter() - t0)


def run_scenario(settings: Settings, scenario: str, flow_name: str = "run_flow", **extra: Any) -> dict[str, Any]:
    """Run a flow for one scenario, with a progress line; raise on failure. The flow runs against the Prefect server
    at PREFECT_API_URL when one is set (where its runs, logs and artifacts are kept; required with --cluster), else
    on Prefect's temporary local API, started here and stopped at exit."""
    from minetax.tax.schemes import load_scenario

    load_scenario(scenario, settings.scenarios_dir, settings.schemes_dir)  # refused before Prefect starts
    check_execution(settings)
    settings.ensure()
    prefect_env(settings)
    _check_writable(settings.home)
    snapshot, before = settings.published_path, file_id(settings.published_path)
    interrupt_note[0] = lambda: ("nothing was changed (the run was rolled back)" if file_id(snapshot) == before
                                 else f"the run had finished: its results are published in {snapshot}")
    server = os.environ.get("PREFECT_API_URL", "").strip()  # a running Prefect server: the run is recorded there
    where = f"Prefect server {server}" if server else "temporary local API"
    with console.status(Text(f"{scenario}: starting Prefect ({where})…")) as status:
        from flows import temporary_api

        ready = (lambda: None) if server else temporary_api.start()  # boots while Prefect and the flows are imported
        _preload()

        # the HTML report and the Data Docs pages (10-15 s) are made on demand (`minetax report`, `minetax docs`, and
        # for a failed run its page below), not by every command-line run, on a server or not; scheduled runs
        # (`minetax serve`) make them and link them from the run's artifacts
        extra.setdefault("report", False)
        from flows import pipeline as flows_pipeline

        state = flows_pipeline.call(
            flow_name, ready(), home=str(settings.home), data_dir=str(settings.data_dir), scenario_id=scenario,
            schemes_dir=str(settings.schemes_dir), progress=lambda msg: status.update(Text(f"{scenario}: {msg}…")),
            **extra)
    quick_exit[0] = True  # Prefect is loaded: main() leaves without Python's teardown (minetax.cli.exits)
    if state.is_failed():
        exc = state.result(raise_on_failure=False)
        if isinstance(exc, MinetaxError) and not interrupts.requested():
            page = _validation_page(settings)
            if page:
                exc.args = (f"{exc}\n  validation report (Data Docs): {page}",)
        _raise_failure(exc, settings.home)
    result: dict[str, Any] = state.result()
    return result


def _preload() -> None:
    """Import the flows, and now what the run imports on first use (here it loads while the temporary API is still
    booting; on a running server it costs the same now or later): pandas (pyarrow and the run's queries load it),
    FastAPI's encoder (Prefect serializes the flow's parameters with it), Prefect's task engine (flows.pipeline
    imports it) and the cluster executors. Without cycle collection meanwhile: imports make millions of objects
    and no garbage, and the collector's passes over them were 20-25% of their time; what they made is then frozen
    (never scanned again)."""
    import gc

    gc.disable()
    try:
        import fastapi.encoders  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow.pandas_compat  # noqa: F401

        import flows.executors  # noqa: F401
        import flows.pipeline  # noqa: F401
    finally:
        gc.freeze()
        gc.enable()


def check_execution(settings: Settings, scheduler: bool = True) -> None:
    """Refuse a bad --cluster or --readings-store at once, before Prefect starts (flows/executors.py; the store is
    opened: a missing bucket or an unreachable endpoint is said now); then export both for the flows, which read
    them from the environment through Settings.make (also in the subprocesses a served deployment starts).
    scheduler: also require the Dask scheduler to answer now (not for a deployment registered for later)."""
    import os

    from minetax.config import CLUSTER_ENV, READINGS_STORE_ENV

    if settings.cluster:
        from flows import executors

        if scheduler:
            executors.require_server(settings)
        else:
            executors.check_address(settings.cluster)
        os.environ[CLUSTER_ENV] = settings.cluster
    if settings.readings_store:
        from minetax.storage import Store

        Store.open(settings.readings_store)
        os.environ[READINGS_STORE_ENV] = settings.readings_store


def _validation_page(settings: Settings) -> Path | None:
    """The Data Docs page of the run that just failed (rendered now: it is the page the user needs), or None."""
    from minetax.publish import runlog
    from minetax.validate import docs

    latest = runlog.read_all(settings)
    if not latest:
        return None
    run_id = latest[0]["run_id"]
    try:
        docs.render(settings, run_id)
        failed = docs.failed_pages(settings, run_id)
    except Exception:  # noqa: BLE001 - the run's own error is what matters; the page is a help
        return None
    return failed[0] if failed else None


def _raise_failure(exc: object, home: Path) -> NoReturn:
    """A failed run as one MinetaxError; a bug (an error no message explains) also prints its traceback."""
    if interrupts.requested():  # whatever the error, it is the consequence of the signal
        raise KeyboardInterrupt
    if isinstance(exc, MinetaxError):
        raise exc
    if isinstance(exc, BaseException):
        message = explain(exc, home)
        if message:
            raise MinetaxError(message) from exc
        traceback.print_exception(exc, file=sys.stderr)  # a bug, not a user error: show where
    raise MinetaxError(f"run failed: {exc!r}")


def _check_writable(home: Path) -> None:
    """A run writes MINETAX_HOME: refuse a read-only one at once, before Prefect starts (write a file, not
    os.access: root passes every permission check, not a read-only mount)."""
    try:
        with tempfile.TemporaryFile(dir=home, prefix=".minetax-write-check-"):
            pass
    except OSError as e:
        said = OSError(e.errno, e.strerror, str(home))  # the home, not the name of the probe file
        raise MinetaxError(explain(said, home) or f"MINETAX_HOME {home} cannot be written: {e.strerror}") from e


def print_summary(settings: Settings, out: dict[str, Any], seconds: float) -> None:
    """Revenue by year and scheme with its band, the latest tax gap per scheme, and where the results are."""
    from minetax import db
    from minetax.publish.query import run_query

    p = {"scenario_id": out["scenario_id"]}
    query = "SELECT * FROM revenue_by_year WHERE scenario_id = $scenario_id ORDER BY scheme_id, year"
    df = run_query(settings, query, p)
    span = run_query(settings, db.sql_text("export/run_summary_span.sql"), p).iloc[0]
    dynamic = bool(df.tax_dynamic_kzt.notna().any())
    t = Table(title=f"Revenue by year — scenario {out['scenario_id']}, {span['first_month']:%Y-%m} to "
                    f"{span['last_month']:%Y-%m}, run {out['run_id']}")
    cols: list[tuple[str, JustifyMethod]] = [
        ("scheme", "left"), ("year", "left"), ("farms", "right"), ("periods", "right"), ("base GWh", "right"),
        ("tax KZT low", "right"), ("tax KZT", "right"), ("tax KZT high", "right")]
    for col, just in cols + ([("with behaviour KZT", "right")] if dynamic else []):
        t.add_column(col, justify=just)
    for r in df.itertuples():
        row = [r.scheme_id, str(r.year), str(r.farms), str(r.periods), f"{r.base_kwh / 1e6:,.1f}",
               f"{r.tax_low_kzt:,.0f}", f"{r.tax_kzt:,.0f}", f"{r.tax_high_kzt:,.0f}"]
        t.add_row(*(row + ([f"{r.tax_dynamic_kzt:,.0f}"] if dynamic else [])))
    total = ["all schemes", "total", str(span["farms"]), "", f"{span['energy_kwh'] / 1e6:,.1f}",
             f"{df.tax_low_kzt.sum():,.0f}", f"{df.tax_kzt.sum():,.0f}", f"{df.tax_high_kzt.sum():,.0f}"]
    t.add_row(*(total + ([f"{df.tax_dynamic_kzt.sum():,.0f}"] if dynamic else [])), style="bold")
    console.print(t)
    gap = run_query(settings, db.sql_text("export/run_summary_tax_gap.sql"), p)
    for g in gap.groupby("scheme_id").head(1).itertuples():
        console.print(f"tax gap {g.country} {g.year} ({g.scheme_id}, top-down minus declared): "
                      f"{g.gap_kzt:,.0f} KZT (range {g.gap_low_kzt:,.0f} to {g.gap_high_kzt:,.0f})")
    console.print(f"published snapshot: {out['published']}")
    console.print(f"warehouse:          {out['warehouse']}")
    console.print(f"query it:           minetax sql \"select * from revenue_by_year\"   ({seconds:.1f} s)")


def backfill(m_from: Annotated[str, typer.Option("--from", help="first month YYYY-MM")],
             m_to: Annotated[str, typer.Option("--to", help="last month YYYY-MM")],
             home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None,
             scenario: Annotated[str, typer.Option(help="scenario id")] = DEFAULT_SCENARIO,
             cluster: ClusterOpt = None, readings_store: ReadingsStoreOpt = None) -> None:
    """Recompute a range of months, tax period by tax period; after a failure, the same command resumes."""
    for v in (m_from, m_to):
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v):
            raise MinetaxError(f"--from and --to take a month YYYY-MM, got {v!r}")
    if m_from > m_to:
        raise MinetaxError("--from must not be after --to")
    settings = Settings.make(home, data_dir, schemes_dir, cluster, readings_store)
    t0 = time.perf_counter()
    out = run_scenario(settings, scenario, "backfill_flow", m_from=m_from, m_to=m_to)
    console.print(f"recomputed {len(out['chunks'])} tax periods: {', '.join(out['chunks']) or 'none (all done)'}")
    print_summary(settings, out, time.perf_counter() - t0)


def fetch_network(start: Annotated[str, typer.Option("--from", help="first day YYYY-MM-DD")],
                  end: Annotated[str, typer.Option("--to", help="last day YYYY-MM-DD")],
                  home: HomeOpt = None,
                  url: Annotated[str | None, typer.Option(help="metrics API base URL (Coin Metrics v4 shape)")] = None,
                  timeout: Annotated[float, typer.Option(help="seconds per request")] = 10.0,
                  retries: Annotated[int, typer.Option(help="retries of a failed request")] = 3) -> None:
    """Fetch daily network data (hashrate, issuance, fees, price) into the drop folder for the next run; refused,
    with nothing written, unless the source sends each day asked for exactly once."""
    import datetime as dt

    from minetax.sources.network import DEFAULT_URL, api_key, write_network_file
    from minetax.sources.network import fetch_network as fetch

    try:
        lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as e:
        raise MinetaxError(f"--from and --to take a day YYYY-MM-DD: {e}") from e
    if lo > hi:
        raise MinetaxError("--from must not be after --to")
    settings = Settings.make(home)
    with console.status(Text(f"fetching network data {lo}..{hi}…")):
        rows = fetch(url or DEFAULT_URL, lo, hi, key=api_key(settings.home), timeout=timeout, retries=retries)
    path = write_network_file(rows, settings.inbox_dir, lo, hi)
    console.print(f"wrote {len(rows)} days to {path}; the next `minetax run` validates and loads them")


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(backfill)
    app.command("fetch-network")(fetch_network)
