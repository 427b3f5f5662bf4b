"""Commands about tax policy: `schemes` (schemes and scenarios with their references) and `compare` (a reform)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from minetax.cli.common import DataOpt, HomeOpt, SchemesOpt, console
from minetax.cli.layout import Col, show
from minetax.cli.run import run_scenario
from minetax.config import Settings
from minetax.errors import MinetaxError


def schemes(detail: Annotated[str | None, typer.Option("--detail", help="show one scheme's dated values")] = None,
            schemes_dir: SchemesOpt = None) -> None:
    """List tax schemes and scenarios with their status and references."""
    st = Settings.make(schemes_dir=schemes_dir)
    if detail:
        _scheme_detail(st, detail)
        return
    from minetax.tax.schemes import list_scenarios, list_schemes, load_scenario, load_scheme

    # a table when it fits the terminal, else one block per scheme: ids and URLs are never cut
    rows = []
    for sid in list_schemes(st.schemes_dir):
        s = load_scheme(sid, st.schemes_dir)
        rows.append([s.scheme_id, s.family, s.tax_period, s.rate_unit, s.status, s.title])
    show(console, _cols("scheme", "family", "period", "rate unit", "weakest status", "title"), rows,
         title="Schemes (schemes/*.yaml)")
    rows = []
    for cid in list_scenarios(st.scenarios_dir):
        c = load_scenario(cid, st.scenarios_dir, st.schemes_dir)
        files = {s.scheme_id: load_scheme(s.scheme_id, st.schemes_dir) for s in c.schemes}
        reform = "yes" if any(s.parameters != files[s.scheme_id].parameters for s in c.schemes) else ""
        picked = ", ".join(f"{p}={v}" for s in c.schemes for p, v in s.readings.items()
                           if v != files[s.scheme_id].readings.get(p))
        law = c.assumptions.get("law_as_of")
        rows.append([c.scenario_id, c.base or "", ", ".join(s.scheme_id for s in c.schemes), reform, picked,
                     str(law or ""), "on" if (c.assumptions.get("behaviour") or {}).get("enabled") else "off",
                     c.title])
    show(console, _cols("scenario", "base", "schemes", "reform", "readings", "law as of", "behaviour", "title"),
         rows, title="Scenarios (schemes/scenarios/*.yaml)")
    console.print("details and references: minetax schemes --detail <scheme>")


def _cols(*names: str) -> list[Col]:
    return [Col(n) for n in names]


def _scheme_detail(st: Settings, scheme_id: str) -> None:
    """One scheme's parameters: every dated value with its status and reference."""
    from minetax.tax.schemes import load_scheme

    s = load_scheme(scheme_id, st.schemes_dir)
    console.print(Text.assemble((s.scheme_id, "bold"), f": {s.title} — family {s.family}, tax period "
                                f"{s.tax_period}, rate in {s.rate_unit}, version {s.version[:12]}"))
    for point, r in s.readings_doc.items():
        console.print(Text.assemble(("open point ", "bold"), f"{point}: {' '.join(r['text'].split())} "
                                    f"Choices: {'; '.join(f'{c} = {m}' for c, m in r['choices'].items())}. "
                                    f"In force: {s.readings[point]}."))
    rows = [[pname, str(d), json.dumps(e["value"], default=str), e["status"],
             " ".join(str(e["reference"]["title"]).split()) + f" {e['reference'].get('url', '')}"]
            for pname, p in s.parameters.items() for d, e in p["values"].items()]
    show(console, _cols("parameter", "from", "value", "status", "reference"), rows)


def compare(baseline: Annotated[str, typer.Argument(help="baseline scenario, e.g. kz-baseline")],
            others: Annotated[list[str], typer.Argument(help="one reform scenario (e.g. kz-fee-10), or several "
                                                             "scenarios to set side by side (e.g. ru-profit-tax "
                                                             "et-eep-tou ny-s8518)")],
            home: HomeOpt = None, data_dir: DataOpt = None, schemes_dir: SchemesOpt = None) -> None:
    """Baseline vs reform (difference by year, scheme and region, 1, 3 and 5-year budget windows), and every scenario
    side by side on the same farms and years: total tax, tax per MWh and share of the mined value (cross_country).

    All scenarios are brought up to date first: a scenario is run again unless nothing it depends on changed since
    its last run (inputs, scenario, schemes, code), and a run only recomputes what changed, so the comparison is
    never stale. The runs commit; one snapshot is published at the end."""
    from minetax.outputs import cross_country
    from minetax.tax.compare import publish_snapshot, up_to_date

    settings = Settings.make(home, data_dir, schemes_dir)
    scenarios = [baseline, *others]
    if len(set(scenarios)) < len(scenarios):
        raise MinetaxError(f"compare: a scenario is named twice: {' '.join(scenarios)}")
    for scenario in scenarios:
        if up_to_date(settings, scenario):
            console.print(f"{scenario}: up to date (no input, scheme or code changed since its last run): not run "
                          "again")
        else:  # committed only: one snapshot is written below, not one per scenario
            run_scenario(settings, scenario, publish=False)
    if len(others) == 1:
        _reform_tables(settings, baseline, others[0])  # writes the comparison tables, then the snapshot
    else:
        publish_snapshot(settings)
    totals, _ = cross_country.compare(settings, scenarios)
    years = f"{totals.first_year.min()}–{totals.last_year.max()}"
    t = Table("scenario", "schemes", "weakest status", "tax KZT", "KZT per MWh", "share of mined value",
              "vs " + baseline, title=f"Side by side on the same farms, {years} (view cross_country)")
    base_tax = float(totals.tax_kzt.iloc[0])
    for r in totals.itertuples():
        t.add_row(r.scenario_id, r.schemes, r.weakest_status, f"{r.tax_kzt:,.0f}", f"{r.tax_per_mwh_kzt:,.2f}",
                  f"{100 * r.share_of_mined_value:.2f}%", "" if r.Index == 0 else _signed(r.tax_kzt - base_tax))
    console.print(t)
    console.print(f"published: {settings.published_path} (views cross_country"
                  + (", tables scheme_comparison, budget_windows)" if len(others) == 1 else ")"))


def _reform_tables(settings: Settings, baseline: str, reform: str) -> None:
    from minetax.tax.compare import by_region
    from minetax.tax.compare import compare as do_compare

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


def _signed(v: float) -> str:
    """A difference in whole KZT with its sign; float noise below half a tenge shows as 0."""
    return "0" if abs(v) < 0.5 else f"{v:+,.0f}"


def register(app: typer.Typer) -> None:
    app.command()(schemes)
    app.command()(compare)
