"""Airtight intake (issue 13, point 2): only regular files inside their folder are taken, a file still being
written is not, identical files are applied once, and everything is read from the raw copy whose sha256 is
recorded, never from the original path a second time."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import InputError
from minetax.load import ingest, intake
from tests.conftest import make_data_dir, month_reading, write_csv

FARMS = {"A1": ["coal", "grid", True, "2022-01-01", None]}
READINGS = [["A1", "2023-01", 1000, 12]]
HEADER = ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"]
RUN = ("import sys; from minetax import pipeline; from minetax.config import Settings; from minetax.errors import "
       "MinetaxError\ntry:\n    pipeline.run(Settings.make(sys.argv[1], sys.argv[2]), 'kz-baseline')\n"
       "except MinetaxError as e:\n    print(e); sys.exit(1)")


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings.make(tmp_path / "home", make_data_dir(tmp_path / "data", FARMS, READINGS))
    pipeline.run(s, "kz-baseline")
    return s


def _run_process(settings: Settings) -> subprocess.CompletedProcess:
    """A run in its own process, so that a hang fails the test (timeout) instead of stopping the suite."""
    return subprocess.run([sys.executable, "-c", RUN, str(settings.home), str(settings.data_dir)],
                          capture_output=True, text=True, timeout=120)


def _kwh(path, farm: str = "A1") -> float:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT sum(energy_kwh) FROM farm_month WHERE farm_id = ?", [farm]).fetchall()[0][0]
    finally:
        con.close()


def test_directory_named_like_an_input_is_refused_by_name(settings):
    (settings.data_dir / "farm_hashrate.csv").mkdir()
    with pytest.raises(InputError, match=r"farm_hashrate\.csv(.|\n)*input is a regular file(.|\n)*is a directory"):
        pipeline.run(settings, "kz-baseline")


@pytest.mark.parametrize("where", ["data", "inbox"])
def test_fifo_named_like_an_input_is_refused_at_once(settings, where):
    folder = settings.data_dir if where == "data" else settings.inbox_dir
    os.mkfifo(folder / ("farm_hashrate.csv" if where == "data" else "energy_readings-live.csv"))
    t = time.perf_counter()
    r = _run_process(settings)
    assert r.returncode == 1 and "named pipe (FIFO)" in r.stdout and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert time.perf_counter() - t < 60  # refused, not read: a pipe nobody writes would wait forever


def test_symlink_out_of_the_folder_is_refused_and_inside_is_taken(settings, tmp_path):
    (settings.inbox_dir / "energy_readings-zero.csv").symlink_to("/dev/zero")
    r = _run_process(settings)
    assert r.returncode == 1 and "symbolic link points inside its folder" in r.stdout, r.stdout + r.stderr[-2000:]
    (settings.inbox_dir / "energy_readings-zero.csv").unlink()
    real = settings.inbox_dir / "march.data"
    write_csv(real, HEADER, [month_reading("A1", "2023-03", 500, 12)])
    (settings.inbox_dir / "energy_readings-march.csv").symlink_to(real)
    _, path = pipeline.run(settings, "kz-baseline")
    assert _kwh(path) == 1500


def _slow_writer(path, rows: int, pause: float) -> threading.Thread:
    """Write a readings file a line at a time, as a copy over a slow link would."""
    def write():
        with open(path, "w") as f:
            f.write(",".join(HEADER) + "\n")
            for day in range(1, rows + 1):
                f.write(f"A1,2023-03-{day:02d} 00:00:00,2023-03-{day:02d} 12:00:00,10,12\n")
                f.flush()
                time.sleep(pause)

    t = threading.Thread(target=write)
    t.start()
    return t


def test_inbox_file_still_being_written_is_left_for_the_next_run(settings, monkeypatch):
    monkeypatch.setattr(intake, "SETTLE_SECONDS", 0.5)
    target = settings.inbox_dir / "energy_readings-march.csv"
    writer = _slow_writer(target, 20, 0.15)
    time.sleep(0.3)
    _, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    status = con.execute("SELECT status FROM meta.inputs WHERE file_name = ? ORDER BY loaded_at DESC LIMIT 1",
                         [target.name]).fetchall()
    con.close()
    assert status == [("not_taken",)]
    assert _kwh(path) == 1000  # nothing of the half-written file
    writer.join()
    time.sleep(0.6)
    _, path = pipeline.run(settings, "kz-baseline")
    assert _kwh(path) == 1000 + 20 * 10  # the whole file, once it stopped changing


def test_data_folder_file_still_being_written_refuses_the_run(settings, monkeypatch):
    monkeypatch.setattr(intake, "SETTLE_SECONDS", 0.5)
    before = settings.published_path.read_bytes()
    writer = _slow_writer(settings.data_dir / "energy_readings.csv", 20, 0.15)
    time.sleep(0.3)
    try:
        with pytest.raises(InputError, match="still being written"):
            pipeline.run(settings, "kz-baseline")
    finally:
        writer.join()
    assert settings.published_path.read_bytes() == before


def test_file_replaced_during_the_run_is_loaded_from_its_recorded_copy(settings, monkeypatch):
    """The original is overwritten after it was taken: the run loads the copy it hashed, and records that hash."""
    target = settings.inbox_dir / "energy_readings-march.csv"
    write_csv(target, HEADER, [month_reading("A1", "2023-03", 500, 12)])
    taken = target.read_bytes()
    real = ingest._check_one

    def overwrite_then_check(con, s, ds, f, run_id, state):
        if f.path == target:
            write_csv(target, HEADER, [month_reading("A1", "2023-03", 99999, 1)])
        return real(con, s, ds, f, run_id, state)

    monkeypatch.setattr(ingest, "_check_one", overwrite_then_check)
    _, path = pipeline.run(settings, "kz-baseline")
    assert _kwh(path) == 1500
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    sha, stored = con.execute("SELECT sha256, stored_path FROM meta.inputs WHERE file_name = ? AND status = 'loaded'",
                              [target.name]).fetchall()[0]
    con.close()
    assert sha == hashlib.sha256(taken).hexdigest() and open(stored, "rb").read() == taken


def test_take_waits_for_a_fresh_file_to_settle(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "SETTLE_SECONDS", 0.4)
    f = tmp_path / "energy_readings.csv"
    f.write_text("farm_id\nA1\n")
    t = time.perf_counter()
    sha, stored = intake.take(f, tmp_path / "raw", "energy_readings")
    assert time.perf_counter() - t >= 0.3  # looked twice, the second time after the settle interval
    assert stored.read_bytes() == f.read_bytes() and stored.stem == sha


def _counting_hash(monkeypatch) -> list[Path]:
    seen: list[Path] = []
    real = intake._hash

    def counted(path, copy_to=None):
        seen.append(path)
        return real(path, copy_to)

    monkeypatch.setattr(intake, "_hash", counted)
    return seen


def test_unchanged_file_is_not_hashed_again_and_a_changed_one_is(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    f = tmp_path / "farms.csv"
    f.write_text("farm_id\nA1\n")
    old = time.time_ns() - 10 * 10**9  # modified long before it is hashed: the memo may be trusted
    os.utime(f, ns=(old, old))
    seen = _counting_hash(monkeypatch)
    sha, copy = intake.take(f, raw, "farms")
    assert sha == hashlib.sha256(f.read_bytes()).hexdigest() and len(seen) == 2  # hashed, then copied and hashed
    seen.clear()
    assert intake.take(f, raw, "farms") == (sha, copy) and seen == []  # same size, time, inode: the memo's hash
    f.write_text("farm_id\nB2\n")  # same size, new content, new time
    os.utime(f, ns=(old + 10**9, old + 10**9))
    sha2, _ = intake.take(f, raw, "farms")
    assert sha2 == hashlib.sha256(b"farm_id\nB2\n").hexdigest() != sha and len(seen) == 2


def test_hash_of_a_file_modified_as_it_was_hashed_is_not_trusted(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    f = tmp_path / "farms.csv"
    f.write_text("farm_id\nA1\n")
    now = time.time_ns() - 2 * 10**8  # modified 0.2 s before it is hashed: racy, hashed again next time
    os.utime(f, ns=(now, now))
    monkeypatch.setattr(intake, "SETTLE_SECONDS", 0.0)
    intake.take(f, raw, "farms")
    seen = _counting_hash(monkeypatch)
    intake.take(f, raw, "farms")
    assert seen == [f]


def test_memo_is_not_trusted_when_the_raw_copy_is_gone(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    f = tmp_path / "farms.csv"
    f.write_text("farm_id\nA1\n")
    old = time.time_ns() - 10 * 10**9
    os.utime(f, ns=(old, old))
    _, copy = intake.take(f, raw, "farms")
    copy.unlink()
    (raw / intake.MEMO).write_text("{broken")  # an unreadable memo is ignored too
    seen = _counting_hash(monkeypatch)
    _, again = intake.take(f, raw, "farms")
    assert again.exists() and len(seen) == 2
