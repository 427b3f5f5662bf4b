"""The `forecast` command: revenue for future budget years, P10/P50/P90, from the forecast engine; `forecast
backtest`: the rolling-origin backtest against the naive baselines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from minetax.cli.common import HomeOpt, console
from minetax.config import DEFAULT_SCENARIO, Settings
from minetax.errors import MinetaxError

if TYPE_CHECKING:
    import pandas as pd

MEASURE_NAMES = {"network_hashrate_ths": "network hashrate", "fee_base_gwh": "fee base GWh (sample)",
                 "fee_revenue_kzt": "fee KZT (sample)"}


def _bn(v: float) -> str:
    """Billions with two decimals; a value that rounds to zero is 0.00, never -0.00."""
    text = f"{v / 1e9:,.2f}"
    return "0.00" if text == "-0.00" else text


def _check(runs: int, *ids: str | None) -> None:
    from minetax.tax.schemes import check_id

    for v in ids:
        if v is not None:
            check_id("forecast", v)
    if not 1 <= runs <= 100_000:
        raise MinetaxError("--runs must be between 1 and 100000")


def print_fit(fit: dict) -> None:
    """The estimated parameters with their standard errors (feedback model), or the naive model's fit."""
    if fit.get("params"):
        t = Table("parameter", "estimate", "std. error", "n", "unit", "meaning",
                  title=f"Network model: {fit.get('network_model')} (estimated on the warehouse's history; drawn per "
                        f"run)")
        for p in fit["params"]:
            t.add_row(p["name"], f"{p['value']:.4g}", f"{p['se']:.2g}", str(p["n"]), p["unit"], p["meaning"])
        console.print(t)
    for key, what in (("kz_share_p50", "installed"), ("kz_share_mining_p50", "mining, after behaviour")):
        if fit.get(key):
            console.print(f"Kazakhstan's share of the network ({what}), P50: " + ", ".join(
                f"{y} {v:.2%}" for y, v in fit[key].items()))
    price = {k: v for k, v in fit.items() if k.startswith("price_")}
    if price:
        console.print("price: " + ", ".join(f"{k} {v:.4g}" for k, v in price.items()))


def _print_tables(by_year: pd.DataFrame, windows: pd.DataFrame, title: str) -> None:
    _print_by_year(by_year, title)
    t = Table("scheme", "window", "years", "P10 bn KZT", "P50 bn KZT", "P90 bn KZT", "mean bn KZT",
              title="Budget windows (sum per draw)")
    for r in windows.itertuples():
        t.add_row(r.scheme, f"{r.window_years} y", f"{r.first_year}–{r.last_year}",
                  *(_bn(v) for v in (r.p10, r.p50, r.p90, r.mean)))
    console.print(t)


def _print_by_year(by_year: pd.DataFrame, title: str) -> None:
    t = Table("scheme", "year", "P10 bn KZT", "P50 bn KZT", "P90 bn KZT", "mean bn KZT", title=title)
    for r in by_year.itertuples():
        t.add_row(r.scheme, str(r.year), *(_bn(v) for v in (r.p10, r.p50, r.p90, r.mean)),
                  style="bold" if r.scheme == "all schemes" else None)
    console.print(t)


def _print_tornado(tor: pd.DataFrame) -> None:
    t = Table("assumption", "low", "high", "P50 at low bn KZT", "P50 bn KZT", "P50 at high bn KZT", "swing bn KZT",
              title=f"Tornado: P50 revenue {int(tor.year.iloc[0])}, all schemes, each assumption over its stated range")
    for r in tor.itertuples():
        t.add_row(r.assumption, f"{r.low:g}", f"{r.high:g}", *(_bn(v) for v in (
            r.p50_low_kzt, r.p50_base_kzt, r.p50_high_kzt, r.swing_kzt)))
    console.print(t)


