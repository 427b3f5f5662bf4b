"""A report for people (PDF or HTML): revenue over time with its band, by scheme, baseline vs reform, the tax
gap, the dated rates of the scenario and the reform with their legal references, the model's assumptions, data
quality, and the run behind it. Tables come from sql/export/ run on the published snapshot and show numbers as the
workbook does (minetax.outputs.numbers); charts are drawn headless with matplotlib; the PDF is laid out by
minetax.outputs.pdf so nothing runs off a page."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from minetax import db
from minetax.config import Settings
from minetax.outputs import cross_country, forecast_outputs, numbers
from minetax.outputs.export import Context
from minetax.outputs.files import output_path
from minetax.publish.query import open_snapshot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BLUE, GREY, ORANGE = "#2F5597", "#A6A6A6", "#C55A11"
REFERENCE = ("reference_title", "reference_url")


def _data(settings: Settings, ctx: Context) -> dict[str, pd.DataFrame]:
    s: dict[str, Any] = {"scenario_id": ctx.scenario}
    files: dict[str, tuple[str, dict[str, Any]]] = {
        "years": ("export/summary_by_year.sql", s), "quarters": ("export/revenue_by_quarter.sql", s),
        "schemes": ("export/by_scheme.sql", s), "gap": ("export/tax_gap_by_year.sql", s),
        "rates": ("export/rates.sql", s), "assumptions": ("export/model_assumptions.sql", s),
        "quality": ("export/data_quality.sql", s), "refused": ("export/refused_inputs.sql", {}),
        "rules": ("export/data_quality_rules.sql", s), "inputs": ("export/run_inputs.sql", s)}
    if ctx.reform:
        r = {**s, "reform": ctx.reform}
        files |= {"comparison": ("export/comparison.sql", r), "windows": ("export/budget_windows.sql", r),
                  "reform_rates": ("export/reform_rates.sql", r),
                  "reform_assumptions": ("export/model_assumptions.sql", {"scenario_id": ctx.reform})}
    if ctx.has_forecast:
        files |= {"forecast": ("export/forecast_by_year.sql", s), **forecast_outputs.report_files(s)}
    files |= cross_country.report_files(s)
    with open_snapshot(settings) as con:
        return {k: con.execute(db.sql_text(f), p).df() for k, (f, p) in files.items()}


def _bn(v: float) -> float:
    return v / 1e9


def charts(ctx: Context, d: dict[str, pd.DataFrame]) -> list[tuple[str, Figure]]:
    """(caption, matplotlib figure) for each chart."""
    import matplotlib

    matplotlib.use("Agg")
    out = [_revenue_chart(ctx, d), _scheme_chart(ctx, d)]
    if ctx.reform:
        out.append(_comparison_chart(ctx, d))
    if "forecast" in d:
        out.append(_forecast_chart(ctx, d))
        out += forecast_outputs.charts(ctx.scenario, d)
    return out + cross_country.charts(d) + _gap_charts(d)


def _revenue_chart(ctx: Context, d: dict[str, pd.DataFrame]) -> tuple[str, Figure]:
    import matplotlib.pyplot as plt

    q = d["quarters"]
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    x = pd.to_datetime(q.quarter)
    ax.fill_between(x, _bn(q.tax_low_kzt), _bn(q.tax_high_kzt), color=GREY, alpha=0.4, label="low–high band")
    ax.plot(x, _bn(q.tax_kzt), color=BLUE, marker="o", label="central estimate")
    ax.set_ylabel("billion KZT per quarter")
    ax.set_title(f"Revenue over time, all schemes — {ctx.scenario}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    return "Revenue by quarter (monthly accruals summed), with the band from estimated inputs.", fig


def _scheme_chart(ctx: Context, d: dict[str, pd.DataFrame]) -> tuple[str, Figure]:
    import matplotlib.pyplot as plt

    sch = d["schemes"].pivot_table(index="year", columns="scheme_id", values="tax_kzt", aggfunc="sum").fillna(0)
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    bottom = None
    for col in sch.columns:
        ax.bar(sch.index.astype(str), _bn(sch[col]), bottom=None if bottom is None else _bn(bottom), label=col)
        bottom = sch[col] if bottom is None else bottom + sch[col]
    ax.set_ylabel("billion KZT")
    ax.set_ylim(0, max(float(sch.sum(axis=1).max()) / 1e9, 0.0) * 1.12 or 1.0)  # the tallest stack inside the axes
    ax.set_title(f"Revenue by scheme and year — {ctx.scenario}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return "Revenue by scheme and year (central estimate).", fig


def _comparison_chart(ctx: Context, d: dict[str, pd.DataFrame]) -> tuple[str, Figure]:
    import matplotlib.pyplot as plt

    c = d["comparison"].groupby("year")[["tax_baseline_kzt", "tax_reform_kzt", "difference_kzt"]].sum()
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    xs = range(len(c))
    ax.bar([i - 0.2 for i in xs], _bn(c.tax_baseline_kzt), width=0.4, color=GREY, label=ctx.scenario)
    ax.bar([i + 0.2 for i in xs], _bn(c.tax_reform_kzt), width=0.4, color=BLUE, label=ctx.reform)
    for i, v in zip(xs, c.difference_kzt, strict=True):
        if abs(v) >= 0.5:
            ax.annotate(f"{_bn(v):+,.1f}", (i + 0.2, _bn(c.tax_reform_kzt.iloc[i])), ha="center", va="bottom",
                        fontsize=8)
    ax.set_xticks(list(xs), c.index.astype(str))
    ax.set_ylabel("billion KZT")
    ax.set_title(f"Baseline vs reform — {ctx.reform} vs {ctx.scenario}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return "Baseline vs reform by year, all schemes; labels: difference in billion KZT.", fig


def _forecast_chart(ctx: Context, d: dict[str, pd.DataFrame]) -> tuple[str, Figure]:
    import matplotlib.pyplot as plt

    f = d["forecast"][d["forecast"].scheme_id == "all schemes"]
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    ys = f.year.astype(int)
    ax.fill_between(ys, _bn(f.p10_kzt), _bn(f.p90_kzt), color=BLUE, alpha=0.2, label="P10–P90")
    ax.plot(ys, _bn(f.p50_kzt), color=BLUE, marker="o", label="P50 (median)")
    ax.plot(ys, _bn(f.mean_kzt), color=ORANGE, linestyle="--", label="mean")
    hist = d["years"]
    ax.plot(hist.year.astype(int), _bn(hist.tax_kzt), color="black", marker="s", label="estimated (past)")
    ax.set_xticks(list(hist.year.astype(int)) + list(ys))
    ax.set_ylabel("billion KZT")
    ax.set_title(f"Revenue forecast, all schemes — {ctx.scenario} ({int(f.runs.iloc[0])} draws, "
                 f"seed {int(f.seed.iloc[0])}{forecast_outputs.data_cut_note(d)})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ("Fan chart: the forecast's P10–P90 band, median and mean for the fleet of the forecast file "
            "(its capacity path); past points: the estimates for the farms in the data.", fig)


def _gap_charts(d: dict[str, pd.DataFrame]) -> list[tuple[str, Figure]]:
    import matplotlib.pyplot as plt

    out = []
    for scheme_id, gs in d["gap"].groupby("scheme_id"):
        fig, ax = plt.subplots(figsize=(7.5, 3.0))
        ys = gs.year.astype(str)
        ax.bar(ys, _bn(gs.topdown_tax_kzt), color=BLUE, alpha=0.8, label="top-down (central)")
        ax.errorbar(ys, _bn(gs.topdown_tax_kzt), yerr=[_bn(gs.topdown_tax_kzt - gs.topdown_tax_low_kzt),
                                                       _bn(gs.topdown_tax_high_kzt - gs.topdown_tax_kzt)],
                    fmt="none", ecolor="black", capsize=4, label="top-down low–high")
        ax.plot(ys, _bn(gs.declared_tax_kzt), color=ORANGE, marker="s", label="declared (licensed farms)")
        ax.set_ylabel("billion KZT")
        ax.set_title(f"Tax gap — {scheme_id}, top-down country estimate")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
        out.append((f"Tax gap of {scheme_id}: tax on the top-down base vs tax on the declared base.", fig))
    return out


def formatted(df: pd.DataFrame, total: bool = False, hide: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[bool]]:
    """Cells as text in the one number format (headers with units), a total row if asked, without the columns to
    hide (a rate's unit, once the rate shows it); and which columns are numeric (right-aligned)."""
    cols = list(df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        unit = numbers.row_unit(cols, tuple(rec))
        rows.append([numbers.text(v, c, unit) for c, v in zip(cols, rec, strict=True)])
    if total and rows:
        rows.append(["Total"] + [numbers.text(df[c].fillna(0).sum(), c) if numbers.additive(c) else ""
                                 for c in cols[1:]])
    keep = [j for j, c in enumerate(cols) if c not in hide]
    text = pd.DataFrame([[r[j] for j in keep] for r in rows], columns=[numbers.label(cols[j]) for j in keep])
    return text, [df[cols[j]].dtype.kind in "iuf" for j in keep]


def with_notes(df: pd.DataFrame, columns: tuple[str, ...], notes: list[str], name: str = "ref") -> pd.DataFrame:
    """Long text columns replaced by a note number [n] (the same text, the same number); notes gets the texts."""
    out = df.drop(columns=list(columns))
    marks = []
    for rec in df[list(columns)].itertuples(index=False):
        parts = [str(v) for v in rec if not numbers.missing(v)]
        note = " — ".join(parts)
        if not note:
            marks.append("")
            continue
        if note not in notes:
            notes.append(note)
        marks.append(f"[{notes.index(note) + 1}]")
    out[name] = marks
    return out


def _title(ctx: Context) -> str:
    vs = f" vs {ctx.reform}" if ctx.reform else ""
    return f"minetax revenue report — {ctx.scenario}{vs}"


def _subtitle(ctx: Context) -> str:
    return (f"Tax periods {ctx.first:%Y-%m} to {ctx.last:%Y-%m} · run {ctx.run_id} · generated "
            f"{dt.datetime.now():%Y-%m-%d %H:%M}")


def _sections(ctx: Context, d: dict[str, pd.DataFrame]) -> list[tuple[str, str, pd.DataFrame, bool]]:
    """(heading, table title, frame, total row) of the report's tables after the charts, in order."""
    out = []
    if ctx.reform:
        out += [(f"Baseline vs reform — {ctx.reform} vs {ctx.scenario}", "By scheme and year (KZT)",
                 d["comparison"], True),
                ("", "Budget windows: 1, 3 and 5-year totals from the first year the reform differs (KZT)",
                 d["windows"], False)]
    out += [("Tax gap", "Top-down vs declared tax by scheme and year (KZT)", d["gap"], True)]
    return out


def _quality_line(q: pd.DataFrame) -> str:
    failed = int((q.result == "failed").sum())
    return (f"{len(q) - failed} of {len(q)} suites passed ({int(q.rules.sum()):,} rules, "
            f"{int(q.rules_failed.sum()):,} failed; {int(q.rows_failing.fillna(0).sum()):,} failing rows).")


# ---- HTML --------------------------------------------------------------------------------------------------------

def html_table(df: pd.DataFrame, total: bool = False, hide: tuple[str, ...] = ()) -> str:
    """A table with escaped cells, numbers right-aligned, links clickable, a total row bold."""
    text, numeric = formatted(df, total, hide)
    urls = list(df.reference_url) if "reference_url" in df.columns else []
    head = "".join(f"<th>{html.escape(c)}</th>" for c in text.columns)
    body = []
    for i, rec in enumerate(text.itertuples(index=False)):
        cells = []
        for j, v in enumerate(rec):
            v = html.escape(str(v)).replace("\n", "<br>")
            if urls and text.columns[j] == numbers.label("reference_url") and v:
                v = f"<a href='{html.escape(str(urls[i]))}'>{v}</a>"
            cells.append(f"<td{' class=num' if numeric[j] else ''}>{v}</td>")
        cls = " class=total" if total and i == len(text) - 1 else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def write_html(settings: Settings, ctx: Context, out: Path, force: bool) -> Path:
    d = _data(settings, ctx)
    path = output_path(out, f"minetax-report_{ctx.tag}.html", force)
    parts = [f"<h1>{html.escape(_title(ctx))}</h1><p class=sub>{html.escape(_subtitle(ctx))}</p>",
             "<h2>Revenue by year, all schemes (KZT)</h2>", html_table(d["years"], total=True)]
    for caption, fig in charts(ctx, d):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        fig.clf()
        parts.append(f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,"
                     f"{base64.b64encode(buf.getvalue()).decode()}'><figcaption>{html.escape(caption)}</figcaption>"
                     "</figure>")
    for heading, title, df, total in _sections(ctx, d):
        parts += [f"<h2>{html.escape(heading)}</h2>" if heading else "", f"<h3>{html.escape(title)}</h3>",
                  html_table(df, total)]
    parts += ["<h2>Rates and legal references</h2>", f"<h3>Rates of {html.escape(ctx.scenario)}</h3>",
              html_table(d["rates"], hide=("rate_unit",))]
    if ctx.reform:
        parts += [f"<h3>Rates of the reform {html.escape(ctx.reform)}</h3>",
                  html_table(d["reform_rates"], hide=("rate_unit",))]
    parts += ["<h2>Model assumptions</h2>", f"<h3>{html.escape(ctx.scenario)}</h3>",
              html_table(d["assumptions"], hide=("unit",))]
    if ctx.reform:
        parts += [f"<h3>{html.escape(ctx.reform)}</h3>", html_table(d["reform_assumptions"], hide=("unit",))]
    failed_rules = d["rules"][d["rules"].result == "failed"]
    parts += ["<h2>Data quality</h2>", f"<p>{html.escape(_quality_line(d['quality']))}</p>",
              html_table(d["quality"]),
              "<h3>Rules that failed</h3>" + (html_table(failed_rules) if len(failed_rules) else "<p>none</p>"),
              "<h3>Input files refused by runs (not in these estimates)</h3>"
              + (html_table(d["refused"]) if len(d["refused"]) else "<p>none</p>"),
              "<h2>Run and inputs</h2>", html_table(d["inputs"])]
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}"
             "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
             "th{background:#DDE4EE}td.num{text-align:right;white-space:nowrap}tr.total td{font-weight:bold;"
             "border-top:1px solid #555}.sub{color:#555}figure{margin:1em 0}img{max-width:100%}"
             "figcaption{font-size:12px;color:#555}")
    doc = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(_title(ctx))}</title>"
           f"<style>{style}</style><body>{''.join(parts)}</body></html>")
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(doc, encoding="utf-8")
    tmp.replace(path)
    return path


