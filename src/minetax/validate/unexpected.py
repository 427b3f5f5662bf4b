"""The rows behind a failed rule, for the validation report: the value the rule found and the row as received.

Both engines report a failed rule by its counts and up to 20 example rows (`_row`, the row number in the file or in
the check query). For Data Docs (minetax.validate.docs) each example row also needs its values, which exist only
while the run holds the staged relation: they are read here, once per suite that failed, with one query on the
relation and one on the rows as received (`src_<dataset>` for an input suite: a value that did not parse is NULL in
the typed staging but shown as the file has it). A passing suite costs nothing.

Each failed result gets `unexpected_rows` (one dict per example row: the rule's column(s) with the value found,
`_row`, then the other columns of the row) and `index_columns` (the names, after the rule's columns, that identify
the row), in the shape of Great Expectations' `unexpected_index_list` and `unexpected_index_column_names`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math

import duckdb

from minetax.validate.suites import Report, describe, load_suite_doc, result_column

MAX_COLUMNS = 10  # columns of the row shown beside the rule's own
IDENTIFIERS = ("VARCHAR", "DATE", "TIMESTAMP", "BIGINT", "INTEGER", "DOUBLE", "DECIMAL")


def config_of(doc: dict, result: dict) -> dict | None:
    """The suite entry a result is about: same expectation type, rule text and column."""
    return next((c for c in doc["expectations"]
                 if c["type"] == result["expectation"]
                 and ((c.get("meta") or {}).get("rule") or describe(c)) == result["rule"]
                 and result_column(c) == result["column"]), None)


def domain_columns(cfg: dict) -> list[str]:
    """The columns a rule is evaluated on (Great Expectations' domain)."""
    kw = cfg["kwargs"]
    if "column" in kw:
        return [kw["column"]]
    if "column_list" in kw:
        return list(kw["column_list"])
    return [kw[k] for k in ("column_A", "column_B") if k in kw]


def plain(value: object) -> object:
    """A value as JSON can hold it: numbers, text, booleans and None; dates and times as ISO text."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def _rows(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str], rows: list[int]) -> dict[int, dict]:
    cols = ", ".join(_ident(c) for c in ["_row", *columns])
    found = con.execute(f"SELECT {cols} FROM {relation} WHERE _row IN ({', '.join(map(str, rows))})").fetchall()
    return {int(r[0]): {c: plain(v) for c, v in zip(columns, r[1:], strict=True)} for r in found}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def received_relation(con: duckdb.DuckDBPyConnection, suite: str, relation: str) -> str | None:
    """The rows as received for an input suite evaluated on stage_<dataset>: src_<dataset>, when it is there."""
    if not (suite.startswith("input.") and relation.startswith("stage_")):
        return None
    name = "src_" + relation.removeprefix("stage_")
    # looked up in the catalog: a failed statement would abort the run's transaction
    found = con.execute("SELECT count(*) FROM (SELECT view_name AS name FROM duckdb_views() UNION ALL "
                        "SELECT table_name FROM duckdb_tables()) WHERE name = ?", [name]).fetchall()[0][0]
    return name if found else None


def attach(con: duckdb.DuckDBPyConnection, report: Report, relation: str, details: dict | None = None) -> None:
    """Add `unexpected_rows` and `index_columns` to each failed result of `report` that has example rows.
    `details`: per failed result (by position in report.results), what the rule found in each row (row -> text)."""
    failed = [(i, r) for i, r in enumerate(report.results) if not r["success"] and r.get("example_rows")]
    if not failed:
        return
    doc = load_suite_doc(report.suite)
    types = _columns(con, relation)
    received = received_relation(con, report.suite, relation)
    wanted = sorted({int(n) for _, r in failed for n in r["example_rows"]})
    typed = _rows(con, relation, [c for c in types if c != "_row"], wanted)
    if received:
        raw_cols = [c for c in _columns(con, received) if c != "_row"][:MAX_COLUMNS]
        raw = _rows(con, received, raw_cols, wanted)
    else:
        raw_cols = [c for c, t in types.items() if c != "_row" and t.split("(")[0] in IDENTIFIERS][:MAX_COLUMNS]
        raw = typed
    for i, r in failed:
        cfg = config_of(doc, r) or {"kwargs": {}}
        domain = [c for c in domain_columns(cfg) if c in types]
        shown = [c for c in raw_cols if c not in domain]
        detail = (details or {}).get(i) or {}
        rows = []
        for n in (int(x) for x in r["example_rows"]):
            row = {c: typed.get(n, {}).get(c) for c in domain}
            row["_row"] = n
            row.update({c: raw.get(n, {}).get(c) for c in shown})
            if detail:
                row["detail"] = detail.get(n)
            rows.append(row)
        r["unexpected_rows"] = rows
        r["index_columns"] = ["_row", *shown, *(["detail"] if detail else [])]
