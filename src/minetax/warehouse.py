"""The warehouse (MINETAX_HOME/warehouse.duckdb): opened read-write with every schema and table in its current
shape, and the readings view over the listed Parquet segments (minetax.load.segments)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from minetax import db
from minetax.errors import MinetaxError
from minetax.load import segments

MEMORY_ENV, DEFAULT_MEMORY = "MINETAX_MEMORY_LIMIT", "3GB"  # DuckDB's memory for a run (the warehouse connection)
# Bump when a model.* or tax.* table changes shape: those schemas hold only derived results, recomputed by
# every run, so an older warehouse gets them dropped and recreated (core.* and meta.* are kept).
SCHEMA_VERSION = "4"  # core.readings_layout and core.energy_reading_partitions are new core tables (kept)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-write and make sure every schema and table exists in its current shape. DuckDB's
    memory is capped (MEMORY_ENV, default DEFAULT_MEMORY; beyond it DuckDB spills to <warehouse>.tmp/): by default
    DuckDB takes up to 80% of the machine's memory, and a billion readings would take it."""
    con = db.connect(path)
    limit = os.environ.get(MEMORY_ENV, DEFAULT_MEMORY)
    try:
        con.execute(f"SET memory_limit = {db.literal(limit)}").fetchall()
    except duckdb.Error as e:
        con.close()
        raise MinetaxError(f"{MEMORY_ENV}={limit!r}: not a memory size DuckDB understands (e.g. 3GB, 512MB): {e}"
                           ) from e
    con.execute("CREATE SCHEMA IF NOT EXISTS meta").fetchall()
    con.execute("CREATE TABLE IF NOT EXISTS meta.schema_info (version VARCHAR)").fetchall()
    found = con.execute("SELECT max(version) FROM meta.schema_info").fetchall()[0][0]
    if found != SCHEMA_VERSION:
        for schema in ("model", "tax"):
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE").fetchall()
        con.execute("DELETE FROM meta.schema_info").fetchall()
        con.execute("INSERT INTO meta.schema_info (version) VALUES (?)", [SCHEMA_VERSION]).fetchall()
    db.run_file(con, "schema.sql")
    segments.migrate(con, path.parent)
    segments.migrate_partitions(con, path.parent)
    segments.refresh_view(con, path.parent)
    return con
