"""Run a Great Expectations suite on staged input or on an output check query, with the chosen engine.

The suites (expectations/*.json) are the contract, whichever engine evaluates them:

- `duckdb` (the default): minetax.validate.suite_sql, inside DuckDB, one scan per suite. A run then never imports
  Great Expectations, whose import and context cost about 3 s per process (measured in BENCHMARKS.md), and
  never copies a staged file into pandas.
- `great_expectations`: Great Expectations itself (pandas engine) on the same rows, for an audit run or to
  check the DuckDB engine; set MINETAX_VALIDATION_ENGINE=great_expectations.

tests/test_suite_sql.py runs both engines on every input and output suite of the embedded data and the
bad-input corpus and requires the same result for every expectation.
"""

from __future__ import annotations

import os
from functools import cache

import duckdb

from minetax import db
from minetax.errors import MinetaxError
from minetax.validate import suite_sql, unexpected
from minetax.validate.suites import Report, describe, load_suite_doc

ENGINES = ("duckdb", "great_expectations")


def engine() -> str:
    name = os.environ.get("MINETAX_VALIDATION_ENGINE", "duckdb").strip().lower().replace("-", "_") or "duckdb"
    if name not in ENGINES:
        raise MinetaxError(f"MINETAX_VALIDATION_ENGINE={name!r}: use one of {', '.join(ENGINES)}")
    return name


@cache
def _great_expectations():
    from minetax.validate.ge_engine import Validator

    return Validator()


def check_relation(con: duckdb.DuckDBPyConnection, suite: str, relation: str, target: str,
                   totals: dict[str, str] | None = None) -> Report:
    """The suite on a staged relation with a `_row` column (an input file's rows); `totals`: aggregates of the
    relation wanted beside it (name -> SQL aggregate), in the suite's scan when DuckDB evaluates it."""
    if engine() == "great_expectations":
        report = _great_expectations().validate(suite, con.execute(f"SELECT * FROM {relation} ORDER BY _row").df(),
                                                target)
        if totals:
            values = con.execute(f"SELECT {', '.join(totals.values())} FROM {relation}").fetchall()[0]
            report.totals = dict(zip(totals, values, strict=True))
    else:
        report = suite_sql.validate(con, suite, relation, target, totals)
    return _with_rows(con, report, relation)


def check_query(con: duckdb.DuckDBPyConnection, suite: str, sql_file: str, params: dict, target: str) -> Report:
    """The suite on the rows of a single-statement check query (sql/check_*.sql)."""
    if engine() == "great_expectations":
        return _great_expectations().validate(suite, db.query_file(con, sql_file, params), target)
    (stmt,) = db.statements(db.sql_text(sql_file))
    con.execute(f"CREATE OR REPLACE TEMP TABLE check_result AS SELECT row_number() OVER () AS _row, * "
                f"FROM ({stmt})", db.bound(stmt, params)).fetchall()
    return _with_rows(con, suite_sql.validate(con, suite, "check_result", target), "check_result")


def _with_rows(con: duckdb.DuckDBPyConnection, report: Report, relation: str) -> Report:
    """The failed rules' example rows with their values, for the validation report (a passing suite: no query)."""
    if not report.success:
        details = {i: row_details(con, report.suite, relation, r) for i, r in enumerate(report.results)
                   if not r["success"]}
        unexpected.attach(con, report, relation, details)
    return report


def row_details(con: duckdb.DuckDBPyConnection, suite: str, relation: str, result: dict) -> dict[int, str]:
    """What a failed rule found in each of its example rows, for rules whose suite entry names a detail column
    (meta.detail, e.g. farm_id_distinct_detail: "farm_id 'a1' looks like 'A1' (already loaded)"); {} otherwise.
    The detail is text the stage SQL wrote beside the check column: the other id of a probable duplicate, the
    invisible character's code point, the readings already loaded that a changed farm would leave out."""
    rows = [int(r) for r in result.get("example_rows") or []]
    cfg = next((c for c in load_suite_doc(suite)["expectations"]
                if c["type"] == result["expectation"]
                and ((c.get("meta") or {}).get("rule") or describe(c)) == result["rule"]), None)
    column = ((cfg or {}).get("meta") or {}).get("detail")
    if not rows or not column:
        return {}
    found = con.execute(f"SELECT _row, {suite_sql.ident(column)} FROM {relation} WHERE _row IN "
                        f"({', '.join(map(str, rows))}) AND {suite_sql.ident(column)} IS NOT NULL").fetchall()
    return {int(r): str(text) for r, text in found}
