"""Readings in core as Parquet segments (minetax.load.segments) and the one-pass key/overlap check (reading_order)."""

from __future__ import annotations

import datetime as dt
import random
import re

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from minetax import db, pipeline, warehouse
from minetax.config import Settings
from minetax.errors import InputError
from tests.conftest import make_data_dir, write_csv

FARMS = {"A1": ["coal", "grid", True, "2022-01-01", None], "A2": ["hydro", "own_generation", True, "2022-01-01", None]}
READINGS = [["A1", "2023-01", 1000, 12], ["A1", "2023-02", 1000, 12], ["A2", "2023-01", 500, 4]]
HEADER = ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"]


def _q(settings: Settings, sql: str):
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_later_file_replaces_by_key_and_the_old_rows_are_left_out(tmp_path):
    data = make_data_dir(tmp_path / "data", FARMS, READINGS)
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    write_csv(settings.inbox_dir / "energy_readings-fix.csv", HEADER,
              [["A1", "2023-02-01 00:00:00", "2023-03-01 00:00:00", 1500, 12]])
    pipeline.run(settings, "kz-baseline")
    assert _q(settings, "SELECT count(*), sum(kwh) FROM core.energy_readings") == [(3, 3000.0)]
    assert _q(settings, "SELECT kwh FROM core.energy_readings WHERE farm_id = 'A1' AND ts_start = '2023-02-01'") \
        == [(1500.0,)]
    assert _q(settings, "SELECT count(*) FROM core.energy_reading_segments") == [(2,)]
    assert _q(settings, "SELECT farm_id, ts_start::VARCHAR FROM core.energy_readings_replaced") == \
        [("A1", "2023-02-01 00:00:00")]


def test_each_file_is_written_partitioned_by_farm_bucket_and_month(tmp_path):
    """A CSV file and then a typed Parquet file: each is written once into the readings store as bucket × month
    partitions named after the file's sha256, listed in core.energy_reading_partitions; the segment keeps the raw
    copy it came from. The second file adds a partition and changes no file of the first."""
    data = make_data_dir(tmp_path / "data", FARMS, READINGS)
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    store = settings.home / "core" / "energy_readings"
    (sha, path), = _q(settings, "SELECT sha256, path FROM core.energy_reading_segments")
    assert path.startswith("raw/energy_readings/") and (settings.home / path).is_file()
    assert _q(settings, "SELECT buckets FROM core.readings_layout") == [(1,)]
    first = _q(settings, "SELECT bucket, month::VARCHAR, path, rows FROM core.energy_reading_partitions ORDER BY 2")
    assert first == [(0, "2023-01-01", f"bucket=0/ym=202301/{sha}_0.parquet", 2),
                     (0, "2023-02-01", f"bucket=0/ym=202302/{sha}_0.parquet", 1)]
    before = {p: (store / p).stat().st_mtime_ns for _, _, p, _ in first}
    table = pa.table({"farm_id": ["A2"], "ts_start": pa.array([dt.datetime(2023, 3, 1)], pa.timestamp("us")),
                      "ts_end": pa.array([dt.datetime(2023, 4, 1)], pa.timestamp("us")),
                      "kwh": [250.0], "price_kzt_per_kwh": [4.0]})
    pq.write_table(table, settings.inbox_dir / "energy_readings-2023-03.parquet")
    pipeline.run(settings, "kz-baseline")
    assert len(_q(settings, "SELECT * FROM core.energy_reading_partitions")) == 3
    assert {p: (store / p).stat().st_mtime_ns for p in before} == before  # no old partition rewritten
    assert _q(settings, "SELECT count(*), sum(kwh) FROM core.energy_readings") == [(4, 2750.0)]
    path = next(store.glob("bucket=0/ym=202303/*.parquet"))
    files = pq.read_table(path)
    assert files.column_names == ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"]  # segment: the name
    (seg,), = _q(settings, "SELECT DISTINCT segment FROM core.energy_readings WHERE ts_start >= '2023-03-01'")
    assert path.name == f"{seg}_0.parquet" and len(seg) == 64


