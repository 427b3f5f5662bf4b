"""The `forecast` command: revenue for future budget years, P10/P50/P90, from the forecast engine."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from minetax.cli.common import HomeOpt, console
from minetax.config import DEFAULT_SCENARIO, Settings
from minetax.errors import MinetaxError


def forecast(scenario: Annotated[str, typer.Option(help="forecast file schemes/forecasts/<id>.yaml")]
             = DEFAULT_SCENARIO,
             to: Annotated[int, typer.Option("--to", help="last forecast year")] = 2030,
             runs: Annotated[int, typer.Option(help="Monte Carlo draws")] = 2000,
             seed: Annotated[int, typer.Option(help="random seed (same seed, same numbers)")] = 7,
             compare: Annotated[str | None, typer.Option("--compare", help="forecast to subtract, draw by draw")]
             = None,
             home: HomeOpt = None) -> None:
    """Forecast revenue for future budget years: P10/P50/P90 by scheme and year, and 1/3/5-year windows, from the
    validated history the last `minetax run` left in the warehouse (run it first)."""
    from minetax.forecast.store import run_forecast
    from minetax.tax.schemes import check_id

    for v in (scenario, compare):
        if v is not None:
            check_id("forecast", v)
    if not 1 <= runs <= 100_000:
        raise MinetaxError("--runs must be between 1 and 100000")
    settings = Settings.make(home)
    with console.status(Text(f"simulating {runs} draws of {scenario} to {to}…")):
        run_id, by_year, windows = run_forecast(settings, scenario, to, runs, seed, compare)
    what = f"{scenario} minus {compare}" if compare else scenario
    t = Table("scheme", "year", "P10 bn KZT", "P50 bn KZT", "P90 bn KZT", "mean bn KZT",
              title=f"Forecast {what} — {runs} draws, seed {seed}, run {run_id}")
    for r in by_year.itertuples():
        t.add_row(r.scheme, str(r.year), *(f"{v / 1e9:,.2f}" for v in (r.p10, r.p50, r.p90, r.mean)),
                  style="bold" if r.scheme == "all schemes" else None)
    console.print(t)
    t = Table("scheme", "window", "years", "P10 bn KZT", "P50 bn KZT", "P90 bn KZT", "mean bn KZT",
              title="Budget windows (sum per draw)")
    for r in windows.itertuples():
        t.add_row(r.scheme, f"{r.window_years} y", f"{r.first_year}–{r.last_year}",
                  *(f"{v / 1e9:,.2f}" for v in (r.p10, r.p50, r.p90, r.mean)))
    console.print(t)
    console.print(f"history: the warehouse as the last run left it (network days up to "
                  f"{by_year.attrs.get('history_last_day')})")
    console.print(f"published: {settings.published_path} (forecast_by_year, forecast_budget_window)")


def register(app: typer.Typer) -> None:
    app.command()(forecast)
