"""The finance workbook (xlsxwriter): every table is the result of one SQL file in sql/export/ run on the published
snapshot; the Sources sheet lists them (sheet, table, header row, rows, total row, file, parameters), so each number
can be traced and re-checked with `minetax sql -f`. Total rows are Excel formulas (=SUM over the rows above) with
their value cached, so they show in any reader and follow an edit. Numbers use one format per unit
(minetax.outputs.numbers).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from xlsxwriter.utility import xl_rowcol_to_cell

from minetax import db
from minetax.config import Settings
from minetax.outputs import cross_country, forecast_outputs, numbers
from minetax.outputs.export import Context
from minetax.outputs.files import output_path
from minetax.publish.query import open_snapshot

LONG_TEXT = 60  # characters: longer text wraps in a column this wide


@dataclass
class Table:
    """A table of the workbook: its title, SQL file, parameters, and whether it ends with a total row."""
    title: str
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    total: bool = False


def sheet_specs(ctx: Context) -> list[tuple[str, list[Table]]]:
    """(sheet, tables) in workbook order."""
    s: dict[str, Any] = {"scenario_id": ctx.scenario}
    specs = [("Summary", [Table("Revenue by year, all schemes", "export/summary_by_year.sql", s, total=True),
                          Table("Latest tax period by scheme", "export/latest_period.sql", s),
                          Table("Budget-window totals (1, 3, 5 years from the first year)",
                                "export/scenario_windows.sql", s)])]
    specs += [(str(y), [Table(f"Tax periods of {y} by scheme", "export/year_detail.sql", {**s, "year": y}, True)])
              for y in ctx.years]
    specs += [("By region", [Table("Revenue by region, year and scheme", "export/by_region.sql", s, True)]),
              ("By farm", [Table("Revenue by farm, year and scheme", "export/by_farm.sql", s, True)]),
              ("By scheme", [Table("Revenue by scheme and year", "export/by_scheme.sql", s, True)]),
              ("Cross-country", [Table(*t) for t in cross_country.tables(s)])]
    if ctx.reform:
        r = {**s, "reform": ctx.reform}
        specs += [("Baseline vs reform", [Table(f"{ctx.reform} vs {ctx.scenario} by scheme and year",
                                                "export/comparison.sql", r, True)]),
                  ("Budget windows", [Table(f"{ctx.reform} vs {ctx.scenario}: 1, 3, 5-year totals from the first "
                                            "year the reform differs", "export/budget_windows.sql", r)])]
    if ctx.has_forecast:
        specs += [("Forecast", [Table("Revenue forecast by scheme and year: P10/P50/P90 and mean of the Monte Carlo "
                                      "draws (minetax forecast)", "export/forecast_by_year.sql", s),
                                Table("Forecast budget windows (summed per draw)", "export/forecast_windows.sql", s),
                                *(Table(*t) for t in forecast_outputs.forecast_tables(s))]),
                  ("Backtest", [Table(*t) for t in forecast_outputs.backtest_tables(s)])]
    rates = [Table(f"Rates of {ctx.scenario}: dated values, unit, status and legal reference", "export/rates.sql", s)]
    assumptions = [Table(f"Model assumptions of {ctx.scenario}", "export/model_assumptions.sql", s)]
    if ctx.reform:
        rates.append(Table(f"Rates of the reform {ctx.reform} (vs baseline: what the reform changes)",
                           "export/reform_rates.sql", {**s, "reform": ctx.reform}))
        assumptions.append(Table(f"Model assumptions of the reform {ctx.reform}", "export/model_assumptions.sql",
                                 {"scenario_id": ctx.reform}))
    specs += [("Rates", rates), ("Assumptions", assumptions),
              ("Data quality", [Table("Validation of the runs behind these estimates, by suite",
                                      "export/data_quality.sql", s),
                                Table("Input files refused by runs (not in these estimates): the rule failed and the "
                                      "first failed rows", "export/refused_inputs.sql"),
                                Table("Every rule checked (failures first)", "export/data_quality_rules.sql", s),
                                Table("Readings inside a suspension window (mining banned there and then): kWh and "
                                      "the tax on them", "export/suspension_findings.sql", s)]),
              ("Run and inputs", [Table("Runs and input files (sha256)", "export/run_inputs.sql", s)])]
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
    """Cell formats by name: titles, headers, text, dates, and one number format per style (and bold for totals)."""
    fmt = {"title": wb.add_format({"bold": True, "font_size": 13}),
           "head": wb.add_format({"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True,
                                  "valign": "top"}),
           "date": wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"}),
           "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss", "valign": "top"}),
           "text": wb.add_format({"valign": "top", "indent": 1}),
           "wrap": wb.add_format({"text_wrap": True, "valign": "top", "indent": 1}),
           "link": wb.add_format({"font_color": "#1F4E9A", "underline": 1, "valign": "top"}),
           "note": wb.add_format({"italic": True, "font_color": "#555555"}),
           "total_label": wb.add_format({"bold": True, "top": 1})}
    for name, (num_format, _, _) in numbers.STYLES.items():
        fmt[name] = wb.add_format({"num_format": num_format, "valign": "top"})
        fmt["total_" + name] = wb.add_format({"num_format": num_format, "bold": True, "top": 1})
    return fmt


def _write_sheet(wb: Any, con: duckdb.DuckDBPyConnection, ctx: Context, sheet: str, tables: list[Table],
                 fmt: dict[str, Any]) -> list[dict[str, Any]]:
    """One sheet: its tables one below the other, each the result of its SQL file; returns where each went."""
    ws = wb.add_worksheet(sheet)
    ws.write(0, 0, f"minetax — {sheet} — scenario {ctx.scenario}" + (f" vs {ctx.reform}" if ctx.reform else "")
             + f", {ctx.first:%Y-%m} to {ctx.last:%Y-%m}, run {ctx.run_id}", fmt["title"])
    row, first_head = 2, None
    widths: dict[int, int] = {}
    sources = []
    for table in tables:
        df = con.execute(db.sql_text(table.sql), table.params).df()
        ws.write(row, 0, table.title, fmt["note"])
        head = row + 1
        first_head = first_head if first_head is not None else head
        columns = list(df.columns)
        for j, c in enumerate(columns):
            ws.write(head, j, numbers.label(c), fmt["head"])
            widths[j] = max(widths.get(j, 8), min(len(numbers.label(c)) + 2, 40))
        for i, rec in enumerate(df.itertuples(index=False), start=head + 1):
            unit = numbers.row_unit(columns, tuple(rec))
            lines = 1
            for j, (c, v) in enumerate(zip(columns, rec, strict=True)):
                width = _write(ws, i, j, c, v, unit, fmt)
                widths[j] = max(widths.get(j, 8), min(width, 100 if c.endswith("_url") else LONG_TEXT))
                lines = max(lines, _lines(v))
            if lines > 1:  # readers do not all fit a row to wrapped text: set its height
                ws.set_row(i, 15 * lines)
        total_row = _total_row(ws, head + 1, df, fmt) if table.total and len(df) else None
        sources.append({"sheet": sheet, "title": table.title, "header_row": head + 1, "rows": len(df),
                        "total_row": total_row, "sql": table.sql, "params": table.params})
        row = head + len(df) + (4 if total_row else 3)
    for j, w in widths.items():
        ws.set_column(j, j, w)
    top = first_head if first_head is not None else 2
    ws.freeze_panes(top + 1, 0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # printed (or converted to PDF): all columns on the page width
    if len(tables) == 1:  # the header on every printed page (with several tables it would be the first one's)
        ws.repeat_rows(top)
    return sources


def _total_row(ws: Any, first: int, df: Any, fmt: dict[str, Any]) -> int:
    """'Total' under a table: =SUM of each money, energy or coin column (value cached); returns its 1-based row."""
    last = first + len(df) - 1
    i = last + 1
    ws.write_string(i, 0, "Total", fmt["total_label"])
    for j, c in enumerate(df.columns):
        if j and numbers.additive(c):
            cells = f"{xl_rowcol_to_cell(first, j)}:{xl_rowcol_to_cell(last, j)}"
            value = numbers.excel_value(round(float(df[c].fillna(0).sum()), 2))
            ws.write_formula(i, j, f"=SUM({cells})", fmt["total_" + numbers.style(c)], value)
        elif j:
            ws.write_blank(i, j, None, fmt["total_label"])
    return i + 1


def _write(ws: Any, i: int, j: int, column: str, v: Any, unit: str | None, fmt: dict[str, Any]) -> int:
    """Write one cell with the format of its column's unit (a rate's: its row's unit); return the shown width."""
    v = numbers.scalar(v)
    if numbers.missing(v):
        ws.write_blank(i, j, None)
        return 4
    if isinstance(v, dt.datetime | dt.date):
        timed = isinstance(v, dt.datetime) and (v.hour, v.minute, v.second) != (0, 0, 0)
        value = v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time())
        ws.write_datetime(i, j, value, fmt["datetime" if timed else "date"])
        return 20 if timed else 12
    if isinstance(v, bool):
        ws.write_boolean(i, j, v, fmt["text"])
        return 6
    if isinstance(v, int | float):
        ws.write_number(i, j, numbers.excel_value(v), fmt[numbers.style(column, unit)])
        return len(numbers.text(v, column, unit)) + 4
    s = str(v)
    if column.endswith("_url") and s.startswith(("https://", "http://")):
        ws.write_url(i, j, s, fmt["link"], string=s)
        return len(s) + 1
    ws.write_string(i, j, s, fmt["wrap" if len(s) > LONG_TEXT or "\n" in s else "text"])
    return max(len(line) for line in s.splitlines() or [""]) + 1


