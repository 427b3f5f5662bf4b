"""The readings store: loaded readings as Parquet partitioned by farm bucket × month, listed in the warehouse.

A validated readings file is written once, in one query (sql/core/energy_reading_partition_files.sql), as
bucket=B/ym=YYYYMM/<sha256>_<i>.parquet under the readings store: a folder (default MINETAX_HOME/core/
energy_readings) or an object store URL (s3://bucket/prefix, through pyarrow; minetax.storage). The bucket is a
stable hash of the farm id (farm_buckets.sql), so every per-farm rule (duplicate keys, overlaps, gaps) can be checked
inside one partition, and a new month only adds partitions: no existing file is ever rewritten. The files are
written aside (a folder of the run's own inside a local store, or a local scratch folder for an object store), then
moved or uploaded under their final names, and listed in core.energy_reading_partitions in the run's transaction:
a crash leaves at most unlisted files, never a listed half-file.

The number of buckets N is chosen when the first readings file is loaded, from its rows per month: partitions of
about TARGET_ROWS rows (N = 1 up to TARGET_ROWS readings a month, then the next power of two), at most
MAX_BUCKETS; MINETAX_READINGS_BUCKETS overrides the choice. N and the rule are recorded in core.readings_layout and
never change after, since a farm must stay in its bucket.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from minetax import db, graph
from minetax.errors import MinetaxError
from minetax.storage import Store

TARGET_ROWS = 4_000_000  # readings per partition aimed at when N is chosen (a map task reads one to a few)
MAX_BUCKETS = 256
BUCKETS_ENV = "MINETAX_READINGS_BUCKETS"


def default_store(home: Path) -> str:
    return str(home / "core" / "energy_readings")


def layout(con: duckdb.DuckDBPyConnection) -> tuple[int, str | None] | None:
    """(buckets, store URL or None for the default) as recorded, or None before the first readings file."""
    rows = con.execute("SELECT buckets, store FROM core.readings_layout").fetchall()
    return (int(rows[0][0]), rows[0][1]) if rows else None


def store_of(con: duckdb.DuckDBPyConnection, home: Path) -> Store:
    """The warehouse's readings store (the recorded location; the default folder before any readings)."""
    found = layout(con)
    return Store.open(found[1] if found and found[1] else default_store(home))


def choose_buckets(rows: int, months: int) -> tuple[int, str]:
    """N for a first file of `rows` readings over `months` months, and the rule that chose it (recorded)."""
    forced = os.environ.get(BUCKETS_ENV)
    if forced:
        try:
            n = int(forced)
        except ValueError:
            n = 0
        if not 1 <= n <= MAX_BUCKETS:
            raise MinetaxError(f"{BUCKETS_ENV}={forced!r}: the number of farm buckets must be a whole number from 1 "
                               f"to {MAX_BUCKETS}")
        return n, f"{BUCKETS_ENV}={n}"
    per_month = rows / max(months, 1)
    n = 1 if per_month <= TARGET_ROWS else min(MAX_BUCKETS, 2 ** math.ceil(math.log2(per_month / TARGET_ROWS)))
    return n, f"{per_month:,.0f} readings a month in the first file / {TARGET_ROWS:,} per partition → {n}"


def ensure_layout(con: duckdb.DuckDBPyConnection, rows: int, lo: dt.datetime, hi: dt.datetime,
                  store: str | None) -> int:
    """The recorded number of buckets; recorded now (with the store) for the first readings file. A store given
    for a warehouse whose readings live elsewhere is refused: readings are not moved between stores."""
    found = layout(con)
    if found is not None:
        if store and store != (found[1] or store):
            raise MinetaxError(f"the readings store is {store}, but this warehouse's readings are in {found[1]}: "
                               "readings are not moved between stores; use the same --readings-store (or "
                               "MINETAX_READINGS_STORE), or a new MINETAX_HOME for the new store")
        if store and found[1] is None:
            raise MinetaxError(f"the readings store is {store}, but this warehouse's readings are in its own folder "
                               "(MINETAX_HOME/core/energy_readings): readings are not moved between stores; use a "
                               "new MINETAX_HOME for the new store")
        return found[0]
    months = (hi.year - lo.year) * 12 + hi.month - lo.month + 1
    n, rule = choose_buckets(rows, months)
    Store.open(store or ".")  # a bad URL is refused before anything is written
    con.execute("INSERT INTO core.readings_layout VALUES (?, ?, ?, ?, ?)",
                [n, store, round(rows / max(months, 1)), rule, dt.datetime.now()]).fetchall()
    return n


