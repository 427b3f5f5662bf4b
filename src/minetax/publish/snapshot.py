"""Publish a read-only snapshot: a new DuckDB file, written aside, then swapped in with one rename.

Readers open `published/minetax.duckdb` read-only. A reader that still has the old file open keeps
reading the old snapshot (the rename does not touch open files); a new reader sees the new one.
No reader ever sees half a run and no reader blocks a run (the warehouse is a different file).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from minetax import db
from minetax.config import Settings
from minetax.faults import crashpoint

# Written so that the DuckDB CLI from the package registry (duckdb-cli 1.5) can open it.
STORAGE_VERSION = "v1.5.0"


def publish(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> Path:
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    for stale in settings.published_dir.glob(".minetax-*.duckdb.tmp*"):  # left by a crashed publish
        stale.unlink(missing_ok=True)
    tmp = settings.published_dir / f".minetax-{run_id}.duckdb.tmp"
    try:
        con.execute(f"ATTACH {db.literal(tmp)} AS pub (STORAGE_VERSION '{STORAGE_VERSION}')").fetchall()
        try:
            db.run_file(con, "publish/tables.sql", {"run_id": run_id})
            crashpoint("publish:tables")
        finally:
            con.execute("DETACH pub").fetchall()
        with duckdb.connect(str(tmp)) as snap:
            snap.execute("BEGIN TRANSACTION").fetchall()  # one commit, not one per view and comment (~0.15 s)
            db.run_file(snap, "publish/views.sql")
            db.run_file(snap, "publish/comments.sql")
            snap.execute("COMMIT").fetchall()
            snap.execute("CHECKPOINT").fetchall()
            crashpoint("publish:views")
        os.replace(tmp, settings.published_path)
    except BaseException:
        for leftover in settings.published_dir.glob(f"{tmp.name}*"):  # the file and its WAL: nothing half-written
            leftover.unlink(missing_ok=True)
        raise
    crashpoint("publish:renamed")
    return settings.published_path
