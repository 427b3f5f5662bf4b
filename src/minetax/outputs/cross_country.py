"""Issue 17's cross-country comparison for the workbook, the report and `minetax compare`: what each scenario's regime
collects from the same farms and years (published view cross_country, through sql/export/cross_country*.sql):
total, tax per MWh of mining electricity and tax as a share of the mined value; and its chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.publish.query import open_snapshot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BLUE, ORANGE = "#2F5597", "#C55A11"


def tables(s: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(title, SQL file, parameters) of the workbook's Cross-country sheet."""
    return [("Every scenario of the snapshot on the same farms over the years all of them cover: total tax, tax per "
             "MWh of mining electricity and as a share of the mined value", "export/cross_country_totals.sql", {}),
            ("By year", "export/cross_country.sql", {})]


def report_files(s: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Frames the report reads for the cross-country chart."""
    return {"cc_totals": ("export/cross_country_totals.sql", {})}


def charts(d: dict[str, pd.DataFrame]) -> list[tuple[str, Figure]]:
    """Tax per MWh and share of the mined value by scenario, where the snapshot holds more than one scenario."""
    t = d.get("cc_totals")
    if t is None or len(t) < 2:
        return []
    import matplotlib.pyplot as plt

    t = t.sort_values("tax_per_mwh_kzt")
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 0.45 * len(t) + 1.6), sharey=True)
    a.barh(t.scenario_id, t.tax_per_mwh_kzt, color=BLUE)
    a.set_xlabel("tax per MWh of mining electricity (KZT)")
    b.barh(t.scenario_id, 100 * t.share_of_mined_value, color=ORANGE)
    b.set_xlabel("tax as a share of the mined value (%)")
    for ax in (a, b):
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    years = f"{int(t.first_year.min())}–{int(t.last_year.max())}"
    return [(f"Cross-country: what each scenario's regime collects from the same farms, {years} (weakest status of "
             "the law applied in the tables; counterfactual scenarios apply a country's law as in force on their "
             "law_as_of date)", fig)]


def compare(settings: Settings, scenarios: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The published cross-country figures of these scenarios (farms scope): totals over the years all of them cover,
    and the rows by year."""
    with open_snapshot(settings) as con:
        rows = con.execute("SELECT * FROM cross_country WHERE scope = 'farms' AND list_contains(?, scenario_id) "
                           "ORDER BY year, scenario_id", [scenarios]).df()
    missing = sorted(set(scenarios) - set(rows.scenario_id))
    if missing:
        raise MinetaxError(f"no published estimates for {', '.join(missing)}: run `minetax run --scenario …` first")
    years = set.intersection(*(set(g.year) for _, g in rows.groupby("scenario_id")))
    if not years:
        raise MinetaxError(f"the scenarios {', '.join(scenarios)} share no year of estimates: nothing to compare")
    common = rows[rows.year.isin(years)]
    totals = common.groupby("scenario_id", sort=False).agg(
        schemes=("schemes", "first"), weakest_status=("weakest_status", _weakest), first_year=("year", "min"),
        last_year=("year", "max"), energy_mwh=("energy_mwh", "sum"), mined_value_kzt=("mined_value_kzt", "sum"),
        tax_kzt=("tax_kzt", "sum")).reset_index()
    totals["tax_per_mwh_kzt"] = totals.tax_kzt / totals.energy_mwh
    totals["share_of_mined_value"] = totals.tax_kzt / totals.mined_value_kzt
    order = {s: i for i, s in enumerate(scenarios)}
    return totals.sort_values("scenario_id", key=lambda c: c.map(order)).reset_index(drop=True), rows


def _weakest(statuses: pd.Series) -> str:
    for s in ("proposed", "unverified", "reported", "enacted"):
        if (statuses == s).any():
            return s
    return ""