def forecast(ctx: typer.Context,
             scenario: Annotated[str, typer.Option(help="forecast file schemes/forecasts/<id>.yaml")]
             = DEFAULT_SCENARIO,
             to: Annotated[int, typer.Option("--to", help="last forecast year")] = 2030,
             runs: Annotated[int, typer.Option(help="Monte Carlo draws")] = 2000,
             seed: Annotated[int, typer.Option(help="random seed (same seed, same numbers)")] = 7,
             compare: Annotated[str | None, typer.Option("--compare", help="forecast to subtract, draw by draw")]
             = None,
             price_csv: Annotated[Path | None, typer.Option("--price-csv", help="CSV year,price_usd: the BTC price "
                                                            "path to forecast under (replaces the price model)")]
             = None,
             capacity_csv: Annotated[Path | None, typer.Option("--capacity-csv", help="CSV year,capacity_mw: the "
                                                               "licensed capacity path (replaces the file's)")]
             = None,
             home: HomeOpt = None) -> None:
    """Forecast revenue for future budget years: P10/P50/P90 by scheme and year, 1/3/5-year windows, the network
    model's parameters and the tornado table, from the validated history the last `minetax run` left in the
    warehouse (run it first). `minetax forecast backtest`: the rolling-origin backtest."""
    if ctx.invoked_subcommand is not None:
        return
    from minetax.forecast.store import run_forecast
    from minetax.forecast.user_paths import overrides

    _check(runs, scenario, compare)
    settings = Settings.make(home)
    over = overrides(price_csv, capacity_csv) or None
    with console.status(Text(f"simulating {runs} draws of {scenario} to {to}…")):
        run_id, by_year, windows = run_forecast(settings, scenario, to, runs, seed, compare, over)
    what = f"{scenario} minus {compare}" if compare else scenario
    given = "".join(f", {k} path from {v}" for k, v in (("price", price_csv), ("capacity", capacity_csv)) if v)
    _print_tables(by_year, windows, f"Forecast {what} — {runs} draws, seed {seed}, run {run_id}{given}")
    lost = by_year.attrs.get("lost")
    if lost is not None and len(lost):
        _print_by_year(lost, f"Tax lost to suspension windows ({scenario}): what the windows' days would have paid "
                             f"had the fleet mined them, same draws (published as kind lost_to_suspension)")
    print_fit(by_year.attrs.get("fit") or {})
    if by_year.attrs.get("tornado") is not None:
        _print_tornado(by_year.attrs["tornado"])
    law = (by_year.attrs.get("fit") or {}).get("law_as_of", "in_force")
    console.print(f"data cut: network days up to {by_year.attrs.get('history_last_day')} (the warehouse as the "
                  f"last run left it); {runs} draws, seed {seed}; law: "
                  + ("each month's own" if law == "in_force" else f"as of {law} for every month"))
    published_as = f"{scenario}+paths" if over else scenario
    console.print(f"published as forecast_id {published_as}: {settings.published_path} (forecast_by_year, "
                  f"forecast_budget_window, forecast_parameters, forecast_tornado)")


def backtest(scenario: Annotated[str, typer.Option(help="forecast file to backtest")] = DEFAULT_SCENARIO,
             naive: Annotated[str, typer.Option(help="naive forecast files to compare, comma-separated ('' for "
                                                    "none)")] = "kz-naive,kz-naive-fitted",
             runs: Annotated[int, typer.Option(help="Monte Carlo draws per origin")] = 1000,
             seed: Annotated[int, typer.Option(help="random seed")] = 7,
             first: Annotated[int, typer.Option("--first", help="first origin (end of that year)")] = 2018,
             last: Annotated[int, typer.Option("--last", help="last origin (end of that year)")] = 2024,
             home: HomeOpt = None) -> None:
    """Rolling-origin backtest: at the end of each year first..last, forecast 1-3 years ahead with only the data
    up to then; MdAPE of P50, P10-P90 coverage and the weighted interval score (WIS) for the network hashrate and
    the sample's fee base and fee, against the naive forecasts (constant growth as today, and fitted at the origin)
    and "no change"."""
    from minetax.forecast.rolling import naive_list
    from minetax.forecast.store import run_backtest

    _check(runs, scenario, *naive_list(naive))
    if first > last:
        raise MinetaxError(f"--first {first} is after --last {last}")
    settings = Settings.make(home)
    with console.status(Text(f"backtesting {scenario} from origins {first}..{last}…")):
        run_id, bt = run_backtest(settings, scenario, naive_list(naive), runs, seed, list(range(first, last + 1)),
                                  [1, 2, 3])
    sc = bt["scores"]
    t = Table("measure", "horizon", *(f"{m} {k}" for m in sc.model.unique() for k in ("MdAPE %", "cover %", "WIS")),
              title=f"Backtest {scenario} — origins {first}..{last}, {runs} draws, seed {seed}, run {run_id} "
                    f"(coverage: share of actuals inside P10-P90, nominal 80%; WIS: mean weighted interval score "
                    f"of the logs x 100, P50 and band together, lower is better)")
    for (measure, h), g in sc.groupby(["measure", "horizon"], sort=False):
        cells = []
        for m in sc.model.unique():
            r = g[g.model == m]
            cells += ([_pct(r.mdape_pct), _pct(r.coverage_pct), _pct(r.wis.astype(float) * 100)] if len(r)
                      else ["", "", ""])
        t.add_row(MEASURE_NAMES.get(measure, measure), f"{h} y (n={int(g.n.max())})", *cells)
    console.print(t)
    for note in bt["notes"]:
        console.print(f"note: {note}")
    console.print(f"published: {settings.published_path} (forecast_backtest, forecast_backtest_scores)")


def _pct(s: pd.Series) -> str:
    v = s.iloc[0]
    return "n/a" if v is None or v != v else f"{v:.1f}"


def register(app: typer.Typer) -> None:
    group = typer.Typer(invoke_without_command=True, no_args_is_help=False)
    group.callback()(forecast)
    group.command("backtest")(backtest)
    app.add_typer(group, name="forecast")
