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

READER = Path(__file__).parent / "reader_loop.py"


def _latest(path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchall()[0][0]
    finally:
        con.close()


def test_readers_see_old_or_new_snapshot_never_half(tmp_path):
    settings = Settings.make(tmp_path / "home")
    ctx_old, path = pipeline.run(settings, "kz-baseline")
    stop = tmp_path / "stop"
    readers = [subprocess.Popen([sys.executable, str(READER), str(path), str(stop), mode], stdout=subprocess.PIPE,
                                text=True) for mode in ("loop", "loop", "hold")]
    time.sleep(1.5)  # readers are in their loops (and the holder has its session open)
    t0 = time.time()
    ctx_new, _ = pipeline.run(settings, "kz-fee-10")  # publishes a new snapshot while they read
    run_seconds = time.time() - t0
    time.sleep(1.0)
    stop.touch()
    results = [json.loads(r.communicate(timeout=60)[0]) for r in readers]
    assert _latest(path) == ctx_new.run_id
    for res in results:
        assert res["errors"] == []
        assert set(res["seen"]) <= {ctx_old.run_id, ctx_new.run_id}
        assert res["seen"]
    assert ctx_new.run_id in results[0]["seen"] + results[1]["seen"]  # new sessions see the new snapshot
    assert set(results[2]["seen"]) == {ctx_old.run_id}  # a held session keeps reading the old one…
    assert run_seconds < 60  # …and did not block the run


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