def test_farm_buckets_are_a_stable_hash_and_chosen_once(tmp_path, monkeypatch):
    """MINETAX_READINGS_BUCKETS=4: each farm's readings lie in bucket md5(farm_id) mod 4 (the same in Python), and
    the choice is recorded: a later setting does not change it."""
    import hashlib

    monkeypatch.setenv("MINETAX_READINGS_BUCKETS", "4")
    farms = {f"F{i}": ["coal", "grid", True, "2022-01-01", None] for i in range(12)}
    data = make_data_dir(tmp_path / "data", farms, [[f, "2023-01", 100, 12] for f in farms])
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    rows = _q(settings, "SELECT farm_id, regexp_extract(filename, 'bucket=(\\d+)', 1)::INTEGER FROM read_parquet("
                        f"'{settings.home}/core/energy_readings/bucket=*/ym=*/*.parquet', filename = true)")
    expect = {f: int.from_bytes(hashlib.md5(f.encode()).digest()[8:], "little") % 4 for f in farms}
    assert dict(rows) == expect and len(set(expect.values())) > 1
    monkeypatch.setenv("MINETAX_READINGS_BUCKETS", "8")
    write_csv(settings.inbox_dir / "energy_readings-2.csv", HEADER,
              [["F1", "2023-02-01 00:00:00", "2023-03-01 00:00:00", 5, 12]])
    pipeline.run(settings, "kz-baseline")
    assert _q(settings, "SELECT buckets, rule FROM core.readings_layout") == [(4, "MINETAX_READINGS_BUCKETS=4")]


def test_typed_parquet_with_padded_farm_ids_is_written_trimmed(tmp_path):
    """Farm ids with spaces around them (found by the key/overlap pass): the partitions hold the trimmed ids, and the
    segment's kWh (counted in the suite's scan) is listed."""
    data = make_data_dir(tmp_path / "data", FARMS, READINGS)
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    table = pa.table({"farm_id": [" A2", "A2 "],
                      "ts_start": pa.array([dt.datetime(2023, 2, 1), dt.datetime(2023, 2, 2)], pa.timestamp("us")),
                      "ts_end": pa.array([dt.datetime(2023, 2, 2), dt.datetime(2023, 2, 3)], pa.timestamp("us")),
                      "kwh": [250.0, 125.0], "price_kzt_per_kwh": [4.0, 4.0]})
    pq.write_table(table, settings.inbox_dir / "energy_readings-2023-02.parquet")
    pipeline.run(settings, "kz-baseline")
    (kwh,), = _q(settings, "SELECT kwh FROM core.energy_reading_segments ORDER BY seq DESC LIMIT 1")
    assert kwh == 375.0
    assert _q(settings, "SELECT farm_id, count(*) FROM core.energy_readings WHERE farm_id = 'A2' "
                        "AND ts_start >= '2023-02-01' GROUP BY ALL") == [("A2", 2)]


def _hourly(farm: str, day: int, hours: int) -> list[list]:
    return [[farm, f"2023-01-{day:02d} {h:02d}:00:00", f"2023-01-{day:02d} {h:02d}:59:59" if h == 23 else
             f"2023-01-{day:02d} {h + 1:02d}:00:00", 10, 12] for h in range(hours)]


@pytest.mark.parametrize("shuffled", [False, True], ids=["in order", "shuffled"])
def test_overlap_found_in_either_order(tmp_path, shuffled):
    """The one pass flags the overlap (in order) or does not apply (shuffled); either way the rows are named."""
    data = make_data_dir(tmp_path / "data", FARMS, [])
    rows = _hourly("A1", 3, 24) + _hourly("A2", 3, 24)
    rows[30] = ["A2", "2023-01-03 05:30:00", "2023-01-03 06:30:00", 10, 12]  # instead of 06:00: clashes with 05:00
    if shuffled:
        random.Random(3).shuffle(rows)
    write_csv(data / "energy_readings.csv", HEADER, rows)
    settings = Settings.make(tmp_path / "home", data)
    with pytest.raises(InputError) as e:
        pipeline.run(settings, "kz-baseline")
    msg = str(e.value)
    assert "column ts_start,ts_end: rule readings of a farm do not overlap" in msg and "(2 rows)" in msg, msg
    assert sorted(re.findall(r"ts_start=2023-01-03 (\d\d:\d\d):00", msg)) == ["05:00", "05:30"], msg


def test_warehouse_with_readings_table_is_migrated(tmp_path):
    path = tmp_path / "home" / "warehouse.duckdb"
    con = warehouse.connect(path)
    con.execute("DROP VIEW core.energy_readings")
    con.execute("CREATE TABLE core.energy_readings (farm_id VARCHAR, ts_start TIMESTAMP, ts_end TIMESTAMP, "
                "kwh DOUBLE, price_kzt_per_kwh DOUBLE, PRIMARY KEY (farm_id, ts_start))")
    con.execute("INSERT INTO core.energy_readings VALUES ('A1', '2023-01-01', '2023-02-01', 7, 12), "
                "('A2', '2023-01-01', '2023-02-01', 5, 4)")
    con.close()
    con = warehouse.connect(path)
    try:
        assert con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'core' AND "
                           "table_name = 'energy_readings'").fetchall() == [("VIEW",)]
        assert con.execute("SELECT count(*), sum(kwh) FROM core.energy_readings").fetchall() == [(2, 12.0)]
        assert con.execute("SELECT rows FROM core.energy_reading_segments").fetchall() == [(2,)]
    finally:
        con.close()


