"""The published figures of the embedded run are pinned: every scenario's totals by grain (farm, or the
top-down country), scheme and year, as published before the restructuring (tests/golden/embedded_totals.csv,
written by the run of commit 12c9098). A change of these is deliberate, with the issue that makes it.

Equal to float summation order: DuckDB's parallel sums may differ in the last digits (relative 1e-12)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from minetax import pipeline
from minetax.config import SCENARIOS_DIR, Settings
from tests.conftest import TESTS

GOLDEN = TESTS / "golden" / "embedded_totals.csv"
FARM = ("SELECT 'farm' AS grain, scenario_id, scheme_id, year(period_start) AS year, sum(base_kwh) AS base_kwh, "
        "sum(tax_low_kzt) AS tax_low_kzt, sum(tax_kzt) AS tax_kzt, sum(tax_high_kzt) AS tax_high_kzt, "
        "sum(coalesce(tax_dynamic_kzt, 0)) AS tax_dynamic_kzt FROM estimates GROUP BY ALL")
COUNTRY = ("SELECT 'country:' || country AS grain, scenario_id, scheme_id, year(period_start) AS year, "
           "sum(energy_kwh) AS base_kwh, sum(tax_low_kzt) AS tax_low_kzt, sum(tax_kzt) AS tax_kzt, "
           "sum(tax_high_kzt) AS tax_high_kzt, sum(coalesce(tax_dynamic_kzt, 0)) AS tax_dynamic_kzt "
           "FROM estimates_country GROUP BY ALL")
KEY = ["grain", "scenario_id", "scheme_id", "year"]


def test_embedded_totals_are_unchanged(tmp_path):
    settings = Settings.make(tmp_path / "home")
    for scenario in sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml")):
        _, path = pipeline.run(settings, scenario)
    con = duckdb.connect(str(path), read_only=True)
    try:
        now = pd.concat([con.execute(FARM).df(), con.execute(COUNTRY).df()])
    finally:
        con.close()
    golden = pd.read_csv(GOLDEN)
    now = now.sort_values(KEY).reset_index(drop=True)
    golden = golden.sort_values(KEY).reset_index(drop=True)
    assert now[KEY].astype(str).values.tolist() == golden[KEY].astype(str).values.tolist()
    for col in ("base_kwh", "tax_low_kzt", "tax_kzt", "tax_high_kzt", "tax_dynamic_kzt"):
        assert now[col].tolist() == pytest.approx(golden[col].tolist(), rel=1e-12, abs=1e-3), col
