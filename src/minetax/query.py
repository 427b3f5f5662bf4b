"""Read-only SQL on the published snapshot (never the warehouse)."""

from __future__ import annotations

import duckdb
import pandas as pd

from minetax.config import Settings
from minetax.errors import MinetaxError


def open_snapshot(settings: Settings) -> duckdb.DuckDBPyConnection:
    path = settings.published_path
    if not path.exists():
        raise MinetaxError(f"nothing published yet under {settings.home}; run `minetax run` first")
    # read-only, and no access to other files: a query can read the snapshot and nothing else
    return duckdb.connect(str(path), read_only=True,
                          config={"enable_external_access": False, "lock_configuration": True})


def run_query(settings: Settings, sql: str, params: dict | None = None) -> pd.DataFrame:
    con = open_snapshot(settings)
    try:
        try:
            return con.execute(sql, params or None).df()
        except duckdb.Error as e:
            raise MinetaxError(f"query failed: {e}") from e
    finally:
        con.close()
