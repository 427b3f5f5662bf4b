"""Issue 18's forecast outputs for the workbook and the report: the network model's parameters, the tornado table,
the backtest (scores and each forecast beside its outcome) from the published views forecast_parameters,
forecast_tornado, forecast_backtest(_scores), through sql/export/forecast_*.sql; and the backtest and tornado
charts. Each table carries the data cut, seed and runs of the run that produced it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BLUE, GREY, ORANGE, GREEN = "#2F5597", "#A6A6A6", "#C55A11", "#548235"
MEASURES = (("network_hashrate_ths", "network hashrate (TH/s, annual mean)"),
            ("fee_base_gwh", "fee base of the sample's licensed farms (GWh)"),
            ("fee_revenue_kzt", "fee of the sample's licensed farms (KZT)"))


def forecast_tables(s: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(title, SQL file, parameters) added to the Forecast sheet."""
    return [("Network model parameters (estimated on the warehouse history up to the data cut, drawn per run)",
             "export/forecast_parameters.sql", s),
            ("Tornado: P50 revenue of the next budget year, all schemes, each assumption over its stated range",
             "export/forecast_tornado.sql", s)]


def backtest_tables(s: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(title, SQL file, parameters) of the Backtest sheet."""
    out = [("Backtest scores: MdAPE of P50, share of outcomes inside P10-P90 (nominal 80%) and weighted interval "
            "score of the logs (P50 and band together, lower is better), by measure, horizon "
            "and model (minetax forecast backtest)", "export/forecast_backtest_scores.sql", s)]
    out += [(f"Backtest forecasts of the {name} beside the outcome", "export/forecast_backtest.sql",
             {**s, "measure": m}) for m, name in MEASURES]
    return out


def report_files(s: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Frames the report reads for the forecast charts."""
    return {"fc_params": ("export/forecast_parameters.sql", s), "fc_tornado": ("export/forecast_tornado.sql", s),
            "fc_scores": ("export/forecast_backtest_scores.sql", s),
            "fc_backtest": ("export/forecast_backtest.sql", {**s, "measure": "network_hashrate_ths"})}


def charts(scenario: str, d: dict[str, pd.DataFrame]) -> list[tuple[str, Figure]]:
    """The backtest chart and the tornado chart, where their runs have been made."""
    out = []
    if len(d.get("fc_backtest", ())):
        out.append(_backtest_chart(scenario, d["fc_backtest"]))
    if len(d.get("fc_tornado", ())):
        out.append(_tornado_chart(scenario, d["fc_tornado"]))
    return out


def _backtest_chart(scenario: str, b: pd.DataFrame) -> tuple[str, Figure]:
    import matplotlib.pyplot as plt

    one = b[b.horizon == 1]
    models = list(dict.fromkeys(one.model))
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    colours = [BLUE, ORANGE, GREEN]  # "no change" always grey
    for i, m in enumerate(models):
        g = one[one.model == m]
        x = g.year.astype(int) + (i - (len(models) - 1) / 2) * 0.18
        ax.errorbar(x, g.p50 / 1e6, yerr=[(g.p50 - g.p10) / 1e6, (g.p90 - g.p50) / 1e6], fmt="o",
                    color=GREY if m == "no change" else colours[i % 3], capsize=3, label=f"{m} P50 (P10-P90)")
    act = one.drop_duplicates("year")
    ax.plot(act.year.astype(int), act.actual / 1e6, "k_", markersize=18, mew=2, label="actual")
    ax.set_ylabel("EH/s (annual mean)")
    ax.set_title(f"Backtest, network hashrate 1 year ahead — {scenario} ({int(b.runs.iloc[0])} draws, "
                 f"seed {int(b.seed.iloc[0])}, data cut {b.data_cut.iloc[0]})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return ("Backtest: each year's network hashrate forecast from the data up to the end of the year before, by "
            "model (P50 and P10-P90), beside the actual annual mean.", fig)


def _tornado_chart(scenario: str, t: pd.DataFrame) -> tuple[str, Figure]:
    import matplotlib.pyplot as plt

    t = t.iloc[::-1]
    base = float(t.p50_base_kzt.iloc[0]) / 1e9
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    ys = range(len(t))
    ax.barh(ys, t.p50_low_kzt / 1e9 - base, left=base, color=ORANGE, alpha=0.8, label="assumption at low")
    ax.barh(ys, t.p50_high_kzt / 1e9 - base, left=base, color=BLUE, alpha=0.8, label="assumption at high")
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(list(ys), [f"{a} ({lo:g} / {hi:g})" for a, lo, hi in zip(t.assumption, t.low, t.high,
                                                                          strict=True)], fontsize=8)
    ax.set_xlabel(f"P50 revenue {t.year.iloc[0]}, all schemes, billion KZT")
    ax.set_title(f"Tornado — {scenario} ({int(t.runs.iloc[0])} draws, seed {int(t.seed.iloc[0])}, data cut "
                 f"{t.data_cut.iloc[0]})", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(axis="x", alpha=0.3)
    return ("Tornado: how far the median revenue of the next budget year moves when one assumption moves over its "
            "stated range (the forecast file's tornado section), the others held, same seed.", fig)


def data_cut_note(d: dict[str, pd.DataFrame]) -> str:
    """', data cut YYYY-MM-DD' of the forecast's latest run (from forecast_parameters), or ''."""
    p = d.get("fc_params")
    return f", data cut {p.data_cut.iloc[0]}" if p is not None and len(p) else ""
