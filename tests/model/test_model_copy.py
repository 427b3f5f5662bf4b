"""A reform of the tax only does not remodel the readings (sql/model/model_copy.sql, minetax.model.run): the model
rows of another scenario of the same model (same inputs, code and model assumptions) are copied, and they equal the
rows the model files compute."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from tests.conftest import make_data_dir, write_csv

FARMS = {"F1": ["coal", "grid", True, "2022-01-01", None], "F2": ["gas", "grid", False, "2022-01-01", None]}
READINGS = [[f, m, 1000 + 10 * i, 9 + i] for i, f in enumerate(FARMS) for m in ("2023-11", "2023-12", "2024-01")]
TABLES = {"model.farm_month": "farm_id, month", "model.country_month": "country, month",
          "model.farm_month_hour": "farm_id, month, hour", "model.farm_day_energy": "farm_id, day",
          "tax.estimates": "scheme_id, farm_id, period_start"}


def _rows(settings: Settings, table: str, scenario: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in ("run_id", "scenario_id")]
        return con.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE scenario_id = ? ORDER BY {TABLES[table]}",
                           [scenario]).fetchall()


def _same(x: object, y: object) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return x == pytest.approx(y, rel=1e-12, abs=1e-9)
    return x == y


def _run(settings: Settings, scenario: str) -> dict:
    ctx, _ = pipeline.run(settings, scenario)
    return next(s for s in ctx.stages if s.name == "estimate").map


@pytest.fixture
def data(tmp_path):
    return make_data_dir(tmp_path / "data", FARMS, READINGS)


def test_a_tax_reform_copies_the_model_and_it_equals_the_computed_one(tmp_path, data):
    shared = Settings.make(tmp_path / "shared", data)
    assert "copied_from" not in _run(shared, "kz-baseline")
    assert _run(shared, "kz-fee-10")["copied_from"] == "kz-baseline"  # neither readings nor partials read
    alone = Settings.make(tmp_path / "alone", data)
    assert "copied_from" not in _run(alone, "kz-fee-10")  # the only scenario: modelled from the partials
    for table in TABLES:  # equal up to float summation order (DuckDB sums in parallel: the last digit may move)
        copied, computed = _rows(shared, table, "kz-fee-10"), _rows(alone, table, "kz-fee-10")
        assert len(copied) == len(computed), table
        for a, b in zip(copied, computed, strict=True):
            assert all(_same(x, y) for x, y in zip(a, b, strict=True)), (table, a, b)
    assert _rows(shared, "model.farm_month", "kz-fee-10") == _rows(shared, "model.farm_month", "kz-baseline")
    assert _rows(shared, "tax.estimates", "kz-fee-10") != _rows(shared, "tax.estimates", "kz-baseline")


def test_other_model_assumptions_or_a_new_input_are_modelled_again(tmp_path, data):
    schemes = tmp_path / "schemes"
    shutil.copytree(Settings.make(tmp_path / "h").schemes_dir, schemes)
    (schemes / "scenarios" / "kz-pue-high.yaml").write_text(
        "scenario_id: kz-pue-high\ntitle: higher PUE\nbase: kz-baseline\n"
        "assumptions:\n  pue: {low: 1.05, central: 1.30, high: 1.40}\n")
    settings = Settings.make(tmp_path / "home", data, schemes)
    _run(settings, "kz-baseline")
    assert "copied_from" not in _run(settings, "kz-pue-high")  # another model: computed
    assert _rows(settings, "model.country_month", "kz-pue-high") != _rows(settings, "model.country_month",
                                                                          "kz-baseline")
    write_csv(settings.inbox_dir / "energy_readings-2024-02.csv", ["farm_id", "ts_start", "ts_end", "kwh",
                                                                   "price_kzt_per_kwh"],
              [["F1", "2024-02-01 00:00:00", "2024-03-01 00:00:00", 500, 9]])
    _run(settings, "kz-baseline")  # loads February: kz-fee-10's donor is current again, kz-pue-high's is not
    assert _run(settings, "kz-fee-10")["copied_from"] == "kz-baseline"
    assert "copied_from" not in _run(settings, "kz-pue-high")