def _lines(v: Any) -> int:
    """Lines a text cell takes in a column LONG_TEXT characters wide."""
    if not isinstance(v, str):
        return 1
    return sum(max(1, math.ceil(len(line) / LONG_TEXT)) for line in v.splitlines() or [""])


def _write_sources(wb: Any, sources: list[dict[str, Any]], fmt: dict[str, Any]) -> None:
    """The Sources sheet: sheet, table, header row, rows, total row, SQL file and parameters of every table."""
    ws = wb.add_worksheet("Sources")
    ws.write(0, 0, "Where every table comes from: the SQL file (sql/export/) run on the published snapshot with "
                   "these parameters; `minetax sql -f` reproduces it.", fmt["title"])
    for j, c in enumerate(("sheet", "table", "header row", "rows", "total row", "sql file", "parameters")):
        ws.write(2, j, c, fmt["head"])
    for i, src in enumerate(sources, start=3):
        for j, v in enumerate((src["sheet"], src["title"], src["header_row"], src["rows"], src["total_row"],
                               src["sql"], json.dumps(src["params"]))):
            if v is None:
                ws.write_blank(i, j, None)
            elif isinstance(v, int):
                ws.write_number(i, j, v, fmt["plain"])
            else:
                ws.write_string(i, j, v, fmt["wrap"])
    for j, w in enumerate((16, 60, 10, 8, 10, 34, 44)):
        ws.set_column(j, j, w)
    ws.freeze_panes(3, 0)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(2)


