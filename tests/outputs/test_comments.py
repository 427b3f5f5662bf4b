"""Every published table and view, and every column of each, has a comment (the snapshot documents itself)."""

from __future__ import annotations

import duckdb


def test_every_published_relation_and_column_has_a_comment(embedded_run):
    settings = embedded_run[0]
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        relations = con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal "
                                "UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall()
        columns = con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                              "WHERE schema_name = 'main' AND NOT internal").fetchall()
    names = {r[0] for r in relations}
    assert {"estimates", "rates", "assumptions", "catalog", "farms", "validations"} <= names
    assert [r[0] for r in relations if not (r[1] or "").strip()] == []
    assert {c[0] for c in columns} == names
    assert [f"{t}.{c}" for t, c, comment in columns if not (comment or "").strip()] == []
