"""Meter readings in core: Parquet segments under MINETAX_HOME, and the view core.energy_readings over them.

Copying 100M readings into a DuckDB table costs more than everything else a run does (7–9 s on 2 cores, and as
much again for a primary-key index), so validated readings stay in Parquet. A loaded Parquet file whose
columns already have the core types is its own segment: the content-addressed raw copy
(raw/energy_readings/<sha256>.parquet), not copied again. Any other file (CSV, other types, padded farm ids)
gets a typed copy, core/energy_readings/<sha256>.parquet. Segments are listed in core.energy_reading_segments
in the same transaction as the rest of the load, so a crash leaves at most an unlisted file, never a half-loaded
one. A later file's reading replaces an earlier one with the same key (farm_id, ts_start): the earlier one is
listed in core.energy_readings_replaced and left out of the view. The view (sql/core/energy_readings.sql) and the
run's window (sql/core/window_readings.sql) are run by minetax.graph with the list of segment files as a declared
literal parameter ($segments).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from minetax import db, graph

CORE_TYPES = {"farm_id": "VARCHAR", "ts_start": "TIMESTAMP", "ts_end": "TIMESTAMP", "kwh": "DOUBLE",
              "price_kzt_per_kwh": "DOUBLE"}


def segment_dir(home: Path) -> Path:
    return home / "core" / "energy_readings"


def refresh_view(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """(Re)create core.energy_readings over the listed segments (paths are kept relative to MINETAX_HOME)."""
    paths = [home / r[0] for r in con.execute("SELECT path FROM core.energy_reading_segments ORDER BY seq").fetchall()]
    if not paths:
        graph.run_file(con, "core/energy_readings_empty.sql")
        return
    graph.run_file(con, "core/energy_readings.sql", {"segments": paths})


def home_of(con: duckdb.DuckDBPyConnection) -> Path:
    """MINETAX_HOME of an open warehouse (the folder of its file)."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(path[0][0]).parent


def window_view(con: duckdb.DuckDBPyConnection, lo: dt.date, hi: dt.date) -> None:
    """Temp view window_readings (sql/core/window_readings.sql): core.energy_readings restricted to the segments
    that may hold readings starting in [lo, hi), by their listed time range."""
    rows = con.execute("SELECT path FROM core.energy_reading_segments WHERE ts_min < ? AND ts_max > ? ORDER BY seq",
                       [hi, lo]).fetchall()
    if not rows:
        graph.run_file(con, "core/window_readings_empty.sql")
        return
    graph.run_file(con, "core/window_readings.sql", {"segments": [home_of(con) / r[0] for r in rows]})


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
    """Write the core columns of `source` (a relation, with any ORDER BY) to a Parquet segment: aside, then
    renamed, so a crash never leaves a half-written segment under its final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    con.execute(f"COPY (SELECT farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh FROM {source}) "
                f"TO {db.literal(tmp)} (FORMAT parquet, COMPRESSION zstd)").fetchall()
    os.replace(tmp, path)


def add(con: duckdb.DuckDBPyConnection, home: Path, sha256: str, stored: Path, rows: int, run_id: str,
        replaces: bool, kwh: float | None = None, untrimmed: bool | None = None) -> Path:
    """List the staged readings file (validated) as a segment; `replaces`: core holds readings it may replace;
    `kwh`: its total, if counted already; `untrimmed`: whether a farm id has spaces to trim, if known. Returns the
    segment's path."""
    if stored.suffix == ".parquet" and _typed_as_core(con, untrimmed):
        path = stored
    else:
        path = segment_dir(home) / f"{sha256}.parquet"
        if not path.exists():
            _write_segment(con, "typed_energy_readings", path)
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
        if kwh is None:
            kwh = con.execute("SELECT sum(kwh) FROM typed_energy_readings").fetchall()[0][0]
        con.execute("INSERT INTO core.energy_reading_segments VALUES "
                    "((SELECT coalesce(max(seq), 0) + 1 FROM core.energy_reading_segments), ?, ?, ?, ?, ?, ?, ?, ?)",
                    [sha256, str(path.relative_to(home)), rows, kwh, lo, hi, run_id, dt.datetime.now()]).fetchall()
    refresh_view(con, home)
    return path


def migrate(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """A warehouse from before segments holds readings in a table core.energy_readings: write them to a segment,
    list it, and replace the table by the view (one transaction; the segment file is written first)."""
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'core' "
                       "AND table_name = 'energy_readings'").fetchall()
    if not kind or kind[0][0] != "BASE TABLE":
        return
    path = segment_dir(home) / "migrated-table.parquet"
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
