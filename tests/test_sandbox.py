"""minetax sql reads only the published snapshot: every other kind of statement is refused, clearly."""

from __future__ import annotations

import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.query import run_query
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