def _charts(wb: Any, ws: Any, ctx: Context, con: duckdb.DuckDBPyConnection, sources: list[dict[str, Any]]) -> None:
    """Native charts on the Summary sheet: revenue by year (with band) and by scheme (stacked)."""
    by_year = next(s for s in sources if s["sheet"] == "Summary" and s["sql"].endswith("summary_by_year.sql"))
    r0, n = by_year["header_row"], by_year["rows"]
    if not n:
        return
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "tax central (KZT)", "categories": ["Summary", r0, 0, r0 + n - 1, 0],
                      "values": ["Summary", r0, 2, r0 + n - 1, 2], "fill": {"color": "#2F5597"}})
    band = wb.add_chart({"type": "line"})
    for col, name, color in ((1, "low", "#A6A6A6"), (3, "high", "#7F7F7F")):
        band.add_series({"name": f"tax {name} (KZT)", "categories": ["Summary", r0, 0, r0 + n - 1, 0],
                         "values": ["Summary", r0, col, r0 + n - 1, col], "line": {"color": color, "dash_type": "dash"},
                         "marker": {"type": "diamond"}})
    chart.combine(band)
    chart.set_title({"name": f"Revenue by year — {ctx.scenario} (KZT, with low/high band)"})
    chart.set_y_axis({"num_format": "#,##0", "name": "KZT"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 360})
    ws.insert_chart(2, 10, chart)
    scheme = next(s for s in sources if s["sheet"] == "By scheme")
    df = con.execute(db.sql_text(scheme["sql"]), scheme["params"]).df()
    stacked = wb.add_chart({"type": "column", "subtype": "stacked"})
    r = scheme["header_row"]
    tax_col = list(df.columns).index("tax_kzt")
    for scheme_id, g in df.groupby("scheme_id", sort=False):
        first = r + g.index.min()
        last = r + g.index.max()
        stacked.add_series({"name": scheme_id, "categories": ["By scheme", first, 1, last, 1],
                            "values": ["By scheme", first, tax_col, last, tax_col]})
    stacked.set_title({"name": f"Revenue by scheme — {ctx.scenario} (KZT)"})
    stacked.set_y_axis({"num_format": "#,##0", "name": "KZT"})
    stacked.set_legend({"position": "bottom"})
    stacked.set_size({"width": 720, "height": 360})
    ws.insert_chart(21, 10, stacked)
