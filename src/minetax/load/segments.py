"""Meter readings in core: the loaded files ("segments"), their partitions in the readings store, and the view
core.energy_readings over them.

Every validated readings file is a segment: listed in core.energy_reading_segments (its sha256, rows, kWh, time
span, the raw copy it came from) and written once into the readings store as Parquet partitioned by farm bucket ×
month (minetax.load.partitions), in the same transaction as the rest of the load, so a crash leaves at most
unlisted files, never a half-loaded one. A later file's reading replaces an earlier one with the same key (farm_id,
ts_start): the earlier one is listed in core.energy_readings_replaced and left out of the view. The view
(sql/core/energy_readings.sql) is made over the listed partition files: read_parquet for a folder store, a
registered Arrow dataset for an object store. The model does not read it: it reads the map's partials
(minetax.model.partials), which read the partitions.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from minetax import db, graph
from minetax.load import partitions
from minetax.storage import SEGMENT_OF_NAME

CORE_TYPES = {"farm_id": "VARCHAR", "ts_start": "TIMESTAMP", "ts_end": "TIMESTAMP", "kwh": "DOUBLE",
              "price_kzt_per_kwh": "DOUBLE"}


def refresh_view(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """(Re)create core.energy_readings over the listed partition files."""
    rels = partitions.files(con)
    if not rels:
        graph.run_file(con, "core/energy_readings_empty.sql")
        return
    store = partitions.store_of(con, home)
    if store.is_local:
        graph.run_file(con, "core/energy_readings.sql", {"files": [store.uri(r) for r in rels],
                                                         "segment_of_name": SEGMENT_OF_NAME})
    else:
        store.readings_relation(con, rels, "readings_registered")
        graph.run_file(con, "core/energy_readings_registered.sql")


def home_of(con: duckdb.DuckDBPyConnection) -> Path:
    """MINETAX_HOME of an open warehouse (the folder of its file)."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(path[0][0]).parent


def _typed_as_core(con: duckdb.DuckDBPyConnection, untrimmed: bool | None = None) -> bool:
    """The staged Parquet file can serve as its own segment: core's column types, and farm ids need no trim
    (`untrimmed`: known already from the key/overlap pass; None: looked up)."""
    types = {r[0]: r[1] for r in con.execute("DESCRIBE SELECT * FROM src_energy_readings").fetchall()}
    if any(types.get(c) != t for c, t in CORE_TYPES.items()):
        return False
    if untrimmed is not None:
        return not untrimmed
    return con.execute("SELECT count(*) FROM src_energy_readings WHERE farm_id <> trim(farm_id)").fetchall()[0][0] == 0


