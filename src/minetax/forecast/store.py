"""Run a forecast (minetax.forecast.engine), keep its summary in the warehouse and publish it.

Published as forecast_by_year (forecast × scheme × year: P10/P50/P90/mean, KZT) and forecast_budget_window
(1, 3, 5-year totals, summed per draw then summarised). A forecast is recorded in runs like any run.
"""

from __future__ import annotations

import pandas as pd

from minetax import db, warehouse
from minetax.config import Settings
from minetax.forecast import engine as forecast
from minetax.publish import runs
from minetax.publish import snapshot as publish


def _rows(summary: pd.DataFrame, run_id: str, forecast_id: str, kind: str, other: str | None, n: int,
          seed: int, window: bool) -> pd.DataFrame:
    keys = ["scheme", "window_years", "first_year", "last_year"] if window else ["scheme", "year"]
    out = summary[keys + ["p10", "p50", "p90", "mean"]].rename(columns={
        "scheme": "scheme_id", "p10": "p10_kzt", "p50": "p50_kzt", "p90": "p90_kzt", "mean": "mean_kzt"})
    head = pd.DataFrame({"run_id": run_id, "forecast_id": forecast_id, "kind": kind, "compared_with": other},
                        index=out.index)
    tail = pd.DataFrame({"runs": n, "seed": seed}, index=out.index)
    return pd.concat([head, out, tail], axis=1)  # the table's column order


def run_forecast(settings: Settings, forecast_id: str, to_year: int, n: int, seed: int,
                 compare_with: str | None = None) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """Simulate (and compare), store the summaries, publish; returns the run id and the two summaries."""
    if compare_with:
        draws = forecast.compare(forecast_id, compare_with, to_year, n, seed)
        kind = "difference"
    else:
        draws = forecast.simulate(forecast_id, to_year, n, seed)
        kind = "revenue"
    by_year, windows = forecast.summarise(draws), forecast.budget_windows(draws)
    settings.ensure()
    con = warehouse.connect(settings.warehouse_path)
    try:
        run_id = runs.new_run_id()
        runs.mark_crashed(con, settings.published_path)
        runs.start(con, run_id, f"forecast:{forecast_id}", str(settings.data_dir),
                   {"forecast": forecast_id, "to": to_year, "runs": n, "seed": seed, "compare": compare_with}, None)
        con.execute("BEGIN TRANSACTION")
        for table, frame in (("tax.forecast_by_year", _rows(by_year, run_id, forecast_id, kind, compare_with, n,
                                                             seed, False)),
                             ("tax.forecast_budget_window", _rows(windows, run_id, forecast_id, kind, compare_with,
                                                                  n, seed, True))):
            con.execute(f"DELETE FROM {table} WHERE forecast_id = ? AND kind = ? "
                        "AND coalesce(compared_with, '') = coalesce(?, '')", [forecast_id, kind, compare_with])
            db.insert_frame(con, table, frame)
        runs.set_periods(con, run_id, f"{int(by_year.year.min())}..{int(by_year.year.max())} (forecast)")
        con.execute("COMMIT")
        runs.finish(con, run_id, "publishing")
        publish.publish(con, settings, run_id)
        runs.finish(con, run_id, "succeeded")
    finally:
        con.close()
    return run_id, by_year, windows
