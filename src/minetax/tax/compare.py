"""Baseline vs reform: differences by scheme, year and region, and budget-window totals (sql/tax/comparison.sql)."""

from __future__ import annotations

import pandas as pd

from minetax import db, warehouse
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.publish import runs
from minetax.publish import snapshot as publish


def estimated_scenarios(settings: Settings) -> set[str]:
    if not settings.warehouse_path.exists():
        return set()
    con = warehouse.connect(settings.warehouse_path)
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT scenario_id FROM tax.estimates").fetchall()}
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
