"""DuckDB access: connections and the SQL files in sql/ (one purpose per file)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb

from minetax.config import SQL_DIR
from minetax.errors import MinetaxError, damaged, explain, is_damaged


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / name).read_text()


def statements(text: str) -> list[str]:
    """Split a SQL file on semicolons that end a line (our files keep one statement per block)."""
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def bound(stmt: str, params: dict | None) -> dict | None:
    """The named $parameters a statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", stmt)} or None


def literal(text: str) -> str:
    """A SQL string literal (for what cannot be a bound parameter: file paths in table functions, COPY, views)."""
    return "'" + str(text).replace("'", "''") + "'"


def run_file(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run every statement of sql/<name>, binding the named $parameters each statement uses."""
    for stmt in statements(sql_text(name)):
        con.execute(stmt, bound(stmt, params)).fetchall()


def query_file(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None):
    """Run a single-statement SQL file and return the relation's rows as a DataFrame."""
    (stmt,) = statements(sql_text(name))
    return con.execute(stmt, bound(stmt, params)).df()


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file; a lock held by another process, a damaged file, a full or read-only disk are each one
    clear MinetaxError that says what to do."""
    home = path.parent.parent if path.parent.name == "published" else path.parent
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(path), read_only=read_only)
    except OSError as e:
        raise MinetaxError(explain(e, home) or f"cannot open {path}: {e}") from e
    except duckdb.Error as e:
        if isinstance(e, duckdb.IOException) and "lock" in str(e).lower():
            holder = re.search(r"PID (\d+)", str(e))
            raise MinetaxError(f"refused: another minetax process{' (PID ' + holder.group(1) + ')' if holder else ''} "
                               f"is writing {path}; only one run at a time may write the warehouse. Nothing was "
                               "changed; run again when it has finished (readers use the published snapshot and are "
                               "not affected).") from e
        message = damaged(path, str(e), home) if is_damaged(e) else explain(e, home)
        if message is None:
            raise
        raise MinetaxError(message) from e


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, df) -> None:
    """Append a pandas frame whose columns are in the table's order."""
    con.register("frame_in", df)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM frame_in").fetchall()
    finally:
        con.unregister("frame_in")
