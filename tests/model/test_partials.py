"""Map, then reduce (minetax.model.partials): tasks over the readings partitions, partials keyed by content."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from minetax import db, pipeline, warehouse
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.model import partials
from tests.conftest import make_data_dir, write_csv

FARMS = {f"F{i}": ["coal", "grid", True, "2022-01-01", None] for i in range(6)}
HEADER = ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"]


def _days(farm: str, month: str, days: int, kwh: float = 24.0) -> list[list]:
    """One reading a day for `days` days of `month` (YYYY-MM)."""
    d0 = dt.date.fromisoformat(month + "-01")
    return [[farm, f"{d0 + dt.timedelta(days=i)} 00:00:00", f"{d0 + dt.timedelta(days=i + 1)} 00:00:00", kwh, 10]
            for i in range(days)]


def _readings(months: list[str]) -> list[list]:
    return [r for f in FARMS for m in months for r in _days(f, m, 5)]


def _plan(settings: Settings, lo: str = "2000-01-01", hi: str = "2100-01-01"):
    con = warehouse.connect(settings.warehouse_path)
    try:
        return partials.plan(con, settings.home, dt.date.fromisoformat(lo), dt.date.fromisoformat(hi))
    finally:
        con.close()


@pytest.fixture
def loaded(tmp_path, monkeypatch):
    """Six farms in 4 buckets, three months of daily readings, run once."""
    monkeypatch.setenv("MINETAX_READINGS_BUCKETS", "4")
    data = make_data_dir(tmp_path / "data", FARMS, [])
    write_csv(data / "energy_readings.csv", HEADER, _readings(["2023-01", "2023-02", "2023-03"]))
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    return settings


def test_tasks_cover_every_partition_once_and_their_partials_add_up(loaded):
    tasks, todo = _plan(loaded)
    assert todo == []  # the run wrote every partial: nothing is left to compute
    con = warehouse.connect(loaded.warehouse_path)
    try:
        n_partitions = con.execute("SELECT count(*) FROM core.energy_reading_partitions").fetchall()[0][0]
        assert sorted(p for t in tasks for p in t.partitions) == sorted(
            f"bucket={b}/ym={m:%Y%m}" for b, m in con.execute(
                "SELECT bucket, month FROM core.energy_reading_partitions").fetchall())
        assert n_partitions > 3  # several buckets a month
        partials.reduce(con, loaded.home, tasks, [])
        got = con.execute("SELECT count(*), sum(kwh), sum(cost_kzt), sum(readings) FROM map_partials").fetchall()
    finally:
        con.close()
    assert got == [(6 * 15, 6 * 15 * 24.0, 6 * 15 * 240.0, 6 * 15)]


def test_a_task_run_again_writes_the_same_partial(loaded):
    """Dask re-runs the tasks of a lost worker: the partial is written again under the same key with the same rows
    (the file's bytes may differ: DuckDB's parallel grouping does not fix the order of the rows)."""
    tasks, _ = _plan(loaded)
    task = tasks[0]
    path = loaded.home / "core" / "energy_readings" / task.partial
    before = duckdb.sql(f"SELECT * FROM read_parquet({db.literal(path)}) ORDER BY ALL").fetchall()
    result = partials.run_task(task)
    assert result.error is None and result.findings == [] and result.rows == task.rows
    assert duckdb.sql(f"SELECT * FROM read_parquet({db.literal(path)}) ORDER BY ALL").fetchall() == before
    assert _plan(loaded)[0] == tasks  # same keys


def test_a_new_month_plans_only_its_own_tasks(loaded):
    write_csv(loaded.inbox_dir / "energy_readings-2023-04.csv", HEADER, _readings(["2023-04"]))
    ctx = pipeline.begin(loaded, "kz-baseline")
    try:
        pipeline.ingest(ctx)
        pipeline.estimate(ctx)
        stage = ctx.stages[-1]
        pipeline.commit(ctx)
    finally:
        ctx.close()
    assert stage.map and stage.map["run"] >= 1
    assert stage.map["rows"] == 6 * 5  # the new month's readings only, not the three months before
    _, todo = _plan(loaded)
    assert todo == []


def test_readings_of_two_files_that_overlap_in_the_store_fail_the_map_with_partition_and_file(tmp_path):
    """The cross-file rule of the map, on partition files written by hand (the load refuses such files, so the
    store can only hold them if it was changed behind minetax's back): the task names the rule and the readings,
    the reduce refuses with the partition and the files."""
    store = tmp_path / "store"
    part = store / "bucket=0" / "ym=202301"
    part.mkdir(parents=True)
    con = duckdb.connect()
    a, b = "a" * 64, "b" * 64  # files are named <segment sha256>_<i>.parquet; the first as written before
    # 2026-11-27, with its segment in a column too (read from the name all the same), the second as now
    for seg, start, column in ((a, "2023-01-01 00:00", f", '{a}' AS segment"), (b, "2023-01-01 12:00", "")):
        con.execute(f"COPY (SELECT 'F1' AS farm_id, TIMESTAMP '{start}' AS ts_start, TIMESTAMP '{start}' + INTERVAL 1 "
                    f"DAY AS ts_end, 24.0 AS kwh, 10.0 AS price_kzt_per_kwh{column}) TO "
                    f"{db.literal(part / (seg + '_0.parquet'))} (FORMAT parquet)").fetchall()
    files = (f"bucket=0/ym=202301/{a}_0.parquet", f"bucket=0/ym=202301/{b}_0.parquet")
    task = partials.MapTask("k1", str(store), files, ("bucket=0/ym=202301",), 2, 2)
    result = partials.run_task(task)
    assert [f["rule"] for f in result.findings] == ["reading overlaps the previous reading of the farm"]
    assert "farm_id=F1, ts_start=2023-01-01 12:00:00" in result.findings[0]["examples"][0]
    with pytest.raises(partials.PartitionError) as e:
        partials.reduce(con, tmp_path, [task], [result])
    msg = str(e.value)
    assert "partition bucket=0/ym=202301" in msg and "bbbb_0.parquet" in msg and "overlaps" in msg, msg


def test_a_broken_partition_file_fails_the_run_names_it_and_publishes_nothing(loaded):
    """A partition file damaged in the store: the map task that reads it fails, the run fails naming the partition
    and the file, and the published snapshot is left as it was."""
    import shutil

    store = loaded.home / "core" / "energy_readings"
    victim = sorted(store.glob("bucket=*/ym=202302/*.parquet"))[0]
    victim.write_bytes(b"PAR1 not a parquet file")
    shutil.rmtree(store / "_partials")  # so the map reads the partitions again
    published = loaded.published_path.read_bytes()
    with pytest.raises(MinetaxError) as e:  # a time-of-use scenario: another model (hours), so the map runs (a
        # reform of the tax only, kz-fee-10, would copy kz-baseline's model rows and read no partition)
        pipeline.run(loaded, "et-eep-tou")
    msg = str(e.value)
    rel = str(victim.relative_to(store))
    assert "map over the readings partitions failed" in msg and rel in msg and rel.split("/")[1] in msg, msg
    assert loaded.published_path.read_bytes() == published


def test_partials_a_later_file_made_stale_are_deleted_and_the_rest_kept(loaded):
    """A file that replaces readings of February gives February's tasks new keys: their old partials are deleted
    after the map, January's and March's stay as they were (same files, same modification times)."""
    store = loaded.home / "core" / "energy_readings" / "_partials"
    before = {p.name: p.stat().st_mtime_ns for p in store.glob("*.parquet")}
    tasks, _ = _plan(loaded)
    february = {f"{t.key}.parquet" for t in tasks if t.partitions[0].endswith("ym=202302")}
    assert february and february < set(before)
    write_csv(loaded.inbox_dir / "energy_readings-fix.csv", HEADER, [_days("F1", "2023-02", 1, kwh=30.0)[0]])
    pipeline.run(loaded, "kz-baseline")
    after = {p.name: p.stat().st_mtime_ns for p in store.glob("*.parquet")}
    kept = {n: m for n, m in before.items() if n not in february}
    assert not february & set(after)  # the stale ones are gone
    assert {n: after[n] for n in kept} == kept  # the others untouched
    tasks, todo = _plan(loaded)
    assert todo == [] and {f"{t.key}.parquet" for t in tasks} == set(after)


def test_a_month_is_at_most_month_tasks_tasks(loaded, monkeypatch):
    """4 buckets, at most 2 tasks a month: every task takes at least 2 partitions of one month, even though one
    partition is far below TASK_ROWS; at most one task a month with MONTH_TASKS = 1."""
    monkeypatch.setattr(partials, "TASK_ROWS", 1)  # by readings alone, every partition would be a task
    tasks, _ = _plan(loaded)
    con = warehouse.connect(loaded.warehouse_path)
    try:
        n = con.execute("SELECT count(*) FROM core.energy_reading_partitions").fetchall()[0][0]
    finally:
        con.close()
    assert len(tasks) == n > 6  # one task a partition (4 buckets × 3 months, less buckets without farms)
    monkeypatch.setattr(partials, "MONTH_TASKS", 2)
    tasks, _ = _plan(loaded)
    months = [t.partitions[0].split("ym=")[1] for t in tasks]
    assert all(len(t.partitions) >= 2 for t in tasks)
    assert all(months.count(m) <= 2 for m in months) and len(set(months)) == 3
    assert all({p.split("ym=")[1] for p in t.partitions} == {m} for t, m in zip(tasks, months, strict=True))
    monkeypatch.setattr(partials, "MONTH_TASKS", 1)
    assert len(_plan(loaded)[0]) == 3