def test_ordered_file_passes_in_one_pass_and_an_unordered_one_in_the_general_check(tmp_path, monkeypatch):
    from minetax.load import reading_order

    seen = []
    real = reading_order.check
    monkeypatch.setattr(reading_order, "check", lambda con, has_core, **kw: seen.append(real(con, has_core, **kw))
                        or seen[-1])
    rows = _hourly("A1", 3, 24) + _hourly("A2", 3, 24)
    for shuffled in (False, True):
        data = make_data_dir(tmp_path / f"data{shuffled}", FARMS, [])
        if shuffled:
            random.Random(5).shuffle(rows)
        write_csv(data / "energy_readings.csv", HEADER, rows)
        pipeline.run(Settings.make(tmp_path / f"home{shuffled}", data), "kz-baseline")
    assert [o.ordered for o in seen] == [True, False]
    assert seen[0].months == {dt.date(2023, 1, 1)} and not seen[0].near_core



@pytest.mark.parametrize("shuffled", [False, True], ids=["in order", "shuffled"])
def test_overlap_with_loaded_readings_is_refused(tmp_path, shuffled):
    """A new file's reading that overlaps one already in core (another key) is refused, in either path."""
    data = make_data_dir(tmp_path / "data", FARMS, READINGS)  # A1 holds whole-month readings for 2023-01 and -02
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    rows = _hourly("A2", 3, 24)  # A2 has a reading for all of 2023-01 already: every hour overlaps it
    rows = [["A1", "2023-03-01 00:00:00", "2023-03-01 01:00:00", 10, 12], *rows[:2]]
    if shuffled:
        rows = [rows[2], rows[0], rows[1]]  # not in (farm, time) order: the general check
    write_csv(settings.inbox_dir / "energy_readings-late.csv", HEADER, rows)
    with pytest.raises(InputError) as e:
        pipeline.run(settings, "kz-baseline")
    msg = str(e.value)
    assert "rule readings of a farm do not overlap" in msg and "(2 rows)" in msg, msg
    assert sorted(re.findall(r"farm_id=(A\d), ts_start=2023-0(\d)-0\d (\d\d):", msg)) == \
        [("A2", "1", "00"), ("A2", "1", "01")], msg
    assert _q(settings, "SELECT count(*) FROM core.energy_reading_segments") == [(1,)]


@pytest.mark.parametrize("shuffled", [False, True], ids=["in order", "shuffled"])
def test_a_long_reading_covering_several_flags_them_all(tmp_path, shuffled):
    data = make_data_dir(tmp_path / "data", FARMS, [])
    rows = [["A1", "2023-01-03 00:00:00", "2023-01-03 10:00:00", 10, 12],  # covers the next two, not only one
            ["A1", "2023-01-03 01:00:00", "2023-01-03 02:00:00", 1, 12],
            ["A1", "2023-01-03 03:00:00", "2023-01-03 04:00:00", 1, 12],
            ["A1", "2023-01-03 10:00:00", "2023-01-03 11:00:00", 1, 12]]
    if shuffled:
        rows = [rows[2], rows[0], rows[3], rows[1]]
    write_csv(data / "energy_readings.csv", HEADER, rows)
    with pytest.raises(InputError) as e:
        pipeline.run(Settings.make(tmp_path / "home", data), "kz-baseline")
    msg = str(e.value)
    assert "rule readings of a farm do not overlap" in msg and "(3 rows)" in msg, msg
    assert sorted(re.findall(r"ts_start=2023-01-03 (\d\d):00", msg)) == ["00", "01", "03"], msg


