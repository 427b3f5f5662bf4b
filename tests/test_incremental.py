"""Incremental runs (a new month recomputes only its tax periods) and resumable backfill."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.sources.sample import generate
from tests.conftest import TESTS, make_data_dir

FAMILIES = TESTS / "golden" / "families" / "schemes"


def test_new_month_in_drop_folder_recomputes_only_its_periods(tmp_path):
    settings = Settings.make(tmp_path / "home")
    ctx1, _ = pipeline.run(settings, "kz-baseline")
    month = tmp_path / "month"
    generate(month, 14, "2025-01", "2025-01", "1h", 20260101)
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(month / "energy_readings.parquet", settings.inbox_dir / "energy_readings-2025-01.parquet")
    shutil.copy(month / "farm_hashrate.parquet", settings.inbox_dir / "farm_hashrate-2025-01.parquet")
    ctx2, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    by_run = dict(con.execute("SELECT run_id, list(DISTINCT year(period_start) ORDER BY year(period_start)) "
                              "FROM estimates WHERE scenario_id = 'kz-baseline' GROUP BY ALL").fetchall())
    periods = con.execute("SELECT periods FROM runs WHERE run_id = ?", [ctx2.run_id]).fetchall()[0][0]
    picked = con.execute("SELECT file_name, status FROM inputs WHERE run_id = ? AND file_name LIKE '%2025-01%'",
                         [ctx2.run_id]).fetchall()
    fee_2025 = con.execute("SELECT count(*), sum(base_kwh) FROM estimates WHERE scheme_id = 'kz-mining-fee' AND "
                           "period_start = '2025-01-01'").fetchall()[0]
    con.close()
    assert by_run == {ctx1.run_id: [2021, 2022, 2023, 2024], ctx2.run_id: [2025]}  # old periods keep their run
    assert periods == "2025-01..2025-12"  # the whole year: kz-cit's tax period is the year
    assert sorted(picked) == [("energy_readings-2025-01.parquet", "loaded"), ("farm_hashrate-2025-01.parquet",
                                                                              "loaded")]
    assert fee_2025[0] == 12 and fee_2025[1] > 0
    ctx3, path = pipeline.run(settings, "kz-baseline")  # the drop folder's files are picked up once
    con = duckdb.connect(str(path), read_only=True)
    again = con.execute("SELECT status FROM inputs WHERE run_id = ? AND file_name LIKE '%2025-01%'",
                        [ctx3.run_id]).fetchall()
    con.close()
    assert {r[0] for r in again} == {"unchanged"}


def test_backfill_is_resumable(tmp_path, monkeypatch):
    farms = {"B1": ["coal", "grid", True, "2022-01-01", None]}
    data = make_data_dir(tmp_path / "data", farms, [["B1", f"2023-{m:02d}", 1000, 10] for m in range(1, 13)])
    settings = Settings.make(tmp_path / "home", data, FAMILIES)
    first, _ = pipeline.run(settings, "t-per-kwh")
    cut = []
    real = pipeline.estimate

    def flaky(ctx, progress=None, window=None):
        if window and window[0] == dt.date(2023, 7, 1) and not cut:
            cut.append(window)
            raise RuntimeError("power cut")  # the third quarter fails the first time
        return real(ctx, progress, window)

    monkeypatch.setattr(pipeline, "estimate", flaky)
    lo, hi = dt.date(2023, 1, 1), dt.date(2023, 12, 1)
    with pytest.raises(RuntimeError, match="power cut"):
        pipeline.backfill(settings, "t-per-kwh", lo, hi)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    state = con.execute("SELECT chunk_start, status FROM meta.backfills ORDER BY chunk_start").fetchall()
    con.close()
    assert [s for _, s in state] == ["done", "done", "failed"]
    ctx, path, computed = pipeline.backfill(settings, "t-per-kwh", lo, hi)
    assert [c[0] for c in computed] == [dt.date(2023, 7, 1), dt.date(2023, 10, 1)]  # resumed at the failed one
    con = duckdb.connect(str(path), read_only=True)
    runs = dict(con.execute("SELECT period_start, run_id FROM estimates WHERE farm_id = 'B1' "
                            "AND year(period_start) = 2023").fetchall())
    tax = con.execute("SELECT sum(tax_kzt) FROM estimates WHERE farm_id = 'B1'").fetchall()[0][0]
    con.close()
    assert runs[dt.date(2023, 7, 1)] == runs[dt.date(2023, 10, 1)] == ctx.run_id
    assert runs[dt.date(2023, 1, 1)] != first.run_id  # recomputed by the first (failed) backfill
    assert tax == 3000 * 3 + 3000 * 3 + 3000 * 4 + (1000 * 4 + 2000 * 5)  # nothing double-counted
    monkeypatch.setattr(pipeline, "estimate", real)
    _, _, again = pipeline.backfill(settings, "t-per-kwh", lo, hi)  # finished: the same command starts anew
    assert len(again) == 4
