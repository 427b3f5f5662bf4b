"""DuckDB access: connections and the SQL files in sql/ (one purpose per file).

Statements are split and their named $parameters found by DuckDB's own parser (`extract_statements`), never by
a regex: a semicolon or a `$name` inside a string or a comment is text, not syntax.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from minetax.config import SQL_DIR
from minetax.errors import MinetaxError, damaged, explain, is_damaged

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / name).read_text()


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """An in-memory connection that only parses, for the life of the process (opening one costs ~10 ms)."""
    return duckdb.connect()


_parser_lock = threading.Lock()  # a connection is not for two threads at once (Prefect runs tasks in threads)


@lru_cache(maxsize=1024)  # SQL files are parsed once; texts made at run time (values inlined) come and go
def _parsed(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """Each statement of `text` without its comments and terminating semicolon, with the $names it uses."""
    with _parser_lock:
        found = _parser().extract_statements(text)
    return tuple((_without_comments(st.query), frozenset(st.named_parameters)) for st in found)


def _without_comments(stmt: str) -> str:
    """The statement with its comments (as DuckDB's tokenizer finds them) removed, and no trailing semicolon."""
    text = stmt.encode()  # the tokenizer gives byte offsets
    tokens = duckdb.tokenize(stmt)
    kept, start = [], 0
    for i, (at, kind) in enumerate(tokens):
        if kind == duckdb.token_type.comment:
            kept.append(text[start:at])
            start = tokens[i + 1][0] if i + 1 < len(tokens) else len(text)
            kept.append(b"\n")  # a comment ends a line (--) or separates tokens (/* */): keep them apart
    kept.append(text[start:])
    return b"".join(kept).decode().strip().removesuffix(";").strip()


def statements(text: str) -> list[str]:
    """The statements of a SQL text, split by DuckDB's parser, each without comments or its semicolon."""
    return [stmt for stmt, _ in _parsed(text)]


def statement(name: str) -> str:
    """The one statement of sql/<name> (for executemany with positional parameters)."""
    (stmt,) = statements(sql_text(name))
    return stmt


def bound(stmt: str, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The named $parameters a statement uses (DuckDB refuses unused ones), as DuckDB's parser finds them."""
    used = {name for _, names in _parsed(stmt) for name in names}
    return {k: v for k, v in (params or {}).items() if k in used} or None


def literal(value: object) -> str:
    """A SQL string literal (for what cannot be a bound parameter: file paths in table functions, COPY, views).
    The one quoting helper: every string or path put into SQL text goes through it."""
    return "'" + str(value).replace("'", "''") + "'"


def run_file(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None) -> None:
    """Run every statement of sql/<name>, binding the named $parameters each statement uses."""
    for stmt, used in _parsed(sql_text(name)):
        con.execute(stmt, {k: v for k, v in (params or {}).items() if k in used} or None).fetchall()


def query_file(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run a single-statement SQL file and return the relation's rows as a DataFrame."""
    ((stmt, used),) = _parsed(sql_text(name))
    return con.execute(stmt, {k: v for k, v in (params or {}).items() if k in used} or None).df()


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


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame | pa.Table) -> None:
    """Append a frame (pandas or Arrow) to a table, matching columns by name."""
    con.register("frame_in", df)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame_in").fetchall()
    finally:
        con.unregister("frame_in")
