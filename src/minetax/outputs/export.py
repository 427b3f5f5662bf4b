"""Finance exports from the published snapshot: an Excel workbook, and CSV or Parquet of every analyst view.

Every table in the workbook is the result of one SQL file in sql/export/ run on the snapshot; the
workbook's Sources sheet lists them (sheet, first row, file, parameters), so each number can be traced and
re-checked with `minetax sql`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from minetax import db
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.outputs.files import output_path
from minetax.publish.query import open_snapshot

VIEWS = ("estimates", "estimates_month", "farm_month", "revenue_by_month", "revenue_by_year", "revenue_by_region",
         "revenue_by_farm", "estimates_country", "country_month", "tax_gap", "scheme_comparison", "budget_windows",
         "data_quality", "runs", "inputs", "validations", "scheme_versions", "rate_rules", "farms", "collections")
TableSpec = tuple[str, str, dict[str, Any]]  # a table of the workbook: its title, SQL file and parameters
UNITS = (("_kzt_per_kwh", "KZT/kWh"), ("_j_per_th", "J/TH"), ("_kzt", "KZT"), ("_kwh", "kWh"), ("_usd", "USD"),
         ("_btc", "BTC"), ("_ths", "TH/s"))


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
        query = "SELECT DISTINCT year(period_start) FROM estimates WHERE scenario_id = ? ORDER BY 1"
        years = [r[0] for r in con.execute(query, [scenario]).fetchall()]
        forecast = con.execute("SELECT count(*) FROM forecast_by_year WHERE forecast_id = ? AND kind = 'revenue'",
                               [scenario]).fetchall()[0][0] > 0
        return Context(scenario, reform, row[0], row[1], row[2], years, forecast)


def label(column: str) -> str:
    """Header with its unit: tax_low_kzt -> 'tax low (KZT)'."""
    for suffix, unit in UNITS:
        if column.endswith(suffix):
            return column[: -len(suffix)].replace("_", " ") + f" ({unit})"
    return column.replace("_", " ")


def export_views(settings: Settings, fmt: str, out: Path, scenario: str | None, force: bool) -> list[Path]:
    """One CSV or Parquet file per analyst view, named by view, scenario, period range and run id."""
    if fmt not in ("csv", "parquet"):
        raise MinetaxError("format must be csv or parquet here")
    ctx = context(settings, scenario) if scenario else None
    snap = settings.published_path
    if not snap.exists():
        raise MinetaxError(f"nothing published yet under {settings.home}; run `minetax run` first")
    written = []
    with duckdb.connect(str(snap), read_only=True) as con:  # writes only to the paths checked below
        for view in VIEWS:
            cols = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
            where = " WHERE scenario_id = $s" if ctx and "scenario_id" in cols else ""
            if ctx and "baseline_scenario" in cols:
                where = " WHERE baseline_scenario = $s"
            tag = ctx.tag if ctx else _all_tag(con)
            path = output_path(out, f"{view}_{tag}.{fmt}", force)
            tmp = path.with_name(path.name + ".part")
            options = "(FORMAT csv, HEADER)" if fmt == "csv" else "(FORMAT parquet)"
            con.execute(f"COPY (SELECT * FROM {view}{where}) TO {db.literal(tmp)} {options}",
                        {"s": scenario} if where else None).fetchall()
            tmp.replace(path)
            written.append(path)
    return written


def _all_tag(con: duckdb.DuckDBPyConnection) -> str:
    run, a, b = con.execute("SELECT max(run_id), min(period_start), max(period_end) FROM estimates").fetchall()[0]
    return f"all_{a:%Y-%m}_{b:%Y-%m}_run-{run}"


# ---- the workbook ---------------------------------------------------------------------------

def sheet_specs(ctx: Context) -> list[tuple[str, list[TableSpec]]]:
    """(sheet, [(table title, sql file, parameters)]) in workbook order."""
    s: dict[str, Any] = {"scenario_id": ctx.scenario}
    specs = [("Summary", [("Revenue by year, all schemes", "export/summary_by_year.sql", s),
                          ("Latest tax period by scheme", "export/latest_period.sql", s),
                          ("Budget-window totals (1, 3, 5 years from the first year)",
                           "export/scenario_windows.sql", s)])]
    specs += [(str(y), [(f"Tax periods of {y} by scheme", "export/year_detail.sql", {**s, "year": y})])
              for y in ctx.years]
    specs += [("By region", [("Revenue by region, year and scheme", "export/by_region.sql", s)]),
              ("By farm", [("Revenue by farm, year and scheme", "export/by_farm.sql", s)]),
              ("By scheme", [("Revenue by scheme and year", "export/by_scheme.sql", s)])]
    if ctx.reform:
        r = {**s, "reform": ctx.reform}
        specs += [("Baseline vs reform", [(f"{ctx.reform} vs {ctx.scenario} by scheme and year",
                                           "export/comparison.sql", r)]),
                  ("Budget windows", [(f"{ctx.reform} vs {ctx.scenario}: 1, 3, 5-year totals from the first year "
                                       "the reform differs", "export/budget_windows.sql", r)])]
    if ctx.has_forecast:
        specs += [("Forecast", [("Revenue forecast by scheme and year: P10/P50/P90 and mean of the Monte Carlo "
                                 "draws (minetax forecast)", "export/forecast_by_year.sql", s),
                                ("Forecast budget windows (summed per draw)", "export/forecast_windows.sql", s)])]
    specs += [("Assumptions", [("Scheme parameters used: value, unit, status and legal reference",
                                "export/assumptions.sql", s)]),
              ("Data quality", [("Validation results of the runs behind these estimates",
                                 "export/data_quality.sql", s)]),
              ("Run and inputs", [("Runs and input files (sha256)", "export/run_inputs.sql", s)])]
    return specs


def write_workbook(settings: Settings, ctx: Context, out: Path, force: bool) -> Path:
    import xlsxwriter

    path = output_path(out, f"minetax_{ctx.tag}.xlsx", force)
    tmp = path.with_name(path.name + ".part")
    with open_snapshot(settings) as con:
        wb = xlsxwriter.Workbook(str(tmp), {"remove_timezone": True, "nan_inf_to_errors": True})
        try:
            fmt = _formats(wb)
            sources: list[dict[str, Any]] = []
            for sheet, tables in sheet_specs(ctx):
                sources += _write_sheet(wb, con, ctx, sheet, tables, fmt)
            _charts(wb, wb.get_worksheet_by_name("Summary"), ctx, con, sources)
            _write_sources(wb, sources, fmt)
        except BaseException:
            wb.close()
            tmp.unlink(missing_ok=True)
            raise
    wb.close()
    tmp.replace(path)
    return path


def _formats(wb: Any) -> dict[str, Any]:
    """Cell formats by name: titles, headers, and one number format per unit."""
    return {"title": wb.add_format({"bold": True, "font_size": 13}),
            "head": wb.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True,
                                   "valign": "top"}),
            "money": wb.add_format({"num_format": "#,##0"}), "energy": wb.add_format({"num_format": "#,##0"}),
            "rate": wb.add_format({"num_format": "#,##0.0000"}), "price": wb.add_format({"num_format": "#,##0.00"}),
            "int": wb.add_format({"num_format": "0"}), "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
            "text": wb.add_format({}), "note": wb.add_format({"italic": True, "font_color": "#555555"})}


def _write_sheet(wb: Any, con: duckdb.DuckDBPyConnection, ctx: Context, sheet: str, tables: list[TableSpec],
                 fmt: dict[str, Any]) -> list[dict[str, Any]]:
    """One sheet: its tables one below the other, each the result of its SQL file; returns where each went."""
    ws = wb.add_worksheet(sheet)
    ws.write(0, 0, f"minetax — {sheet} — scenario {ctx.scenario}" + (f" vs {ctx.reform}" if ctx.reform else "")
             + f", {ctx.first:%Y-%m} to {ctx.last:%Y-%m}, run {ctx.run_id}", fmt["title"])
    row, first_head = 2, None
    widths: dict[int, int] = {}
    sources = []
    for title, sql_file, params in tables:
        df = con.execute(db.sql_text(sql_file), params).df()
        ws.write(row, 0, title, fmt["note"])
        head = row + 1
        first_head = first_head if first_head is not None else head
        for j, c in enumerate(df.columns):
            ws.write(head, j, label(c), fmt["head"])
            widths[j] = max(widths.get(j, 8), min(len(label(c)) + 2, 40))
        for i, rec in enumerate(df.itertuples(index=False), start=head + 1):
            for j, (c, v) in enumerate(zip(df.columns, rec, strict=True)):
                widths[j] = max(widths.get(j, 8), min(_write(ws, i, j, c, v, fmt), 60))
        sources.append({"sheet": sheet, "title": title, "header_row": head + 1, "rows": len(df), "sql": sql_file,
                        "params": params})
        row = head + len(df) + 3
    for j, w in widths.items():
        ws.set_column(j, j, w)
    top = first_head if first_head is not None else 2
    ws.freeze_panes(top + 1, 0)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # printed (or converted to PDF): all columns on the page width
    ws.repeat_rows(top)
    return sources


def _write_sources(wb: Any, sources: list[dict[str, Any]], fmt: dict[str, Any]) -> None:
    """The Sources sheet: sheet, table, first row, SQL file and parameters of every table."""
    ws = wb.add_worksheet("Sources")
    ws.write(0, 0, "Where every table comes from: the SQL file (sql/export/) run on the published snapshot with "
                   "these parameters; `minetax sql -f` reproduces it.", fmt["title"])
    for j, c in enumerate(("sheet", "table", "header row", "rows", "sql file", "parameters")):
        ws.write(2, j, c, fmt["head"])
    for i, src in enumerate(sources, start=3):
        for j, v in enumerate((src["sheet"], src["title"], src["header_row"], src["rows"], src["sql"],
                               json.dumps(src["params"]))):
            ws.write(i, j, v)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 60)
    ws.set_column(4, 5, 36)
    ws.freeze_panes(3, 0)


def _write(ws: Any, i: int, j: int, column: str, v: Any, fmt: dict[str, Any]) -> int:
    """Write one cell with a format chosen by the column's unit; return the displayed width."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v) or v is pd.NaT:
        ws.write_blank(i, j, None)
        return 4
    if isinstance(v, pd.Timestamp | dt.datetime | dt.date):
        ws.write_datetime(i, j, pd.Timestamp(v).to_pydatetime(), fmt["date"])
        return 12
    if isinstance(v, bool):
        ws.write_boolean(i, j, v)
        return 6
    if isinstance(v, int | float):
        f = ("price" if column.endswith("_per_kwh") else "money" if column.endswith(("_kzt", "_usd")) else
             "energy" if column.endswith("_kwh") else "rate" if column in ("rate", "fx_rate") else
             "int" if column in ("year", "window_years", "first_year", "last_year") else "money")
        ws.write_number(i, j, float(v), fmt[f])
        return len(f"{v:,.0f}") + 2
    ws.write_string(i, j, str(v))
    return len(str(v)) + 1