def test_parquet_page_that_cannot_be_decoded_is_quarantined(tmp_path):
    """The footer is intact, so the file opens; a data page is garbage, found only while the file is scanned."""
    data = make_data_dir(tmp_path / "data", FARMS, READINGS)
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    n, t0 = 20000, dt.datetime(2023, 3, 1)
    table = pa.table({"farm_id": ["A1"] * n,
                      "ts_start": pa.array([t0 + dt.timedelta(minutes=15 * i) for i in range(n)], pa.timestamp("us")),
                      "ts_end": pa.array([t0 + dt.timedelta(minutes=15 * i + 15) for i in range(n)],
                                         pa.timestamp("us")),
                      "kwh": [1.0] * n, "price_kzt_per_kwh": [12.0] * n})
    path = settings.inbox_dir / "energy_readings-broken.parquet"
    pq.write_table(table, path, compression="zstd", row_group_size=5000)
    column = pq.ParquetFile(path).metadata.row_group(2).column(1)
    raw = bytearray(path.read_bytes())
    for i in range(column.data_page_offset + 40, column.data_page_offset + 100):
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    before = _q(settings, "SELECT count(*), sum(kwh) FROM core.energy_readings")
    with pytest.raises(InputError) as e:
        pipeline.run(settings, "kz-baseline")
    msg = str(e.value)
    assert "energy_readings-broken.parquet" in msg and "readable CSV or Parquet file" in msg, msg
    assert _q(settings, "SELECT dataset, file_name FROM meta.quarantine") == \
        [("energy_readings", "energy_readings-broken.parquet")]
    assert _q(settings, "SELECT count(*), sum(kwh) FROM core.energy_readings") == before


def _t(day: int, h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2023, 1, 1) + dt.timedelta(days=day - 1, hours=h, minutes=m)


def _rows(farm: str, day: int, n: int, step: int = 60) -> list[tuple]:
    return [(farm, _t(day, 0, i * step), _t(day, 0, (i + 1) * step)) for i in range(n)]


PASS_CASES = {
    "in order": _rows("A1", 1, 30) + _rows("A2", 1, 30),
    "overlap at a batch edge": _rows("A1", 1, 4) + [("A1", _t(1, 3, 30), _t(1, 4, 30))] + _rows("A2", 1, 5),
    "overlap within a batch": _rows("A1", 1, 2) + [("A1", _t(1, 1, 30), _t(1, 2, 30)), ("A1", _t(1, 3), _t(1, 4))],
    "months with a gap": [("A1", dt.datetime(2023, 1, 5), dt.datetime(2023, 1, 6)),
                          ("A1", dt.datetime(2023, 3, 31, 23), dt.datetime(2023, 4, 1)),
                          ("A1", dt.datetime(2023, 4, 1), dt.datetime(2023, 4, 2))] + _rows("A2", 40, 3),
    "ids written with spaces": _rows("A1", 1, 3) + [(" A1 ", _t(1, 3), _t(1, 4))] + _rows("A2\u00a0", 1, 3),
    "farm seen twice": _rows("A1", 1, 3) + _rows("A2", 1, 3) + _rows("A1", 2, 3),
    "repeated key": _rows("A1", 1, 3) + [("A1", _t(1, 2), _t(1, 3))],
    "reading inside the previous": [("A1", _t(1, 0), _t(1, 10)), ("A1", _t(1, 1), _t(1, 2))],
    "missing farm": _rows("A1", 1, 3) + [(None, _t(1, 5), _t(1, 6))],
}


@pytest.mark.parametrize("case", PASS_CASES)
def test_one_pass_reads_typed_parquet_as_the_typed_view_does(tmp_path, monkeypatch, case):
    """The Arrow read of a typed Parquet file (farm ids as dictionary codes, batches cut at row groups) finds the
    same flags, spans and months as the DuckDB stream of the typed view (batches of 4 rows), and an ordered file's
    flags are those of the general SQL check."""
    from minetax.load import reading_order

    rows = PASS_CASES[case]
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"farm_id": [r[0] for r in rows], "ts_start": pa.array([r[1] for r in rows],
                                                                                      pa.timestamp("us")),
                             "ts_end": pa.array([r[2] for r in rows], pa.timestamp("us")),
                             "kwh": [1.0] * len(rows), "price_kzt_per_kwh": [12.0] * len(rows)}),
                   path, row_group_size=3)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core").fetchall()
    db.run_file(con, "core/energy_readings_empty.sql")
    con.execute(f"CREATE TEMP VIEW src_energy_readings AS SELECT * EXCLUDE (file_row_number), file_row_number + 1 "
                f"AS _row FROM read_parquet({db.literal(str(path))}, file_row_number = true)").fetchall()
    db.run_file(con, "staging/typed_energy_readings.sql")
    monkeypatch.setattr(reading_order, "BATCH", 4)
    assert reading_order._parquet_typed(path)
    by_duckdb = reading_order._one_pass(con)
    # row groups of 3 read 1 (each larger than the chunk: streamed), 2 or all at a time
    by_chunk = {}
    for chunk in (2, 7, 1 << 21):
        monkeypatch.setattr(reading_order, "CHUNK_ROWS", chunk)
        by_chunk[chunk] = reading_order._one_pass(con, path)
    by_arrow = by_chunk[2]
    assert by_chunk[7] == by_arrow and by_chunk[1 << 21] == by_arrow
    if case in ("farm seen twice", "repeated key", "reading inside the previous", "missing farm"):
        assert by_arrow is None and by_duckdb is None
        return
    assert by_arrow[:3] == by_duckdb[:3]
    assert by_arrow[3] is (case == "ids written with spaces") and by_duckdb[3] is None
    flagged, spans, months, _ = by_arrow
    expected = con.execute("SELECT DISTINCT CAST(date_trunc('month', ts_start) AS DATE) FROM typed_energy_readings"
                           ).fetchall()
    assert months == {m for (m,) in expected}
    assert spans == {f: [lo, hi] for f, lo, hi in con.execute(
        "SELECT farm_id, min(ts_start), max(ts_end) FROM typed_energy_readings GROUP BY farm_id").fetchall()}
    con.execute("CREATE TEMP TABLE readings_flags_raw (_row BIGINT, duplicate BOOLEAN, overlapping BOOLEAN)"
                ).fetchall()
    db.run_file(con, "staging/flags_energy_readings.sql")
    db.run_file(con, "staging/overlaps_energy_readings.sql")
    general = con.execute("SELECT DISTINCT _row FROM readings_flags_raw WHERE overlapping ORDER BY _row").fetchall()
    assert sorted(set(flagged)) == [r for (r,) in general]
    assert bool(flagged) == ("overlap" in case)


