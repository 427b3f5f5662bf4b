"""Duplicate keys and overlapping intervals of a staged readings file, in one pass when the file is in order.

Meters export a farm's readings one after another in time. For such a file (each farm's rows together, ts_start
strictly increasing and ts_end not decreasing within them) a reading that overlaps any other also overlaps a
neighbour, and no key can repeat, so one streamed pass in file order settles both rules without sorting 100M
rows: overlapping neighbours are flagged (both rows, as the general check does). The same pass yields each
farm's time span and the months the file covers. Any other file (rows out of order, a farm in two places, a
reading inside its predecessor, a missing key value) takes the general check, sql/flags_energy_readings.sql with
sql/overlaps_energy_readings.sql (a window over the file sorted by farm and time). Overlaps with readings
already in core are checked in SQL in both cases, near the file's span only (sql/flags_core_energy_readings.sql).

Results go to temp table readings_flags (_row, duplicate, overlapping; flagged rows only), which the staging
view joins, and reading_spans (farm_id, lo, hi).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from minetax import db

BATCH = 1 << 20
DAY_US = 86_400_000_000  # microseconds in a day: ts_start is TIMESTAMP (µs since 1970)
EPOCH = dt.date(1970, 1, 1)


@dataclass
class Order:
    ordered: bool  # True: the one-pass check applied; False: the general check did
    months: set[dt.date] = field(default_factory=set)  # months of ts_start in the file (ordered path only)
    near_core: bool = False  # core holds readings of these farms near the file's span


def _one_pass(con: duckdb.DuckDBPyConnection) -> tuple[list[int], dict, set] | None:
    """Flagged _row values, spans and months; None as soon as the file proves not to be in order."""
    reader = con.sql("SELECT _row, farm_id, ts_start, ts_end FROM typed_energy_readings").to_arrow_reader(BATCH)
    flagged: list = []
    spans: dict[str, list] = {}  # farm -> [first ts_start, last ts_end] (its rows are together, in time order)
    days: set[int] = set()  # days since 1970 of ts_start
    done: set[str] = set()  # farms whose rows have ended
    last = None  # (_row, farm, ts_start, ts_end) of the previous row
    for batch in reader:
        if batch.num_rows == 0:
            continue
        rows, farm, start, end = (batch.column(i) for i in range(4))
        if farm.null_count or start.null_count or end.null_count:
            return None
        first = (rows[0].as_py(), farm[0].as_py(), start[0].as_py(), end[0].as_py())
        if last is not None and last[1] == first[1]:  # the previous batch's farm goes on
            if first[2] <= last[2] or first[3] < last[3]:
                return None
            if first[2] < last[3]:
                flagged += [last[0], first[0]]
        else:
            if last is not None:
                done.add(last[1])
                spans[last[1]][1] = last[3]
            if first[1] in done:
                return None
            spans[first[1]] = [first[2], None]
        same = pc.equal(farm[1:], farm[:-1])
        if pc.any(pc.and_(same, pc.less_equal(start[1:], start[:-1]))).as_py():
            return None  # time not increasing within a farm: a repeated key, or rows out of order
        if pc.any(pc.and_(same, pc.less(end[1:], end[:-1]))).as_py():
            return None  # a reading inside the previous one: the next may be inside it too, not only its neighbour
        for i in pc.indices_nonzero(pc.invert(same)).to_pylist():  # farm[i]'s rows end, farm[i + 1]'s begin
            f, g = farm[i].as_py(), farm[i + 1].as_py()
            done.add(f)
            spans[f][1] = end[i].as_py()
            if g in done:
                return None  # the farm appeared before, elsewhere in the file
            spans[g] = [start[i + 1].as_py(), None]
        pair = pc.indices_nonzero(pc.and_(same, pc.less(start[1:], end[:-1])))
        if len(pair):
            flagged += pc.take(rows, pair).to_pylist() + pc.take(rows, pc.add(pair, 1)).to_pylist()
        days.update(pc.unique(pc.divide(start.cast(pa.int64()), DAY_US)).to_pylist())
        n = batch.num_rows - 1
        last = (rows[n].as_py(), farm[n].as_py(), start[n].as_py(), end[n].as_py())
    if last is not None:
        spans[last[1]][1] = last[3]
    months = {(EPOCH + dt.timedelta(days=d)).replace(day=1) for d in days}
    return flagged, spans, months


def _after_everything(con: duckdb.DuckDBPyConnection) -> bool:
    """The file starts at or after the end of every loaded reading (a new month appended): nothing in core can
    overlap it or be replaced by it, and the segments' listed ranges show it without reading them."""
    return con.execute("SELECT (SELECT min(lo) FROM reading_spans) >= (SELECT max(ts_max) FROM "
                       "core.energy_reading_segments)").fetchall()[0][0] is True


def check(con: duckdb.DuckDBPyConnection, has_core: bool) -> Order:
    """Fill readings_flags and reading_spans for the staged file; `has_core`: core holds any readings."""
    con.execute("CREATE OR REPLACE TEMP TABLE readings_flags_raw (_row BIGINT, duplicate BOOLEAN, "
                "overlapping BOOLEAN)").fetchall()
    con.execute("CREATE OR REPLACE TEMP TABLE reading_spans (farm_id VARCHAR, lo TIMESTAMP, hi TIMESTAMP)").fetchall()
    con.execute("DELETE FROM readings_flags").fetchall()  # made by sql/stage_energy_readings.sql
    found = _one_pass(con)
    order = Order(ordered=found is not None)
    if found is None:
        db.run_file(con, "flags_energy_readings.sql")
        db.run_file(con, "overlaps_energy_readings.sql")
        db.run_file(con, "spans_energy_readings.sql")
    else:
        rows, spans, order.months = found
        if rows:
            db.insert_frame(con, "readings_flags_raw", pa.table({
                "_row": pa.array(rows, pa.int64()), "duplicate": pa.array([False] * len(rows)),
                "overlapping": pa.array([True] * len(rows))}))
        if spans:
            db.insert_frame(con, "reading_spans", pa.table({
                "farm_id": list(spans), "lo": [s[0] for s in spans.values()], "hi": [s[1] for s in spans.values()]}))
    if has_core and not _after_everything(con):
        order.near_core = con.execute(
            "SELECT count(*) FROM (SELECT 1 FROM core.energy_readings c JOIN reading_spans s USING (farm_id) "
            "WHERE c.ts_start > s.lo - INTERVAL 32 DAY AND c.ts_start < s.hi AND c.ts_end > s.lo LIMIT 1)"
        ).fetchall()[0][0] > 0
        if order.near_core and order.ordered:
            db.run_file(con, "flags_core_energy_readings.sql")
            db.run_file(con, "overlaps_energy_readings.sql")
    con.execute("INSERT INTO readings_flags SELECT _row, bool_or(duplicate), bool_or(overlapping) "
                "FROM readings_flags_raw GROUP BY _row").fetchall()
    return order
