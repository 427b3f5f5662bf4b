"""minetax sql reads only the published snapshot, bounded: every other kind of statement is refused (also inside
EXPLAIN), a query stops at its timeout and memory limit, a query file's text is never echoed, and results print as
text (issue 13, point 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.publish.query import QueryRefused, check_statements, open_snapshot, run_query
from tests.conftest import make_data_dir


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    base = tmp_path_factory.mktemp("sandbox")
    data = make_data_dir(base / "data", {"Q1": ["coal", "grid", True, "2022-01-01", None]}, [["Q1", "2023-01", 10, 10]])
    s = Settings.make(base / "home", data)
    pipeline.run(s, "kz-baseline")
    (base / "secret.csv").write_text("a\n1\n")
    return s


REFUSED = {
    "insert": ("INSERT INTO estimates SELECT * FROM estimates", "this is INSERT"),
    "delete": ("DELETE FROM estimates", "this is DELETE"),
    "update": ("UPDATE estimates SET tax_kzt = 0", "this is UPDATE"),
    "create": ("CREATE TABLE x AS SELECT 1", "this is CREATE"),
    "drop": ("DROP VIEW revenue_by_year", "this is DROP"),
    "attach": ("ATTACH '/tmp/other.duckdb' AS o", "this is ATTACH"),
    "detach": ("DETACH minetax", "this is DETACH"),
    "copy to": ("COPY (SELECT * FROM estimates) TO '/tmp/leak.csv'", "this is COPY"),
    "export database": ("EXPORT DATABASE '/tmp/leak'", "this is EXPORT"),
    "install": ("INSTALL httpfs", "this is LOAD"),
    "load": ("LOAD httpfs", "this is LOAD"),
    "set": ("SET enable_external_access = true", "this is SET"),
    "pragma": ("PRAGMA enable_profiling", "this is PRAGMA"),
    "call": ("CALL checkpoint()", "this is CALL"),
    "second statement": ("SELECT 1; DELETE FROM estimates", "this is DELETE"),
    "read_csv": ("SELECT * FROM read_csv('{secret}')", "refused: "),
    "read_text": ("SELECT * FROM read_text('/etc/hostname')", "refused: "),
    "glob": ("SELECT * FROM glob('/etc/*')", "refused: "),
    "parquet path": ("SELECT * FROM '/tmp/x.parquet'", "refused: "),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused(settings, case):
    sql, message = REFUSED[case]
    with pytest.raises(MinetaxError, match=message):
        run_query(settings, sql.format(secret=settings.home.parent / "secret.csv"))
    assert not (settings.home.parent / "leak.csv").exists()


@pytest.mark.parametrize("sql", ["SELECT count(*) FROM estimates", "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
                                 "DESCRIBE estimates", "SHOW TABLES", "SUMMARIZE revenue_by_year",
                                 "EXPLAIN SELECT * FROM estimates", "FROM catalog LIMIT 3"])
def test_read_queries_run(settings, sql):
    assert len(run_query(settings, sql)) >= 1


def minetax_sql(settings, *args, timeout=60):
    """`minetax sql …` as a user runs it (a subprocess), on the published snapshot of `settings`."""
    return subprocess.run([sys.executable, "-m", "minetax.cli", "sql", *map(str, args), "--home", str(settings.home)],
                          capture_output=True, text=True, timeout=timeout, cwd=settings.home.parent)


def one_error(r) -> str:
    """The run failed cleanly: exit code 1, exactly one `error:` line, no traceback. Returns that line."""
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, r.stderr
    return errors[0]


# the statement inside an EXPLAIN is checked like any other, before DuckDB runs anything
REFUSED_INSIDE = {
    "explain analyze create temp table": ("EXPLAIN ANALYZE CREATE TEMP TABLE t AS SELECT 1", "this is CREATE inside"),
    "explain analyze copy": ("EXPLAIN ANALYZE COPY (SELECT * FROM estimates) TO '{leak}'", "this is COPY inside"),
    "explain copy": ("EXPLAIN COPY estimates TO '{leak}'", "this is COPY inside"),
    "explain install": ("EXPLAIN INSTALL httpfs", "this is LOAD inside"),
    "explain analyze create secret": ("EXPLAIN ANALYZE CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')",
                                      "this is CREATE inside"),
    "explain with options": ("EXPLAIN (ANALYZE, FORMAT json) INSERT INTO estimates SELECT * FROM estimates",
                             "this is INSERT inside"),
    "explain analyze (options)": ("EXPLAIN ANALYZE (FORMAT json) DELETE FROM estimates", "this is DELETE inside"),
    "explain with comments": ("EXPLAIN /* x */ ANALYZE -- y\n CREATE TEMP TABLE t AS SELECT 1",
                              "this is CREATE inside"),
    "explain set": ("EXPLAIN SET VARIABLE v = 1", "this is SET inside"),
    "explain pragma": ("EXPLAIN PRAGMA version", "this is PRAGMA inside"),
    "explain update extensions": ("EXPLAIN ANALYZE UPDATE EXTENSIONS", "another kind of statement inside"),
    "update extensions": ("UPDATE EXTENSIONS", "this is another kind of statement"),
    "create secret": ("CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')", "this is CREATE"),
    "create temp table": ("CREATE TEMP TABLE t AS SELECT 1", "this is CREATE"),
    "create temp macro": ("CREATE TEMP MACRO m() AS 1", "this is CREATE"),
    "set variable": ("SET VARIABLE v = 1", "this is SET"),
    # a PIVOT with values from the data is a MULTI statement: run only if it is a query
    "create as pivot": ("CREATE TEMP TABLE t AS PIVOT revenue_by_year ON scheme_id USING sum(tax_kzt)",
                        "this is CREATE with a PIVOT"),
    "copy of a pivot": ("COPY (PIVOT revenue_by_year ON scheme_id USING sum(tax_kzt)) TO '{leak}'",
                        "this is COPY with a PIVOT"),
    "explain analyze create as pivot": ("EXPLAIN ANALYZE CREATE TEMP TABLE t AS PIVOT revenue_by_year ON scheme_id",
                                        "this is CREATE with a PIVOT inside EXPLAIN"),
    "insert with a pivot": ("INSERT INTO estimates SELECT * FROM estimates, (PIVOT revenue_by_year ON scheme_id) p",
                            "this is INSERT with a PIVOT"),
    "pivot then delete": ("PIVOT revenue_by_year ON scheme_id; DELETE FROM estimates", "this is DELETE"),
}


@pytest.mark.parametrize("case", list(REFUSED_INSIDE))
def test_refused_by_our_check_before_duckdb(settings, tmp_path, case):
    sql, message = REFUSED_INSIDE[case]
    sql = sql.format(leak=tmp_path / "leak.csv")
    con = duckdb.connect()  # a writable database where every one of these statements would run
    con.execute("CREATE TABLE estimates AS SELECT 1 AS tax_kzt; CREATE TABLE revenue_by_year AS "
                "SELECT 'a' AS scheme_id, 1 AS tax_kzt")
    with pytest.raises(QueryRefused, match=message):
        check_statements(con, sql)
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM estimates").fetchone()[0] == 1
    con.close()
    with pytest.raises(QueryRefused, match=message):
        run_query(settings, sql)
    assert not (tmp_path / "leak.csv").exists()


READ_FORMS = {
    "pivot": "PIVOT revenue_by_year ON scheme_id USING sum(tax_kzt) GROUP BY year",
    "pivot with IN": "PIVOT revenue_by_year ON scheme_id IN ('kz-cit') USING sum(tax_kzt) GROUP BY year",
    "pivot_wider": "PIVOT_WIDER revenue_by_year ON scheme_id USING sum(tax_kzt) GROUP BY year",
    "unpivot": "UNPIVOT (SELECT year, tax_kzt FROM revenue_by_year) ON tax_kzt INTO NAME k VALUE v",
    "pivot in a CTE": "WITH p AS (PIVOT revenue_by_year ON scheme_id USING sum(tax_kzt)) SELECT count(*) FROM p",
    "select from a pivot": "SELECT * FROM (PIVOT revenue_by_year ON scheme_id USING sum(tax_kzt) GROUP BY year)",
    "summarize pivot": "SUMMARIZE PIVOT revenue_by_year ON scheme_id USING sum(tax_kzt)",
    "explain pivot": "EXPLAIN PIVOT revenue_by_year ON scheme_id USING sum(tax_kzt)",
    "explain analyze select": "EXPLAIN ANALYZE SELECT count(*) FROM estimates",
    "explain with options": "EXPLAIN (FORMAT json) SELECT count(*) FROM estimates",
    "explain (query)": "EXPLAIN (SELECT count(*) FROM estimates)",
    "summarize": "SUMMARIZE estimates",
    "describe": "DESCRIBE estimates",
    "describe query": "DESCRIBE SELECT * FROM estimates",
    "show": "SHOW revenue_by_year",
    "show all tables": "SHOW ALL TABLES",
    "from-first": "FROM revenue_by_year SELECT year WHERE tax_kzt > 0",
    "values": "VALUES (1, 'a'), (2, 'b')",
    "table": "TABLE revenue_by_year",
    "union": "SELECT 1 AS x UNION ALL SELECT 2",
    "trailing semicolon and comment": "SELECT 1 AS x; -- done",
    "two queries": "SELECT 1 AS x; SELECT 2 AS y",
}


@pytest.mark.parametrize("case", list(READ_FORMS))
def test_read_only_forms_run(settings, case):
    assert len(run_query(settings, READ_FORMS[case])) >= 1


def test_pivot_gives_a_column_per_scheme(settings):
    df = run_query(settings, READ_FORMS["pivot"])
    assert {"kz-cit", "kz-mining-fee"} <= set(df.columns)


def test_connection_is_bounded(settings):
    row = run_query(settings, "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t, "
                    "current_setting('temp_directory') AS d, current_setting('enable_external_access') AS x").iloc[0]
    assert row.m == "1.8 GiB"  # 2 GB
    assert 1 <= int(row.t) <= 4 and row.d == "" and row.x in (False, "false")
    con = open_snapshot(settings, "500MB")
    try:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "476.8 MiB"
        with pytest.raises(duckdb.Error):
            con.execute("SET memory_limit = '8GB'")  # lock_configuration
    finally:
        con.close()


SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b"  # 1e13 rows: hours


def test_timeout_interrupts_the_query(settings):
    t0 = time.monotonic()
    with pytest.raises(MinetaxError, match=r"^query stopped after 0.5 s \(--timeout\)$"):
        run_query(settings, SLOW, timeout=0.5)
    assert time.monotonic() - t0 < 10
    assert len(run_query(settings, "SELECT 1")) == 1  # nothing left behind


def test_timeout_cli(settings):
    t0 = time.monotonic()
    line = one_error(minetax_sql(settings, SLOW, "--timeout", "1"))
    assert line == "error: query stopped after 1 s (--timeout)"
    assert time.monotonic() - t0 < 30
    assert one_error(minetax_sql(settings, "SELECT 1", "--timeout", "0")).startswith("error: --timeout takes")


BIG_SORT = "SELECT * FROM range(30000000) ORDER BY random()"


def test_memory_limit(settings):
    with pytest.raises(MinetaxError, match=r"query needs more memory than its limit of 50MB \(--memory\): Out of Mem"):
        run_query(settings, BIG_SORT, memory="50MB")
    assert sorted(os.listdir(settings.published_path.parent)) == ["minetax.duckdb"]  # nothing spilled beside it


def test_memory_cli(settings):
    line = one_error(minetax_sql(settings, BIG_SORT, "--memory", "50MB", "--format", "csv"))
    assert line.startswith("error: query needs more memory than its limit of 50MB (--memory)")
    assert one_error(minetax_sql(settings, "SELECT 1", "--memory", "lots")) == \
        "error: --memory takes a size such as 500MB or 2GB, got 'lots'"
    r = minetax_sql(settings, "SELECT 42 AS answer", "--memory", "500MB", "--format", "csv")
    assert r.returncode == 0 and r.stdout.splitlines() == ["answer", "42"]


def test_file_contents_never_echoed(settings, tmp_path):
    secrets = tmp_path / "secrets.env"
    secrets.write_text("-- keys\nAPI_KEY=abc123\n")
    r = minetax_sql(settings, "-f", secrets)
    assert one_error(r) == f"error: query failed: syntax error in {secrets} at line 2, column 1"
    assert "abc123" not in r.stderr + r.stdout and "API_KEY" not in r.stderr
    typo = tmp_path / "typo.sql"
    typo.write_text("SELECT 1;\nSELECT year\nFROM revenue_by_year WHERE tax_kzt > 'abc123' AND\n")
    r = minetax_sql(settings, "-f", typo)
    assert one_error(r).startswith(f"error: query failed: syntax error in {typo} at line 3, column ")
    assert "abc123" not in r.stderr
    binder = tmp_path / "binder.sql"
    binder.write_text("SELECT 1;\nSELECT no_such_column\nFROM revenue_by_year\n")
    r = minetax_sql(settings, "-f", binder)
    assert "no_such_column" in one_error(r) and f"(in {binder}, line 2)" in r.stderr and "LINE" not in r.stderr


def test_unreadable_files_one_clear_error(settings, tmp_path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)))
    latin1 = tmp_path / "latin1.sql"
    latin1.write_bytes("SELECT 'café'".encode("latin-1"))
    fifo = tmp_path / "pipe.sql"
    os.mkfifo(fifo)
    cases = {binary: "it is a binary file, not SQL text", latin1: "not UTF-8 text (byte 11 cannot be decoded)",
             tmp_path: "it is a directory", fifo: "not a regular file", tmp_path / "missing.sql": "No such file",
             "/dev/zero": "not a regular file"}
    for path, message in cases.items():
        line = one_error(minetax_sql(settings, "-f", path, timeout=30))  # a pipe or /dev/zero must not hang
        assert line.startswith(f"error: cannot read {path}: ") and message in line, line
    bom = tmp_path / "bom.sql"
    bom.write_bytes("\ufeffSELECT 'é' AS x".encode())
    r = minetax_sql(settings, "-f", bom, "--format", "csv")
    assert r.returncode == 0 and r.stdout.splitlines() == ["x", "é"], r.stderr


@pytest.mark.parametrize("value,message", [
    ("n=²", "--param n: '²' is not a number written with the digits 0-9"),
    ("n=٣", "--param n: '٣' is not a number written with the digits 0-9"),
    ("=5", "--param takes NAME=VALUE"),
    ("n", "--param takes NAME=VALUE"),
    ("1n=5", "--param takes NAME=VALUE"),
])
def test_bad_params_one_clear_error(settings, value, message):
    line = one_error(minetax_sql(settings, "SELECT $n AS v", "--param", value))
    assert line.startswith(f"error: {message}"), line


def test_params(settings):
    r = minetax_sql(settings, "SELECT $n + 1 AS a, $s AS b", "--param", "n=-3", "--param", "s=Алматы",
                    "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout) == [{"a": -2, "b": "Алматы"}], r.stderr
    assert one_error(minetax_sql(settings, "SELECT $n", "--param", "n=1", "--param", "n=2")) == \
        "error: --param n is given twice"
    assert "not provided" in one_error(minetax_sql(settings, "SELECT $n"))


def test_results_print_as_text_not_markup(settings):
    r = minetax_sql(settings, "SELECT '[/red]' AS \"[bold]h[/bold]\", '[bold]x[/bold]' AS b, '[link=x]y' AS c")
    assert r.returncode == 0, r.stderr
    assert "[/red]" in r.stdout and "[bold]x[/bold]" in r.stdout and "[bold]h[/bold]" in r.stdout
    assert "[link=x]y" in r.stdout
    line = one_error(minetax_sql(settings, 'SELECT "[/red]" FROM estimates'))  # DuckDB names the column
    assert "[/red]" in line


def test_json_of_uuid_and_blob(settings):
    r = minetax_sql(settings, "SELECT '00000000-0000-0000-0000-000000000001'::UUID AS u, 'ab'::BLOB AS b, "
                    "bitstring('101', 3) AS bits", "--format", "json")
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)[0]
    assert row["u"] == "00000000-0000-0000-0000-000000000001" and row["b"] == "ab"


def test_markdown_escapes_pipes_and_line_breaks(settings):
    r = minetax_sql(settings, "SELECT 'a|b' AS \"x|y\", 'one' || chr(10) || 'two' AS t, 1234.5::DOUBLE AS n, "
                    "'[bold]z' AS m", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["| x\\|y | t | n | m |", "|---|---|---:|---|",
                                     "| a\\|b | one<br>two | 1,234.50 | [bold]z |"]