def test_reading_rules_at_their_edges():
    """The staging view's per-farm rules at the boundary: the operating period by calendar day (inclusive at both
    ends), 1.5 × capacity exactly, the current day, and finiteness (NaN and ±inf are not finite; the largest
    double is)."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core").fetchall()
    con.execute("CREATE TABLE core.farms (farm_id VARCHAR, capacity_mw DOUBLE, commissioned_on DATE, "
                "decommissioned_on DATE)").fetchall()
    con.execute("CREATE TEMP TABLE stage_farms AS SELECT 'A1' AS farm_id, 4.0 AS capacity_mw, "
                "DATE '2023-01-02' AS commissioned_on, DATE '2023-01-05' AS decommissioned_on UNION ALL "
                "SELECT 'B1', 4.0, DATE '2023-01-02', NULL").fetchall()
    today = dt.datetime.combine(dt.date.today(), dt.time())
    rows = [("A1", dt.datetime(2023, 1, 1, 23, 45), 1.0), ("A1", dt.datetime(2023, 1, 2), 1.0),
            ("A1", dt.datetime(2023, 1, 5, 23, 45), 1.0), ("A1", dt.datetime(2023, 1, 6), 1.0),
            ("B1", dt.datetime(2023, 1, 3), 1500.0), ("B1", dt.datetime(2023, 1, 3, 0, 15), 1500.0001),
            ("B1", today + dt.timedelta(hours=23, minutes=45), 1.0), ("B1", today + dt.timedelta(days=1), 1.0),
            ("B1", dt.datetime(2023, 2, 1), float("nan")), ("B1", dt.datetime(2023, 2, 2), float("inf")),
            ("B1", dt.datetime(2023, 2, 3), float("-inf")), ("B1", dt.datetime(2023, 2, 4), 1.7976931348623157e308)]
    con.execute("CREATE TEMP TABLE src_energy_readings (_row BIGINT, farm_id VARCHAR, ts_start TIMESTAMP, "
                "ts_end TIMESTAMP, kwh DOUBLE, price_kzt_per_kwh DOUBLE)").fetchall()
    con.executemany("INSERT INTO src_energy_readings VALUES (?, ?, ?, ?, ?, 12)",
                    [[i + 1, f, t, t + dt.timedelta(minutes=15), k] for i, (f, t, k) in enumerate(rows)])
    db.run_file(con, "staging/typed_energy_readings.sql")
    db.run_file(con, "staging/farm_id_macros.sql")
    db.run_file(con, "staging/stage_energy_readings.sql")
    got = con.execute("SELECT within_operation_ok, kwh_within_capacity_ok, not_future_ok, kwh_finite_ok "
                      "FROM stage_energy_readings ORDER BY _row").fetchall()
    # 4 MW × 1.5 × 0.25 h = 1.5 MWh = 1500 kWh in 15 minutes
    assert [g[0] for g in got[:4]] == [False, True, True, False]
    assert [g[1] for g in got[4:6]] == [True, False]
    assert [g[2] for g in got[6:8]] == [True, False]
    assert [g[3] for g in got[8:]] == [False, False, False, True]
