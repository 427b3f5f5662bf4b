"""Read-only SQL on the published snapshot (never the warehouse), sandboxed and bounded.

What runs: only queries — SELECT, WITH, FROM-first, VALUES, TABLE, PIVOT/UNPIVOT, DESCRIBE, SHOW, SUMMARIZE — and
EXPLAIN [ANALYZE] of a query. The check uses DuckDB's own parser (`extract_statements` and statement types):
  - the statement inside an EXPLAIN is parsed again and checked like any other, so `EXPLAIN ANALYZE CREATE …`,
    `EXPLAIN COPY …`, `EXPLAIN INSTALL …` are refused before DuckDB runs anything;
  - a PIVOT whose values come from the data is a MULTI statement (DuckDB first creates a temporary enum of the
    values); it is run only if the statement also parses as a subquery `SELECT * FROM (…)`, i.e. it is a query.
What bounds it: the connection is read-only, cannot reach files or the network (enable_external_access = false),
has a memory limit (default 2 GB) and at most 4 threads, never spills to disk (temp_directory = ''), and cannot
change its own configuration (lock_configuration). A query is interrupted after a timeout (default 60 s).
What is never echoed: when the query comes from a file, errors name the file and the line and column, not the
text (the file may not be SQL at all, e.g. a .env with a key in it).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import threading
from typing import TYPE_CHECKING

import duckdb

from minetax.config import Settings
from minetax.errors import MinetaxError

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY = "2GB"
MAX_THREADS = 4
MAX_QUERY_FILE_BYTES = 1_000_000
MEMORY_RE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", re.IGNORECASE)
READS = "SELECT, WITH, FROM, VALUES, PIVOT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN"


class QueryRefused(MinetaxError):
    """A statement minetax sql does not run."""


def check_memory(memory: str) -> str:
    if not MEMORY_RE.fullmatch(memory.strip()):
        raise MinetaxError(f"--memory takes a size such as 500MB or 2GB, got {memory!r}")
    return memory.strip()


def open_snapshot(settings: Settings, memory: str = DEFAULT_MEMORY) -> duckdb.DuckDBPyConnection:
    path = settings.published_path
    if not path.exists():
        raise MinetaxError(f"nothing published yet under {settings.home}; run `minetax run` first")
    config: dict[str, str | bool | int | float | list[str]] = {
        "enable_external_access": False, "memory_limit": check_memory(memory),
        "threads": min(MAX_THREADS, os.cpu_count() or 1), "temp_directory": "", "lock_configuration": True}
    try:
        return duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error as e:
        raise MinetaxError(f"cannot open the published snapshot {path}: {str(e).splitlines()[0]}; "
                           f"`minetax run` publishes it again") from e


def read_query_file(path: Path) -> str:
    """The text of a query file: a regular file of UTF-8 text, never a pipe, device or directory (no hang)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise MinetaxError(f"cannot read {path}: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file (a pipe, socket or device)"
            raise MinetaxError(f"cannot read {path}: it is {kind}; -f takes a file of SQL")
        if st.st_size > MAX_QUERY_FILE_BYTES:
            raise MinetaxError(f"cannot read {path}: {st.st_size:,} bytes; a query file is at most "
                               f"{MAX_QUERY_FILE_BYTES:,} bytes")
        data = os.read(fd, MAX_QUERY_FILE_BYTES + 1)
    except OSError as e:
        raise MinetaxError(f"cannot read {path}: {e.strerror}") from e
    finally:
        os.close(fd)
    if b"\0" in data:
        raise MinetaxError(f"cannot read {path}: it is a binary file, not SQL text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MinetaxError(f"cannot read {path}: not UTF-8 text (byte {e.start} cannot be decoded); "
                           f"save it as UTF-8") from e


def parse_params(pairs: list[str]) -> dict:
    """--param NAME=VALUE pairs: a value of ASCII digits is an integer, anything else a string."""
    params: dict = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        if not sep or not name.isidentifier() or not name.isascii():
            raise MinetaxError(f"--param takes NAME=VALUE with a name of letters, digits and _, got {p!r}")
        if name in params:
            raise MinetaxError(f"--param {name} is given twice")
        digits = value.removeprefix("-")
        if digits.isascii() and digits.isdigit():
            params[name] = int(value)
        elif digits and all(c.isnumeric() for c in digits):
            raise MinetaxError(f"--param {name}: {value!r} is not a number written with the digits 0-9")
        else:
            params[name] = value
    return params


def _kind(st: duckdb.Statement) -> str:
    try:
        return str(st.type).rsplit(".", 1)[-1]
    except ValueError:  # a type duckdb's Python API has no name for, e.g. UPDATE EXTENSIONS
        return "another kind of statement"


def _tokens(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each token but comments, from DuckDB's own tokenizer."""
    marks = duckdb.tokenize(text)
    ends = [p for p, _ in marks[1:]] + [len(text)]
    return [(p, text[p:end].strip()) for (p, t), end in zip(marks, ends, strict=True)
            if t != duckdb.token_type.comment]


def _without_semicolon(text: str) -> str:
    toks = _tokens(text)
    return text[:toks[-1][0]] if toks and toks[-1][1] == ";" else text


def _explained(text: str) -> list[str]:
    """What an EXPLAIN [ANALYZE] [(options)] statement may explain: the text after its prefix, with and without
    a parenthesised group (options, or a parenthesised query). Every reading that parses is checked."""
    toks = _tokens(text)[1:]
    if toks and toks[0][1].upper() in ("ANALYZE", "ANALYSE"):
        toks = toks[1:]
    if not toks:
        return []
    bodies = [text[toks[0][0]:]]
    depth = 0
    for i, (_, tok) in enumerate(toks):
        depth += (tok == "(") - (tok == ")")  # operators come one token each; a string "')'" is not one
        if depth <= 0:
            if i > 0 and i + 1 < len(toks):
                bodies.append(text[toks[i + 1][0]:])
            break
    return bodies


def _refuse(what: str, inside: str) -> QueryRefused:
    return QueryRefused(f"refused: minetax sql runs only read queries ({READS}) on the published snapshot; "
                        f"this is {what}{inside}")


def _check(con: duckdb.DuckDBPyConnection, st: duckdb.Statement, inside: str = "") -> None:
    kind = _kind(st)
    text = _without_semicolon(st.query)
    first = (_tokens(text) or [(0, "")])[0][1].upper()
    if kind == "SELECT":
        return
    if kind == "EXPLAIN" or (kind == "MULTI" and first == "EXPLAIN"):
        if inside:
            raise _refuse("an EXPLAIN", inside)
        parsed = 0
        for body in _explained(text):
            try:
                inner = con.extract_statements(body)
            except duckdb.Error:
                continue
            parsed += 1
            for s in inner:
                _check(con, s, " inside EXPLAIN")
        if not parsed:
            raise _refuse("an EXPLAIN of something minetax sql cannot read", "")
        return
    if kind == "MULTI":  # a PIVOT with values from the data: run it only if it is a query (parses as a subquery)
        try:
            wrapped = con.extract_statements(f"SELECT * FROM ({text}\n)")
        except duckdb.Error:
            wrapped = []
        if len(wrapped) == 1 and _kind(wrapped[0]) in ("SELECT", "MULTI"):
            return
        raise _refuse(f"{first or 'another statement'} with a PIVOT", inside)
    raise _refuse(kind, inside)


def check_statements(con: duckdb.DuckDBPyConnection, sql: str, source: str | None = None) -> None:
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as e:
        raise MinetaxError(f"query failed: {_message(e, sql, source)}") from e
    if not statements:
        raise QueryRefused("refused: the query is empty")
    for st in statements:
        _check(con, st)


def _syntax_position(sql: str) -> str:
    """'line L, column C' of a syntax error, from DuckDB's parser (json_serialize_sql gives the byte offset)."""
    try:
        with duckdb.connect(config={"enable_external_access": False}) as con:
            (serialized,) = con.execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchall()[0]
        found = json.loads(serialized)
        before = sql.encode()[:int(found["position"])].decode(errors="ignore")
    except (duckdb.Error, KeyError, TypeError, ValueError):
        return "an unknown position"
    line = before.count("\n") + 1
    return f"line {line}, column {len(before) - before.rfind(chr(10))}"


def _message(e: duckdb.Error, sql: str, source: str | None) -> str:
    """DuckDB's message; for a query from a file, without the query text (DuckDB quotes it)."""
    text = str(e).strip()
    if source is None:
        return text
    if isinstance(e, duckdb.ParserException):
        return f"syntax error in {source} at {_syntax_position(sql)}"
    head, _, context = text.partition("\n\nLINE ")
    line = context.split(":", 1)[0]
    return f"{head} (in {source}" + (f", line {line})" if line.isdigit() else ")")


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None, timeout: float) -> pd.DataFrame:
    """Run on a worker thread; on timeout or Ctrl-C the query is interrupted (con.interrupt) and waited for."""
    out: dict = {}

    def work() -> None:
        try:
            out["df"] = con.execute(sql, params or None).df()
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread
            out["error"] = e

    worker = threading.Thread(target=work, name="minetax-sql", daemon=True)
    worker.start()
    try:
        worker.join(timeout)
    except KeyboardInterrupt:
        con.interrupt()
        worker.join()
        raise
    if worker.is_alive():
        con.interrupt()
        worker.join()
        raise MinetaxError(f"query stopped after {timeout:g} s (--timeout)")
    if "error" in out:
        raise out["error"]
    return out["df"]


def run_query(settings: Settings, sql: str, params: dict | None = None, *, timeout: float = DEFAULT_TIMEOUT_S,
              memory: str = DEFAULT_MEMORY, source: str | None = None) -> pd.DataFrame:
    """Run one read-only query on the snapshot. source: the file the query came from (its text is then never
    echoed in an error)."""
    if not (math.isfinite(timeout) and timeout > 0):
        raise MinetaxError(f"--timeout takes a number of seconds above 0, got {timeout:g}")
    with open_snapshot(settings, memory) as con:
        check_statements(con, sql, source)
        try:
            return _execute(con, sql, params, timeout)
        except duckdb.PermissionException as e:
            raise QueryRefused(f"refused: {str(e).splitlines()[0]} (minetax sql reads only the snapshot)") from e
        except duckdb.OutOfMemoryException as e:
            raise MinetaxError(f"query needs more memory than its limit of {memory} (--memory): "
                               f"{str(e).splitlines()[0]}") from e
        except duckdb.InterruptException as e:
            raise MinetaxError("query interrupted") from e
        except duckdb.Error as e:
            raise MinetaxError(f"query failed: {_message(e, sql, source)}") from e
