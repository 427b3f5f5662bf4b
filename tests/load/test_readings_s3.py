"""The readings store on a real S3-compatible server (fixture s3_server: moto's server on 127.0.0.1): a whole run
writes its partitions and partials there through pyarrow and publishes the figures of the same run on a folder."""

from __future__ import annotations

import uuid

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import MinetaxError
from tests.flows.test_cluster_run import figures, same_figures


def test_run_with_the_readings_on_s3_publishes_the_same_figures(s3_server, embedded_run, tmp_path, monkeypatch):
    for k, v in s3_server.env.items():
        monkeypatch.setenv(k, v)
    prefix = f"readings-{uuid.uuid4().hex[:8]}"
    settings = Settings.make(tmp_path / "home", readings_store=f"s3://{s3_server.bucket}/{prefix}")
    _, path = pipeline.run(settings, "kz-baseline")
    same_figures(figures(path), figures(embedded_run[2]))
    keys = s3_server.keys(prefix + "/")
    parts = [k for k in keys if "/bucket=" in k]
    partials = [k for k in keys if "/_partials/" in k]
    assert parts and partials and not [k for k in keys if ".tmp" in k]
    assert not (settings.home / "core" / "energy_readings").exists()  # nothing of the readings kept locally
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        listed = [r[0] for r in con.execute("SELECT path FROM core.energy_reading_partitions").fetchall()]
        assert con.execute("SELECT store FROM core.readings_layout").fetchall() == [(f"s3://{s3_server.bucket}/"
                                                                                     f"{prefix}",)]
    finally:
        con.close()
    assert sorted(f"{prefix}/{p}" for p in listed) == sorted(parts)
    # a second run (nothing changed) reads the store again to open the warehouse: same figures, nothing written
    _, path = pipeline.run(settings, "kz-baseline")
    assert s3_server.keys(prefix + "/") == keys
    same_figures(figures(path), figures(embedded_run[2]))


def test_another_store_for_a_loaded_warehouse_is_refused(s3_server, tmp_path, monkeypatch):
    for k, v in s3_server.env.items():
        monkeypatch.setenv(k, v)
    settings = Settings.make(tmp_path / "home")
    pipeline.run(settings, "kz-baseline")
    moved = Settings.make(tmp_path / "home", readings_store=f"s3://{s3_server.bucket}/elsewhere")
    from tests.conftest import write_csv

    write_csv(moved.inbox_dir / "energy_readings-more.csv", ["farm_id", "ts_start", "ts_end", "kwh",
                                                             "price_kzt_per_kwh"],
              [["KZ-F01", "2025-01-01 00:00:00", "2025-01-02 00:00:00", 10, 12]])
    with pytest.raises(MinetaxError, match="readings are not moved between stores"):
        pipeline.run(moved, "kz-baseline")