def _charts(wb: Any, ws: Any, ctx: Context, con: duckdb.DuckDBPyConnection, sources: list[dict[str, Any]]) -> None:
    """Native charts on the Summary sheet: revenue by year (with band) and by scheme (stacked)."""
    by_year = next(s for s in sources if s["sheet"] == "Summary" and s["sql"].endswith("summary_by_year.sql"))
    r0, n = by_year["header_row"], by_year["rows"]
    if not n:
        return
    chart = wb.add_chart({"type": "column"})
    for col, name in ((2, "central"),):
        chart.add_series({"name": f"tax {name} (KZT)", "categories": ["Summary", r0, 0, r0 + n - 1, 0],
                          "values": ["Summary", r0, col, r0 + n - 1, col], "fill": {"color": "#2F5597"}})
    band = wb.add_chart({"type": "line"})
    for col, name, color in ((1, "low", "#A6A6A6"), (3, "high", "#7F7F7F")):
        band.add_series({"name": f"tax {name} (KZT)", "categories": ["Summary", r0, 0, r0 + n - 1, 0],
                         "values": ["Summary", r0, col, r0 + n - 1, col], "line": {"color": color, "dash_type": "dash"},
                         "marker": {"type": "diamond"}})
    chart.combine(band)
    chart.set_title({"name": f"Revenue by year — {ctx.scenario} (KZT, with low/high band)"})
    chart.set_y_axis({"num_format": "#,##0", "name": "KZT"})
    chart.set_size({"width": 720, "height": 360})
    ws.insert_chart(2, 10, chart)
    scheme = next(s for s in sources if s["sheet"] == "By scheme")
    df = con.execute(db.sql_text(scheme["sql"]), scheme["params"]).df()
    stacked = wb.add_chart({"type": "column", "subtype": "stacked"})
    r = scheme["header_row"]
    for scheme_id, g in df.groupby("scheme_id", sort=False):
        first = r + g.index.min()
        last = r + g.index.max()
        stacked.add_series({"name": scheme_id, "categories": ["By scheme", first, 1, last, 1],
                            "values": ["By scheme", first, 6, last, 6]})
    stacked.set_title({"name": f"Revenue by scheme — {ctx.scenario} (KZT)"})
    stacked.set_y_axis({"num_format": "#,##0", "name": "KZT"})
    stacked.set_size({"width": 720, "height": 360})
    ws.insert_chart(21, 10, stacked)