def write(con: duckdb.DuckDBPyConnection, home: Path, segment: str, source: str, run_id: str, rows: int) -> int:
    """Write the readings of relation `source` (one validated file of `rows` readings, sha256 `segment`) into the
    store, partitioned, and list the files. Returns the number of partition files."""
    store = store_of(con, home)
    n = int(layout(con)[0])  # type: ignore[index]  # ensure_layout ran first
    graph.run_file(con, "core/farm_buckets.sql", {"buckets": n})
    con.execute(f"CREATE OR REPLACE TEMP VIEW partition_source AS SELECT * FROM {source}").fetchall()
    scratch = _scratch(store, run_id)
    listed: list[list] = []
    # the order of rows inside a partition file means nothing (the map groups and sorts what it needs): not
    # keeping the file's order makes the partitioned write 25-30% faster
    order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("SET preserve_insertion_order = false").fetchall()
    try:
        for bucket in range(n):
            if n == 1:  # every farm is in bucket 0: no join (it cost 20% of the write)
                con.execute("CREATE OR REPLACE TEMP VIEW bucket_source AS SELECT * FROM partition_source").fetchall()
            else:
                con.execute("CREATE OR REPLACE TEMP TABLE bucket_farms AS SELECT farm_id FROM farm_buckets "
                            "WHERE bucket = ?", [bucket]).fetchall()
                con.execute("CREATE OR REPLACE TEMP VIEW bucket_source AS SELECT r.* FROM partition_source r "
                            "SEMI JOIN bucket_farms b ON b.farm_id = r.farm_id").fetchall()
            folder = scratch / f"bucket={bucket}"
            stats = graph.run_file(con, "core/energy_reading_partition_files.sql",
                                   {"dir": str(folder), "pattern": f"{segment}_{{i}}"})
            for name, count, *_ in stats:
                local = Path(name)
                rel = str(local.relative_to(scratch))
                ym = int(local.parent.name.split("=", 1)[1])
                _publish(store, local, rel)
                listed.append([segment, bucket, dt.date(ym // 100, ym % 100, 1), rel, int(count)])
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if order else 'false'}").fetchall()
        shutil.rmtree(scratch, ignore_errors=True)
    written = sum(r[4] for r in listed)
    if written != rows:  # every reading names a known farm (validated), so every one has a bucket
        raise MinetaxError(f"readings file {segment[:12]}…: {written} of its {rows} readings were written to the "
                           "readings store; the run is rolled back")
    con.executemany("INSERT INTO core.energy_reading_partitions VALUES (?, ?, ?, ?, ?)", listed)
    return len(listed)


def _scratch(store: Store, run_id: str) -> Path:
    """Where the partition files are written first: inside a local store (so that moving them is a rename), else
    a local temporary folder (uploaded from there)."""
    if store.is_local:
        root = Path(store.uri(".tmp"))
        root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"{run_id}-", dir=root))
    return Path(tempfile.mkdtemp(prefix=f"minetax-{run_id}-"))


def _publish(store: Store, local: Path, rel: str) -> None:
    if store.is_local:
        final = Path(store.uri(rel))
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local, final)
    else:
        store.put_file(local, rel)


def files(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The listed partition files (relative to the store), in load order."""
    rows = con.execute(db.statement("core/partition_files_list.sql")).fetchall()
    return [r[0] for r in rows]
