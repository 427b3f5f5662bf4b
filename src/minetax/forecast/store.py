"""Run a forecast as a run: on the warehouse's validated history, stored in the warehouse, published.

The forecast goes through the run's own steps (minetax.pipeline): `begin` takes the home's run lock, opens the
warehouse once and records the run (code version, the tax scenario's scheme versions, the run log); the history
is read and the summaries are written in the run's transaction; `publish` commits and swaps in the snapshot
through the same publish step as any run; `fail` rolls back and records why. The run is recorded as
`forecast:<forecast_id>`, its parameters saying what was asked and which loaded files the history came from.

Published as forecast_by_year (forecast × scheme × year: P10/P50/P90/mean, KZT) and forecast_budget_window
(1, 3, 5-year totals, summed per draw then summarised).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pandas as pd

from minetax import db, pipeline
from minetax.config import Settings
from minetax.forecast import engine
from minetax.forecast.assumptions import Forecast, load_forecast
from minetax.forecast.history import History, nothing_loaded
from minetax.forecast.rolling import naive_list, rolling_backtest
from minetax.forecast.tornado import tornado
from minetax.publish import runlog, runs
from minetax.tax.schemes import load_scenario

PATHS_SUFFIX = "+paths"  # the published forecast_id of a forecast under a price or capacity path given as a CSV
LOST = "lost_to_suspension"  # forecast_by_year kind: the tax the suspension windows' days would have paid


def _forecast(settings: Settings, forecast_id: str) -> Forecast:
    return load_forecast(forecast_id, settings.schemes_dir / "forecasts", settings.scenarios_dir, settings.schemes_dir)


def _record(ctx: pipeline.RunContext, fc: Forecast, other: Forecast | None, parameters: dict) -> None:
    """Mark the run as a forecast run with its parameters (merged over those `begin` recorded); both scenarios'
    scheme versions; the run log."""
    db.run_file(ctx.connection, "forecast/run_record.sql", {"run_id": ctx.run_id, "label": f"forecast:{fc.forecast_id}",
                                                       "parameters": json.dumps(parameters, default=str)})
    if other is not None and other.scenario_id != fc.scenario_id:
        runs.record_schemes(ctx.connection, ctx.run_id, load_scenario(other.scenario_id, ctx.settings.scenarios_dir,
                                                               ctx.settings.schemes_dir))
    runlog.write(ctx.settings, runs.summary(ctx.connection, ctx.run_id))


def _history(ctx: pipeline.RunContext, fc: Forecast) -> History:
    """The warehouse's history (refused when nothing is loaded yet), recorded with the run: the tables' rows and
    last dates, and the loaded files they came from."""
    history = History(ctx.connection, ctx.settings.home)
    cov = history.check_loaded()
    tables = {r.table_name: {"rows": int(r.rows), "last_date": str(r.last_date.date()) if r.rows else None}
              for r in cov.itertuples()}
    _record(ctx, fc, None, {"history": {"tables": tables, "sources": history.sources()}})
    return history


def _store(ctx: pipeline.RunContext, fc: Forecast, kind: str, other: str | None, n: int, seed: int,
           by_year: pd.DataFrame, windows: pd.DataFrame, periods: bool = True) -> None:
    """Replace the forecast's summaries of this kind with this run's (sql/forecast/store_summaries.sql)."""
    con = ctx.connection
    con.register("forecast_by_year_in", by_year)
    con.register("forecast_windows_in", windows)
    try:
        db.run_file(con, "forecast/store_summaries.sql", {
            "run_id": ctx.run_id, "forecast_id": fc.forecast_id, "kind": kind, "compared_with": other, "runs": n,
            "seed": seed})
    finally:
        con.unregister("forecast_by_year_in")
        con.unregister("forecast_windows_in")
    if periods:
        runs.set_periods(con, ctx.run_id, f"{int(by_year.year.min())}..{int(by_year.year.max())} (forecast)")


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (NaN as null)."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


def _dirs(settings: Settings, history: History) -> dict[str, Any]:
    return {"forecasts_dir": settings.schemes_dir / "forecasts", "history": history,
            "scenarios_dir": settings.scenarios_dir, "schemes_dir": settings.schemes_dir}


def _simulate(settings: Settings, history: History, forecast_id: str, to_year: int, n: int, seed: int,
              compare_with: str | None, overrides: dict | None) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """The draws (reform minus baseline with compare_with), what produced them (the fitted parameters), and the
    forecast's draws of the tax lost to suspension windows (no rows where no window takes activity away)."""
    dirs = _dirs(settings, history)
    res = engine.run(forecast_id, to_year, n, seed, overrides=overrides, **dirs)
    draws = (engine.compare(forecast_id, compare_with, to_year, n, seed, overrides=overrides, **dirs)
             if compare_with else res.long())
    return draws, res.market.fit, res.long(lost=True)