# ---- PDF ---------------------------------------------------------------------------------------------------------

def write_pdf(settings: Settings, ctx: Context, out: Path, force: bool) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages

    from minetax.outputs.pdf import Flow

    d = _data(settings, ctx)
    path = output_path(out, f"minetax-report_{ctx.tag}.pdf", force)
    tmp = path.with_name(path.name + ".part")
    try:
        with PdfPages(tmp, metadata={"Title": _title(ctx), "Subject": _subtitle(ctx)}) as pdf:
            flow = Flow(pdf, f"{_title(ctx)} · run {ctx.run_id}")
            flow.heading(_title(ctx), 15)
            flow.para(_subtitle(ctx), 8.5, "#555555")
            flow.table(*formatted(d["years"], True), "Revenue by year, all schemes (KZT)", True)
            for caption, fig in charts(ctx, d):
                flow.figure(fig, caption)
            for heading, title, df, total in _sections(ctx, d):
                if heading:
                    flow.heading(heading)
                flow.table(*formatted(df, total), title, total)
            _pdf_rates_and_assumptions(flow, ctx, d)
            _pdf_quality(flow, d)
            flow.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return path


def _pdf_rates_and_assumptions(flow: Any, ctx: Context, d: dict[str, pd.DataFrame]) -> None:
    notes: list[str] = []
    flow.new_page()
    flow.heading("Rates and legal references")
    tables = [(f"Rates of {ctx.scenario}", d["rates"])]
    if ctx.reform:
        tables.append((f"Rates of the reform {ctx.reform} (vs baseline: what the reform changes)", d["reform_rates"]))
    for title, df in tables:
        flow.table(*formatted(with_notes(df, REFERENCE, notes), hide=("rate_unit",)), title)
    flow.para("References:", 8, "#222222")
    for i, note in enumerate(notes, start=1):
        flow.para(f"[{i}] {note}", 7, "#333333", indent=0.02)
    flow.heading("Model assumptions")
    sources: list[str] = []
    tables = [(ctx.scenario, d["assumptions"])] + ([(ctx.reform, d["reform_assumptions"])] if ctx.reform else [])
    for name, df in tables:
        shown = with_notes(df.drop(columns=["description"]), ("source",), sources, "note")
        flow.table(*formatted(shown, hide=("unit",)), f"Assumptions of {name}")
    for i, note in enumerate(sources, start=1):
        flow.para(f"[{i}] {note}", 7, "#333333", indent=0.02)
    flow.para("; ".join(f"{r.assumption}: {r.description}" for r in
                        d["assumptions"].drop_duplicates("assumption").itertuples()), 7, "#555555")


def _pdf_quality(flow: Any, d: dict[str, pd.DataFrame]) -> None:
    flow.heading("Data quality")
    flow.para(_quality_line(d["quality"]))
    flow.table(*formatted(d["quality"].drop(columns=["run_id"])), "Validation of the runs behind these estimates")
    failed = d["rules"][d["rules"].result == "failed"]
    if len(failed):
        flow.table(*formatted(failed.drop(columns=["run_id"])), "Rules that failed")
    refused = d["refused"]
    flow.para(f"Input files refused by runs (not in these estimates): {len(refused) or 'none'}"
              + (" — the newest, with the first failed rows:" if len(refused) else "."), 8.5)
    for r in refused.head(10).itertuples():
        flow.para(f"{r.refused_at:%Y-%m-%d %H:%M} · run {r.run_id} · {r.file_name} · column {r.column_name}: "
                  f"{r.rule} ({numbers.text(r.rows_failing, 'rows_failing')} rows)", 7.5, indent=0.01)
        flow.para(str(r.first_failed_rows or ""), 6.5, "#555555", indent=0.03)
