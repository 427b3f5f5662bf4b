"""A report for people (PDF or HTML): revenue over time with its band, by scheme, baseline vs reform, the tax
gap, key assumptions and references, and the run behind it. Charts are drawn headless with matplotlib."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from minetax import db
from minetax.config import Settings
from minetax.outputs.export import Context, label
from minetax.outputs.files import output_path
from minetax.publish.query import open_snapshot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Rect = tuple[float, float, float, float]  # left, bottom, width, height as fractions of the page

BLUE, GREY, ORANGE = "#2F5597", "#A6A6A6", "#C55A11"


def _data(settings: Settings, ctx: Context) -> dict[str, pd.DataFrame]:
    s = {"scenario_id": ctx.scenario}
    files = {"years": ("export/summary_by_year.sql", s), "quarters": ("export/revenue_by_quarter.sql", s),
             "schemes": ("export/by_scheme.sql", s), "gap": ("export/tax_gap_by_year.sql", s),
             "rules": ("export/assumptions.sql", s), "refs": ("export/references.sql", s),
             "quality": ("export/data_quality.sql", s), "inputs": ("export/run_inputs.sql", s)}
    if ctx.reform:
        r = {**s, "reform": ctx.reform}
        files |= {"comparison": ("export/comparison.sql", r), "windows": ("export/budget_windows.sql", r)}
    if ctx.has_forecast:
        files |= {"forecast": ("export/forecast_by_year.sql", s)}
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
    return out + _gap_charts(d)


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
    ax.margins(y=0.1)
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
                 f"seed {int(f.seed.iloc[0])})")
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


def _fmt_table(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame()
    for c in df.columns:
        col = df[c]
        if col.dtype.kind == "f":
            out[label(c)] = col.map(lambda v: "" if pd.isna(v) else (f"{v:,.4f}" if abs(v) < 10 else f"{v:,.0f}"))
        elif col.dtype.kind == "M":
            out[label(c)] = col.dt.strftime("%Y-%m-%d")
        else:
            out[label(c)] = col.astype(str).where(col.notna(), "")
    return out


def _title(ctx: Context) -> str:
    vs = f" vs {ctx.reform}" if ctx.reform else ""
    return f"minetax revenue report — {ctx.scenario}{vs}"


def _subtitle(ctx: Context) -> str:
    return (f"Tax periods {ctx.first:%Y-%m} to {ctx.last:%Y-%m} · run {ctx.run_id} · generated "
            f"{dt.datetime.now():%Y-%m-%d %H:%M}")


def write_html(settings: Settings, ctx: Context, out: Path, force: bool) -> Path:
    d = _data(settings, ctx)
    path = output_path(out, f"minetax-report_{ctx.tag}.html", force)
    parts = [f"<h1>{html.escape(_title(ctx))}</h1><p class=sub>{html.escape(_subtitle(ctx))}</p>",
             "<h2>Revenue by year, all schemes</h2>", _fmt_table(d["years"]).to_html(index=False, border=0)]
    for caption, fig in charts(ctx, d):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        fig.clf()
        parts.append(f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,"
                     f"{base64.b64encode(buf.getvalue()).decode()}'><figcaption>{html.escape(caption)}</figcaption>"
                     "</figure>")
    if ctx.reform:
        parts += ["<h2>Budget windows</h2>", _fmt_table(d["windows"]).to_html(index=False, border=0)]
    parts += ["<h2>Tax gap by year</h2>", _fmt_table(d["gap"]).to_html(index=False, border=0),
              "<h2>Key assumptions: scheme parameters</h2>",
              _fmt_table(d["rules"].drop(columns=["reference", "scheme_version"])).to_html(index=False, border=0),
              "<h2>Legal references</h2><ul>" + "".join(
                  f"<li><b>{html.escape(r.scheme_id)}</b> ({html.escape(r.status)}): {html.escape(r.reference)}</li>"
                  for r in d["refs"].itertuples()) + "</ul>",
              "<h2>Run and inputs</h2>", _fmt_table(d["inputs"]).to_html(index=False, border=0),
              f"<h2>Data quality</h2><p>{int(d['quality'].success.sum())} of {len(d['quality'])} checks passed.</p>"]
    style = ("body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}"
             "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}th{background:#DDE4EE}"
             "td:first-child,th:first-child{text-align:left}.sub{color:#555}figure{margin:1em 0}"
             "img{max-width:100%}figcaption{font-size:12px;color:#555}")
    doc = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(_title(ctx))}</title>"
           f"<style>{style}</style><body>{''.join(parts)}</body></html>")
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(doc, encoding="utf-8")
    tmp.replace(path)
    return path


def write_pdf(settings: Settings, ctx: Context, out: Path, force: bool) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    d = _data(settings, ctx)
    path = output_path(out, f"minetax-report_{ctx.tag}.pdf", force)
    tmp = path.with_name(path.name + ".part")
    a4 = (8.27, 11.69)
    with PdfPages(tmp, metadata={"Title": _title(ctx), "Subject": _subtitle(ctx)}) as pdf:
        figs = charts(ctx, d)
        # page 1: title, key figures, the revenue chart
        page = plt.figure(figsize=a4)
        page.text(0.07, 0.95, _title(ctx), fontsize=15, weight="bold")
        page.text(0.07, 0.925, _subtitle(ctx), fontsize=8.5, color="#555555")
        _table(page, (0.07, 0.80, 0.86, 0.10), _fmt_table(d["years"]), "Revenue by year, all schemes (KZT)")
        _place(page, figs[0][1], (0.07, 0.43, 0.86, 0.33), figs[0][0])
        _place(page, figs[1][1], (0.07, 0.05, 0.86, 0.33), figs[1][0])
        pdf.savefig(page)
        plt.close(page)
        rest = figs[2:]
        for i in range(0, len(rest), 2):
            page = plt.figure(figsize=a4)
            for j, (caption, fig) in enumerate(rest[i:i + 2]):
                _place(page, fig, (0.07, 0.55 - 0.48 * j, 0.86, 0.38), caption)
            pdf.savefig(page)
            plt.close(page)
        if ctx.reform:
            page = plt.figure(figsize=a4)
            page.text(0.07, 0.95, f"Budget windows — {ctx.reform} vs {ctx.scenario}", fontsize=13, weight="bold")
            _table(page, (0.07, 0.55, 0.86, 0.36), _fmt_table(d["windows"]), "1, 3 and 5-year totals from the first "
                   "year the reform differs (KZT)")
            pdf.savefig(page)
            plt.close(page)
        # assumptions and references
        page = plt.figure(figsize=a4)
        page.text(0.07, 0.95, "Key assumptions and legal references", fontsize=13, weight="bold")
        rules = _fmt_table(d["rules"][["scheme_id", "kind", "name", "valid_from", "rate", "rate_unit", "status"]])
        _table(page, (0.07, 0.50, 0.86, 0.42), rules.head(40), "Scheme parameters used")
        y = 0.46
        for r in d["refs"].itertuples():
            for k, line in enumerate(textwrap.wrap(f"{r.scheme_id} ({r.status}): {r.reference}", 110)):
                if y < 0.04:
                    break
                page.text(0.07 + (0.02 if k else 0), y, line, fontsize=7)
                y -= 0.016
        pdf.savefig(page)
        plt.close(page)
    tmp.replace(path)
    return path


def _place(page: Figure, fig: Figure, rect: Rect, caption: str) -> None:
    """Draw a chart into a page: render it to an image and show it in an axes at rect."""
    import matplotlib.image as mpimg

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    fig.clf()
    buf.seek(0)
    ax = page.add_axes(rect)
    ax.imshow(mpimg.imread(buf))
    ax.axis("off")
    page.text(rect[0], rect[1] - 0.012, caption, fontsize=7.5, color="#555555")


def _table(page: Figure, rect: Rect, df: pd.DataFrame, title: str) -> None:
    ax = page.add_axes(rect)
    ax.axis("off")
    ax.set_title(title, fontsize=9.5, loc="left")
    if df.empty:
        return
    # column widths in proportion to the longest text of each column, so nothing overlaps
    lengths = [max([len(str(c))] + [len(str(v)) for v in df[c]]) + 2 for c in df.columns]
    widths = [n / sum(lengths) for n in lengths]
    t = ax.table(cellText=df.values, colLabels=list(df.columns), loc="upper left", cellLoc="right",
                 colWidths=widths)
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    t.scale(1, 1.15)
    numeric = [all(_looks_numeric(v) for v in df[c]) for c in df.columns]
    for (r, c), cell in t.get_celld().items():
        if r == 0:
            cell.set_facecolor("#DDE4EE")
            cell.set_text_props(weight="bold")
        if not numeric[c]:
            cell.set_text_props(ha="left")
            cell._loc = "left"  # type: ignore[attr-defined]  # private: Cell keeps its alignment only there


def _looks_numeric(v: object) -> bool:
    return str(v).replace(",", "").replace(".", "").replace("-", "").replace("+", "").isdigit() or str(v) == ""
