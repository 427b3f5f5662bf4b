"""The synthetic sample: deterministic, and covering the cases the law distinguishes."""

from __future__ import annotations

import hashlib

import duckdb
import pandas as pd

from minetax.config import DEFAULT_DATA_DIR
from minetax.sources.sample import generate

SAMPLE = DEFAULT_DATA_DIR / "sample"


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_committed_sample_is_what_the_command_generates(tmp_path):
    counts = generate(tmp_path, 14, "2021-01", "2024-12", "1h", 20260101)
    assert counts["farms"] == 14
    assert _digest(tmp_path) == _digest(SAMPLE)


def test_other_seed_differs_and_sizes_scale(tmp_path):
    a = generate(tmp_path / "a", 20, "2023-01", "2023-01", "15min", 1)
    generate(tmp_path / "b", 20, "2023-01", "2023-01", "15min", 2)
    assert a["farms"] == 20
    ra = pd.read_parquet(tmp_path / "a" / "energy_readings.parquet")
    rb = pd.read_parquet(tmp_path / "b" / "energy_readings.parquet")
    assert len(ra) == a["readings"] and not ra.kwh.equals(rb.kwh)
    assert (ra.ts_end - ra.ts_start).eq(pd.Timedelta(minutes=15)).all()


def test_sample_covers_the_law():
    farms = pd.read_csv(SAMPLE / "farms.csv")
    assert len(farms) == 14 and farms.region.nunique() >= 10
    assert (~farms.metered).any()
    assert ((farms.connection == "own_generation") & farms.energy_source.isin(["coal", "gas"])).any()
    assert ((farms.connection.isin(["own_generation", "off_grid"])) &
            farms.energy_source.isin(["hydro", "wind", "solar"])).any()
    assert set(farms.connection) == {"grid", "energy_pool", "own_generation", "off_grid"}
    r = duckdb.sql(f"SELECT min(ts_start), max(ts_end), count(DISTINCT ts_end - ts_start) "
                   f"FROM '{SAMPLE / 'energy_readings.parquet'}'").fetchall()[0]
    assert str(r[0]) == "2021-01-01 00:00:00" and str(r[1]) == "2025-01-01 00:00:00" and r[2] == 1  # hourly
    # a grid farm whose quarterly average price crosses several 2023 bracket edges
    q = duckdb.sql(f"""SELECT date_trunc('quarter', ts_start) q, sum(kwh * price_kzt_per_kwh) / sum(kwh) p
                       FROM '{SAMPLE / 'energy_readings.parquet'}' WHERE farm_id = 'KZ-F01'
                       AND year(ts_start) = 2023 GROUP BY 1 ORDER BY 1""").fetchall()
    edges = [10, 12, 14, 16, 18, 20, 22, 24]
    crossed = {e for e in edges if min(p for _, p in q) < e < max(p for _, p in q)}
    assert len(crossed) >= 5, q


def test_sample_is_small():
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) < 3_000_000
