"""Read-only SQL on the published snapshot (never the warehouse), sandboxed.

Only SELECT-type statements (SELECT, WITH, VALUES, FROM, DESCRIBE, SUMMARIZE, SHOW) and EXPLAIN are run. The
connection is read-only, cannot reach files or the network (enable_external_access = false) and cannot change
its own configuration (lock_configuration), so ATTACH, COPY, INSTALL/LOAD, SET, PRAGMA, read_csv/read_text/glob
on paths and writes are refused: by the statement check with a clear message, and by DuckDB if it ever let one
through.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from minetax.config import Settings
from minetax.errors import MinetaxError

ALLOWED = {"SELECT", "EXPLAIN"}


class QueryRefused(MinetaxError):
    """A statement minetax sql does not run."""


def open_snapshot(settings: Settings) -> duckdb.DuckDBPyConnection:
    path = settings.published_path
    if not path.exists():
        raise MinetaxError(f"nothing published yet under {settings.home}; run `minetax run` first")
    return duckdb.connect(str(path), read_only=True,
                          config={"enable_external_access": False, "lock_configuration": True})


def check_statements(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as e:
        raise MinetaxError(f"query failed: {e}") from e
    if not statements:
        raise QueryRefused("refused: the query is empty")
    for st in statements:
        kind = str(st.type).rsplit(".", 1)[-1]
        if kind not in ALLOWED:
            raise QueryRefused(f"refused: minetax sql runs only read queries (SELECT, WITH, DESCRIBE, SHOW, "
                               f"EXPLAIN) on the published snapshot; this is {kind}")


def run_query(settings: Settings, sql: str, params: dict | None = None) -> pd.DataFrame:
    con = open_snapshot(settings)
    try:
        check_statements(con, sql)
        try:
            return con.execute(sql, params or None).df()
        except duckdb.PermissionException as e:
            raise QueryRefused(f"refused: {str(e).splitlines()[0]} (minetax sql reads only the snapshot)") from e
        except duckdb.Error as e:
            raise MinetaxError(f"query failed: {e}") from e
    finally:
        con.close()
