"""Baseline vs reform: differences by scheme, year and region, and budget-window totals (sql/tax/comparison.sql)."""

from __future__ import annotations

import duckdb
import pandas as pd

from minetax import db, warehouse
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.load import ingest, intake
from minetax.publish import runs
from minetax.publish import snapshot as publish
from minetax.sources.datasets import DATASETS
from minetax.tax import estimate
from minetax.tax.schemes import load_scenario


def estimated_scenarios(settings: Settings) -> set[str]:
    if not settings.warehouse_path.exists():
        return set()
    con = warehouse.connect(settings.warehouse_path)
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT scenario_id FROM tax.estimates").fetchall()}
    finally:
        con.close()


def up_to_date(settings: Settings, scenario_id: str) -> bool:
    """Whether a run of the scenario would change nothing, so `compare` need not run it again: nothing waits in the
    drop folder, every data-folder input is the file last loaded from there (by the hash the raw store remembers
    for it: a file whose size, time or inode moved, or that was never hashed, counts as changed), and the scenario's
    estimates were made for its current version, schemes and code with no input changed since
    (minetax.tax.estimate.plan). Reads only; any doubt (no warehouse, a missing input, a lock) is False: run it."""
    if not settings.warehouse_path.exists() or ingest.unsupported_inputs(settings):
        return False
    if any(ingest.inbox_files(settings.inbox_dir, ds) for ds in DATASETS):
        return False
    try:
        inputs = ingest.discover(settings)
        scenario = load_scenario(scenario_id, settings.scenarios_dir, settings.schemes_dir)
        con = db.connect(settings.warehouse_path, read_only=True)
    except (MinetaxError, duckdb.Error, OSError):
        return False
    try:
        for ds, path in inputs:
            sha = intake.remembered_hash(path, settings.raw_dir, ds.name)
            last = ingest.last_loaded(con, ds.name, "data", path)
            if sha is None or last is None or last[0] != sha:
                return False
        return estimate.plan(con, scenario)[0] is None
    except duckdb.Error:  # a warehouse from another version, not yet converted: a run converts it
        return False
    finally:
        con.close()


def publish_snapshot(settings: Settings) -> None:
    """Write the published snapshot from the warehouse as it is (after runs that only committed)."""
    con = warehouse.connect(settings.warehouse_path)
    try:
        publish.publish(con, settings, "compare-" + runs.new_run_id())
    finally:
        con.close()


def compare(settings: Settings, baseline: str, reform: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write tax.comparison and tax.budget_windows for the pair, publish, and return both as frames."""
    if baseline == reform:
        raise MinetaxError("compare needs two different scenarios")
    missing = {baseline, reform} - estimated_scenarios(settings)
    if missing:
        raise MinetaxError(f"no estimates for {', '.join(sorted(missing))}: run `minetax run --scenario …` first")
    con = warehouse.connect(settings.warehouse_path)
    try:
        con.execute("BEGIN TRANSACTION").fetchall()
        try:
            db.run_file(con, "tax/comparison.sql", {"baseline": baseline, "reform": reform})
            con.execute("COMMIT").fetchall()
        except BaseException:
            con.execute("ROLLBACK").fetchall()
            raise
        publish.publish(con, settings, "compare-" + runs.new_run_id())
        by_year = con.execute(
            "SELECT scheme_id, year, sum(tax_baseline_kzt) AS tax_baseline_kzt, sum(tax_reform_kzt) AS tax_reform_kzt,"
            " sum(difference_kzt) AS difference_kzt FROM tax.comparison WHERE baseline_scenario = ? "
            "AND reform_scenario = ? GROUP BY ALL ORDER BY scheme_id, year", [baseline, reform]).df()
        windows = con.execute(
            "SELECT scheme_id, window_years, first_year, last_year, years_covered, tax_baseline_kzt, tax_reform_kzt,"
            " difference_kzt FROM tax.budget_windows WHERE baseline_scenario = ? AND reform_scenario = ? "
            "ORDER BY scheme_id = 'all schemes', scheme_id, window_years", [baseline, reform]).df()
        return by_year, windows
    finally:
        con.close()


def by_region(settings: Settings, baseline: str, reform: str) -> pd.DataFrame:
    con = db.connect(settings.warehouse_path, read_only=True)
    try:
        return con.execute(
            "SELECT region, sum(tax_baseline_kzt) AS tax_baseline_kzt, sum(tax_reform_kzt) AS tax_reform_kzt, "
            "sum(difference_kzt) AS difference_kzt FROM tax.comparison WHERE baseline_scenario = ? "
            "AND reform_scenario = ? GROUP BY ALL ORDER BY difference_kzt DESC", [baseline, reform]).df()
    finally:
        con.close()
