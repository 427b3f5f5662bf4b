"""Publishing under concurrent readers: no reader errors or sees half a run; a held session never blocks a run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from minetax import pipeline
from minetax.config import Settings
from tests.conftest import TESTS

READER = TESTS / "publish" / "reader_loop.py"


def _one(path, sql: str):
    """The single value a query on the snapshot returns (a fresh read-only session)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def _latest(path) -> str:
    return _one(path, "SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1")


def _count_now(path) -> int:
    return _one(path, "SELECT count(*) FROM estimates")


def test_readers_see_old_or_new_snapshot_never_half(tmp_path):
    settings = Settings.make(tmp_path / "home")
    ctx_old, path = pipeline.run(settings, "kz-baseline")
    old_rows = _count_now(path)
    stop = tmp_path / "stop"
    modes = ["loop"] * 7 + ["hold"]  # 8 concurrent readers, one of them keeping its session open
    readers = [subprocess.Popen([sys.executable, str(READER), str(path), str(stop), mode], stdout=subprocess.PIPE,
                                text=True) for mode in modes]
    time.sleep(1.5)  # readers are in their loops (and the holder has its session open)
    t0 = time.time()
    ctx_new, _ = pipeline.run(settings, "kz-fee-10")  # publishes a new snapshot while they read
    run_seconds = time.time() - t0
    time.sleep(1.0)
    stop.touch()
    results = [json.loads(r.communicate(timeout=60)[0]) for r in readers]
    assert _latest(path) == ctx_new.run_id
    old = (ctx_old.run_id, old_rows, 1)
    new = (ctx_new.run_id, _count_now(path), 2)
    for res in results:
        assert res["errors"] == []
        assert res["seen"] and {tuple(x) for x in res["seen"]} <= {old, new}  # each result from one whole snapshot
    assert any(tuple(x) == new for res in results[:7] for x in res["seen"])  # new sessions see the new snapshot
    assert {tuple(x) for x in results[7]["seen"]} == {old}  # a held session keeps reading the old one…
    assert run_seconds < 60  # …and did not block the run


def test_two_writers_one_refused_clearly(tmp_path):
    """A second run while another process writes the warehouse is refused with a clear message; nothing breaks."""
    settings = Settings.make(tmp_path / "home")
    _, path = pipeline.run(settings, "kz-baseline")
    before = path.read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(60)", str(settings.warehouse_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        r = subprocess.run([sys.executable, "-m", "minetax.cli", "run", "--home", str(settings.home)],
                           capture_output=True, text=True, timeout=300)
    finally:
        holder.kill()
        holder.wait()
    err = " ".join(r.stderr.split())
    assert r.returncode == 1 and "another minetax process" in err and "only one run at a time" in err
    assert path.read_bytes() == before  # the snapshot is untouched
    ctx, _ = pipeline.run(settings, "kz-baseline")  # and the next run works
    assert _latest(path) == ctx.run_id


def test_snapshot_opens_in_duckdb_cli(tmp_path):
    """The registry's DuckDB CLI (duckdb-cli 1.5) reads the snapshot, read-only."""
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    assert cli, "duckdb-cli is a dev dependency (uv sync installs it)"
    settings = Settings.make(tmp_path / "home")
    _, path = pipeline.run(settings, "kz-baseline")
    out = subprocess.run([cli, "-readonly", "-csv", str(path), "-c",
                          "SELECT count(*) AS n FROM estimates; SELECT count(*) AS c FROM catalog"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "n" and int(out.stdout.splitlines()[1]) > 0
    w = subprocess.run([cli, "-readonly", str(path), "-c", "DELETE FROM estimates"], capture_output=True, text=True,
                       timeout=60)
    assert w.returncode != 0 and "read-only" in (w.stderr + w.stdout)