def run_forecast(settings: Settings, forecast_id: str, to_year: int, n: int, seed: int,
                 compare_with: str | None = None, overrides: dict | None = None, with_tornado: bool = True
                 ) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """Simulate (and compare) on the warehouse's history, store the summaries, publish; returns the run id and the
    two summaries (by_year.attrs: history_last_day, the last network day the forecast started from; fit, the
    parameters; tornado, the tornado table of a revenue forecast). The run's parameters record the data cut, the
    fitted parameters with their standard errors, the seed, the runs, any CSV paths given, and the tornado."""
    if not settings.warehouse_path.exists():
        raise nothing_loaded(settings.home)
    fc = _forecast(settings, forecast_id)  # a bad forecast file is refused before anything runs
    if overrides:  # published apart from the file's own forecast: <id>+paths (the paths are in the run's parameters)
        fc = dataclasses.replace(fc, forecast_id=f"{forecast_id}{PATHS_SUFFIX}")
    other = _forecast(settings, compare_with) if compare_with else None
    ctx = pipeline.begin(settings, fc.scenario_id)
    try:
        _record(ctx, fc, other, {"forecast": forecast_id, "forecast_file": fc.file.name, "to": to_year, "runs": n,
                                 "seed": seed, "compare": compare_with, "overrides": overrides})
        history = _history(ctx, fc)
        ctx.begin_transaction()
        draws, fit, lost = _simulate(settings, history, forecast_id, to_year, n, seed, compare_with, overrides)
        by_year, windows = engine.summarise(draws), engine.budget_windows(draws)
        _store(ctx, fc, "difference" if compare_with else "revenue", compare_with, n, seed, by_year, windows)
        if not compare_with:  # replaced every time: a forecast whose windows are gone leaves no old rows
            lost_by_year = engine.summarise(lost) if len(lost) else by_year.iloc[:0]
            lost_windows = engine.budget_windows(lost) if len(lost) else windows.iloc[:0]
            _store(ctx, fc, LOST, None, n, seed, lost_by_year, lost_windows, periods=False)
            by_year.attrs["lost"] = lost_by_year
        last_day = str(history.data().network["date"].iloc[-1].date())
        extra: dict[str, Any] = {"history_last_day": last_day, "fit": fit}
        if with_tornado and not compare_with and not overrides:
            tor = tornado(forecast_id, int(by_year.year.min()), n, seed, to_year, **_dirs(settings, history))
            extra["tornado"] = _records(tor)
            by_year.attrs["tornado"] = tor
        _record(ctx, fc, None, extra)
        by_year.attrs.update(history_last_day=last_day, fit=fit)
        pipeline.publish(ctx)
    except BaseException as e:
        pipeline.fail(ctx, e)
        raise
    return ctx.run_id, by_year, windows


def run_backtest(settings: Settings, forecast_id: str, naive_ids: str | list[str] | None, n: int, seed: int,
                 origins: list[int], horizons: list[int]) -> tuple[str, dict]:
    """The rolling-origin backtest as a run on the warehouse's history (minetax.forecast.rolling): its rows, scores
    and notes are recorded with the run (published as forecast_backtest and forecast_backtest_scores)."""
    if not settings.warehouse_path.exists():
        raise nothing_loaded(settings.home)
    fc = _forecast(settings, forecast_id)
    naive_ids = naive_list(naive_ids)
    for nid in naive_ids:
        _forecast(settings, nid)
    ctx = pipeline.begin(settings, fc.scenario_id)
    try:
        _record(ctx, fc, None, {"backtest_of": forecast_id, "naive": naive_ids, "runs": n, "seed": seed,
                                "origins": origins, "horizons": horizons})
        history = _history(ctx, fc)
        ctx.begin_transaction()
        dirs = {k: v for k, v in _dirs(settings, history).items() if k != "history"}
        bt = rolling_backtest(history, forecast_id, naive_ids, n, seed, origins, horizons, **dirs)
        _record(ctx, fc, None, {"history_last_day": str(history.data().network["date"].iloc[-1].date()),
                                "backtest": {"rows": _records(bt["rows"]), "scores": _records(bt["scores"]),
                                             "notes": bt["notes"]}})
        runs.set_periods(ctx.connection, ctx.run_id, f"{min(origins)}..{max(origins)} (backtest origins)")
        pipeline.publish(ctx)
    except BaseException as e:
        pipeline.fail(ctx, e)
        raise
    return ctx.run_id, bt
