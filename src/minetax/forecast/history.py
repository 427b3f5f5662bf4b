"""The forecast's history: the validated warehouse, never a CSV in the repo.

The daily network, the USD/KZT rate and the world fleet efficiency are read from core.* as the last committed run
left them (so files from --data-dir and the drop folder count, once a run has validated and merged them), through
sql/forecast/history_*.sql, each up to a cut-off. A forecast run reads them inside its own run (under the run lock,
on the run's connection); `read_only` opens the warehouse just to read, e.g. for a backtest or a test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from minetax import db
from minetax.config import Settings
from minetax.forecast.assumptions import ForecastError

Day = dt.date | str | None


@dataclass(frozen=True)
class Data:
    network: pd.DataFrame  # daily: date, hashrate_ths, blocks, subsidy_btc, fees_btc, price_usd
    fx: pd.DataFrame  # USD/KZT from each date on: date, kzt_per_usd
    efficiency: pd.DataFrame  # monthly: date, estimated_j_per_th


def nothing_loaded(home: Path) -> ForecastError:
    return ForecastError(f"nothing loaded yet under {home}: run `minetax run` first")


class History:
    """The core tables the forecast reads, on an open warehouse connection (read within the caller's transaction,
    so what a forecast run reads is what it records)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, home: Path):
        self.con, self.home = con, Path(home)
        self._cut: dict[str, Data] = {}

    def coverage(self) -> pd.DataFrame:
        """Rows and first/last date of each core table read (sql/forecast/history_coverage.sql)."""
        return db.query_file(self.con, "forecast/history_coverage.sql")

    def check_loaded(self) -> pd.DataFrame:
        """The coverage; refused when no run has committed any network day yet."""
        cov = self.coverage()
        if int(cov.loc[cov["table_name"] == "core.network_daily", "rows"].iloc[0]) == 0:
            raise nothing_loaded(self.home)
        return cov

    def sources(self) -> list[dict]:
        """The latest loaded file of each dataset read: dataset, run_id, file_name, sha256, origin."""
        return db.query_file(self.con, "forecast/history_sources.sql").to_dict("records")

    def network(self, first: Day = None, last: Day = None) -> pd.DataFrame:
        """Network days between `first` and `last` (inclusive; None: open)."""
        return db.query_file(self.con, "forecast/history_network.sql", {"date_from": _day(first),
                                                                         "date_to": _day(last)})

    def data(self, cutoff: Day = None) -> Data:
        """Every input of the forecast, each cut at `cutoff` (inclusive) when given."""
        key = str(_day(cutoff))
        if key not in self._cut:
            net = self.network(None, cutoff)
            if net.empty:
                self.check_loaded()
                raise ForecastError(f"no network data up to the cut-off {cutoff}")
            params = {"date_to": _day(cutoff)}
            self._cut[key] = Data(net, db.query_file(self.con, "forecast/history_fx.sql", params),
                                  db.query_file(self.con, "forecast/history_fleet_efficiency.sql", params))
        return self._cut[key]


def _day(value: Day) -> dt.date | None:
    return None if value is None else pd.Timestamp(value).date()


@contextmanager
def read_only(settings: Settings) -> Iterator[History]:
    """The history of `settings.home`, opened read-only (refused when no run has loaded anything yet)."""
    if not settings.warehouse_path.exists():
        raise nothing_loaded(settings.home)
    con = db.connect(settings.warehouse_path, read_only=True)
    try:
        history = History(con, settings.home)
        history.check_loaded()
        yield history
    finally:
        con.close()
