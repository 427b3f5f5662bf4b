"""Finance exports from the published snapshot: what an export is about (Context), and CSV or Parquet of every
analyst view, for one scenario, or a baseline and a reform with their comparison. The workbook is
minetax.outputs.workbook, the report minetax.outputs.report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from minetax import db
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.outputs.files import output_path
from minetax.publish.query import open_snapshot

VIEWS = ("estimates", "estimates_month", "farm_month", "revenue_by_month", "revenue_by_year", "revenue_by_region",
         "revenue_by_farm", "estimates_country", "country_month", "tax_gap", "scheme_comparison", "budget_windows",
         "forecast_by_year", "forecast_budget_window", "rates", "assumptions", "data_quality", "runs", "inputs",
         "validations", "quarantine", "scheme_versions", "rate_rules", "farms", "collections", "cross_country",
         "suspension_findings")


@dataclass
class Context:
    """What an export is about: scenario, optional reform, the run behind it and its period range."""
    scenario: str
    reform: str | None
    run_id: str
    first: dt.date
    last: dt.date
    years: list[int] = field(default_factory=list)
    has_forecast: bool = False

    @property
    def tag(self) -> str:
        vs = f"_vs_{self.reform}" if self.reform else ""
        return f"{self.scenario}{vs}_{self.first:%Y-%m}_{self.last:%Y-%m}_run-{self.run_id}"


def context(settings: Settings, scenario: str, reform: str | None = None) -> Context:
    with open_snapshot(settings) as con:
        row = con.execute("SELECT max(run_id), min(period_start), max(period_end) FROM estimates WHERE scenario_id = ?",
                          [scenario]).fetchall()[0]
        if row[0] is None:
            known = [r[0] for r in con.execute("SELECT DISTINCT scenario_id FROM estimates ORDER BY 1").fetchall()]
            raise MinetaxError(f"no published estimates for scenario {scenario!r} (published: {', '.join(known)}); "
                               f"run `minetax run --scenario {scenario}` first")
        if reform:
            query = "SELECT count(*) FROM scheme_comparison WHERE baseline_scenario = ? AND reform_scenario = ?"
            n = con.execute(query, [scenario, reform]).fetchall()[0][0]
            if not n:
                raise MinetaxError(f"no published comparison of {reform} with {scenario}; "
                                   f"run `minetax compare {scenario} {reform}` first")
        have = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        if not {"rates", "assumptions"} <= have:
            raise MinetaxError("the published snapshot was written by an older minetax (no rates or assumptions "
                               "view); run `minetax run` to publish it again")
        query = "SELECT DISTINCT year(period_start) FROM estimates WHERE scenario_id = ? ORDER BY 1"
        years = [r[0] for r in con.execute(query, [scenario]).fetchall()]
        forecast = con.execute("SELECT count(*) FROM forecast_by_year WHERE forecast_id = ? AND kind = 'revenue'",
                               [scenario]).fetchall()[0][0] > 0
        return Context(scenario, reform, row[0], row[1], row[2], years, forecast)


def export_views(settings: Settings, fmt: str, out: Path, scenario: str | None, force: bool,
                 reform: str | None = None) -> list[Path]:
    """One CSV or Parquet file per analyst view, named by view, scenario (vs reform), period range and run id.

    With a scenario: its rows only; with a reform too: the rows of both scenarios and the comparison of the pair
    (scheme_comparison, budget_windows). Without: every row."""
    if fmt not in ("csv", "parquet"):
        raise MinetaxError("format must be csv or parquet here")
    if reform and not scenario:
        raise MinetaxError("--compare needs the baseline scenario (--scenario)")
    ctx = context(settings, scenario, reform) if scenario else None
    snap = settings.published_path
    if not snap.exists():
        raise MinetaxError(f"nothing published yet under {settings.home}; run `minetax run` first")
    written = []
    with duckdb.connect(str(snap), read_only=True) as con:  # writes only to the paths checked below
        tag = ctx.tag if ctx else _all_tag(con)
        for view in VIEWS:
            cols = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
            where, params = _filter(cols, scenario, reform)
            path = output_path(out, f"{view}_{tag}.{fmt}", force)
            tmp = path.with_name(path.name + ".part")
            options = "(FORMAT csv, HEADER)" if fmt == "csv" else "(FORMAT parquet)"
            con.execute(f"COPY (SELECT * FROM {view}{where}) TO {db.literal(tmp)} {options}", params).fetchall()
            tmp.replace(path)
            written.append(path)
    return written


def _filter(cols: list[str], scenario: str | None, reform: str | None) -> tuple[str, dict[str, Any] | None]:
    """The WHERE clause that keeps a view's rows of the scenario (and the reform), with its parameters."""
    if not scenario:
        return "", None
    if "baseline_scenario" in cols:
        if reform:
            return " WHERE baseline_scenario = $s AND reform_scenario = $r", {"s": scenario, "r": reform}
        return " WHERE baseline_scenario = $s", {"s": scenario}
    for key in ("scenario_id", "forecast_id"):
        if key in cols:
            return f" WHERE {key} IN ($s, $r)", {"s": scenario, "r": reform or scenario}
    return "", None


def _all_tag(con: duckdb.DuckDBPyConnection) -> str:
    run, a, b = con.execute("SELECT max(run_id), min(period_start), max(period_end) FROM estimates").fetchall()[0]
    return f"all_{a:%Y-%m}_{b:%Y-%m}_run-{run}"