def _write_segment(con: duckdb.DuckDBPyConnection, source: str, path: Path) -> None:
    """Write the core columns of `source` (a relation, with any ORDER BY) to one Parquet file: aside, then renamed,
    so a crash never leaves a half-written file under its final name (a warehouse from before segments)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    con.execute(f"COPY (SELECT farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh FROM {source}) "
                f"TO {db.literal(tmp)} (FORMAT parquet, COMPRESSION zstd)").fetchall()
    os.replace(tmp, path)


def add(con: duckdb.DuckDBPyConnection, home: Path, sha256: str, stored: Path, rows: int, run_id: str,
        replaces: bool, kwh: float | None = None, untrimmed: bool | None = None, store: str | None = None) -> None:
    """List the staged readings file (validated) as a segment and write its partitions; `replaces`: core holds
    readings it may replace; `kwh`: its total, if counted already; `untrimmed`: whether a farm id has spaces to
    trim, if known; `store`: the readings store setting (None: the warehouse's, or the default folder)."""
    listed = con.execute("SELECT count(*) FROM core.energy_reading_segments WHERE sha256 = ?", [sha256]
                         ).fetchall()[0][0] > 0
    if listed:  # the same content loaded again (e.g. a file put back after another replaced some of its
        # readings): its readings count again, and they replace the later ones; it is not listed twice
        con.execute("DELETE FROM core.energy_readings_replaced WHERE segment = ?", [sha256]).fetchall()
        refresh_view(con, home)
    if replaces or listed:
        graph.run_file(con, "core/energy_readings_replaced.sql", {"segment": sha256})
    if not listed:
        lo, hi = con.execute("SELECT min(lo), max(hi) FROM reading_spans").fetchall()[0]
        partitions.ensure_layout(con, rows, lo, hi, store)
        source = (f"read_parquet({db.literal(stored)})" if stored.suffix == ".parquet"
                  and _typed_as_core(con, untrimmed) else "typed_energy_readings")
        partitions.write(con, home, sha256, source, run_id, rows)
        if kwh is None:
            kwh = con.execute("SELECT sum(kwh) FROM typed_energy_readings").fetchall()[0][0]
        path = str(stored.relative_to(home)) if stored.is_relative_to(home) else str(stored)
        con.execute("INSERT INTO core.energy_reading_segments VALUES "
                    "((SELECT coalesce(max(seq), 0) + 1 FROM core.energy_reading_segments), ?, ?, ?, ?, ?, ?, ?, ?)",
                    [sha256, path, rows, kwh, lo, hi, run_id, dt.datetime.now()]).fetchall()
    refresh_view(con, home)


def migrate(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """A warehouse from before segments holds readings in a table core.energy_readings: write them to a segment,
    list it, and replace the table by the view (one transaction; the segment file is written first)."""
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'core' "
                       "AND table_name = 'energy_readings'").fetchall()
    if not kind or kind[0][0] != "BASE TABLE":
        return
    path = home / "core" / "migrated" / "migrated-table.parquet"
    _write_segment(con, "core.energy_readings ORDER BY farm_id, ts_start", path)
    con.execute("BEGIN TRANSACTION").fetchall()
    try:
        lo, hi, n, kwh = con.execute("SELECT min(ts_start), max(ts_end), count(*), sum(kwh) "
                                     "FROM core.energy_readings").fetchall()[0]
        con.execute("DROP TABLE core.energy_readings").fetchall()
        if n:
            con.execute("INSERT INTO core.energy_reading_segments VALUES (1, 'migrated-table', ?, ?, ?, ?, ?, "
                        "'migration', ?)", [str(path.relative_to(home)), n, kwh, lo, hi, dt.datetime.now()]
                        ).fetchall()
        refresh_view(con, home)
        con.execute("COMMIT").fetchall()
    except BaseException:
        con.execute("ROLLBACK").fetchall()
        raise


def migrate_partitions(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """A warehouse from before the readings store lists segments that have no partitions: write each segment's
    readings into the store (the buckets chosen from all of them), in one transaction."""
    todo = con.execute("SELECT sha256, path, rows FROM core.energy_reading_segments s WHERE NOT EXISTS (SELECT 1 FROM "
                       "core.energy_reading_partitions p WHERE p.segment = s.sha256) ORDER BY seq").fetchall()
    if not todo:
        return
    con.execute("BEGIN TRANSACTION").fetchall()
    try:
        rows, lo, hi = con.execute("SELECT sum(rows), min(ts_min), max(ts_max) FROM core.energy_reading_segments"
                                   ).fetchall()[0]
        partitions.ensure_layout(con, int(rows), lo, hi, None)
        con.execute("CREATE TEMP TABLE IF NOT EXISTS stage_farms AS SELECT * FROM core.farms WHERE false").fetchall()
        for sha, rel, n in todo:
            path = Path(rel) if Path(rel).is_absolute() else home / rel
            # every farm of the old readings gets its bucket, listed in core.farms or not (old warehouses)
            con.execute(f"INSERT INTO stage_farms (farm_id) SELECT DISTINCT farm_id FROM read_parquet("
                        f"{db.literal(path)})").fetchall()
            partitions.write(con, home, sha, f"read_parquet({db.literal(path)})", "migration", n)
        con.execute("COMMIT").fetchall()
    except BaseException:
        con.execute("ROLLBACK").fetchall()
        raise
