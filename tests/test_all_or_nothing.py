"""A run is all or nothing: core, model, tax and the readings manifest change only when every input suite and
every output check passed; a refused run names what caused it, keeps the raw copies, and a corrected file put
back afterwards is applied again (issue 13, point 1)."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from minetax import db, pipeline
from minetax.config import Settings
from minetax.errors import InputError, OutputValidationError
from tests.conftest import make_data_dir, month_reading, warehouse_state, write_csv

FARMS = {"A1": ["coal", "grid", True, "2022-01-01", None], "A2": ["hydro", "own_generation", True, "2022-01-01", None]}
READINGS = [["A1", "2023-01", 1000, 12], ["A1", "2023-02", 1000, 12], ["A2", "2023-02", 500, 4]]
HEADER = ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"]


def last_run(settings: Settings) -> tuple[str, str, list]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        run_id, status, message = con.execute("SELECT run_id, status, message FROM meta.runs "
                                              "ORDER BY started_at DESC LIMIT 1").fetchall()[0]
        inputs = con.execute("SELECT file_name, status FROM meta.inputs WHERE run_id = ? ORDER BY 1",
                             [run_id]).fetchall()
    finally:
        con.close()
    return status, message, inputs


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings.make(tmp_path / "home", make_data_dir(tmp_path / "data", FARMS, READINGS))
    pipeline.run(s, "kz-baseline")
    return s


def _break_estimates_of(farm: str, monkeypatch) -> None:
    """A fault in the output check for one farm's estimates (negative tax), as a bad input could cause."""
    real = db.sql_text

    def broken(name):
        text = real(name)
        if name == "checks/estimates.sql":
            return text.replace("SELECT e.*,", f"SELECT e.* REPLACE (CASE WHEN e.farm_id = '{farm}' THEN -1.0 "
                                "ELSE e.tax_kzt END AS tax_kzt),", 1)
        return text

    monkeypatch.setattr(db, "sql_text", broken)


def test_failed_output_check_changes_nothing_and_the_same_files_apply_later(settings, monkeypatch):
    """New farm A9 and its readings pass their input suites, then an output check fails on A9's estimates: the
    whole run is rolled back (core keeps no trace of A9), the error names the farm, the rule and the datasets
    the run's files changed; the files are recorded as not loaded, so the next run applies them again."""
    before, snapshot = warehouse_state(settings), settings.published_path.read_bytes()
    farms = settings.data_dir / "farms.csv"
    farms.write_text(farms.read_text() + "A9,Farm A9,Test region,gas,grid,true,true,1.0,2022-01-01,\n")
    write_csv(settings.inbox_dir / "energy_readings-a9.csv", HEADER, [month_reading("A9", "2023-03", 900, 11)])
    _break_estimates_of("A9", monkeypatch)
    with pytest.raises(OutputValidationError) as e:
        pipeline.run(settings, "kz-baseline")
    msg = str(e.value)
    assert "column tax_kzt: rule" in msg and "farm_id=A9" in msg and "rolled back" in msg, msg
    assert "farms" in msg and "energy_readings" in msg, msg  # the datasets the run's files changed
    assert warehouse_state(settings) == before  # core, model, tax, readings and manifest exactly as they were
    assert settings.published_path.read_bytes() == snapshot
    status, message, inputs = last_run(settings)
    assert status == "failed" and "farm_id=A9" in message
    assert ("farms.csv", "not_loaded") in inputs and ("energy_readings-a9.csv", "not_loaded") in inputs
    monkeypatch.undo()  # the cause is gone: the same files are applied, not skipped as "unchanged"
    _, path = pipeline.run(settings, "kz-baseline")
    status, _, inputs = last_run(settings)
    assert status == "succeeded"
    assert ("farms.csv", "loaded") in inputs and ("energy_readings-a9.csv", "loaded") in inputs
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT sum(energy_kwh) FROM farm_month WHERE farm_id = 'A9'").fetchall()[0][0] == 900
    con.close()


def test_refused_input_keeps_raw_copy_and_a_corrected_file_is_applied(settings):
    before = warehouse_state(settings)
    readings = settings.data_dir / "energy_readings.csv"
    good = readings.read_text()
    readings.write_text(good.replace("A2,2023-02-01 00:00:00,2023-03-01 00:00:00,500,4",
                                     "A2,2023-02-01 00:00:00,2023-03-01 00:00:00,-500,4"))
    with pytest.raises(InputError, match=r"energy_readings\.csv(.|\n)*column kwh"):
        pipeline.run(settings, "kz-baseline")
    assert warehouse_state(settings) == before
    assert len(list((settings.raw_dir / "energy_readings").glob("*.csv"))) == 2  # the refused file, as received
    readings.write_text(good.replace(",500,4", ",600,4"))  # corrected (and different from the first load)
    _, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT sum(energy_kwh) FROM farm_month WHERE farm_id = 'A2'").fetchall()[0][0] == 600
    con.close()


def test_putting_an_earlier_file_back_applies_it_again(settings):
    """Load F1, then F2 (valid, different values), then F1 again: core holds F1's values (not 'unchanged')."""
    readings = settings.data_dir / "energy_readings.csv"
    first = readings.read_text()
    readings.write_text(first.replace(",500,4", ",700,4"))
    pipeline.run(settings, "kz-baseline")
    readings.write_text(first)
    _, path = pipeline.run(settings, "kz-baseline")
    assert ("energy_readings.csv", "loaded") in last_run(settings)[2]
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT sum(energy_kwh) FROM farm_month WHERE farm_id = 'A2'").fetchall()[0][0] == 500
    con.close()


def test_identical_files_in_one_batch_are_applied_once(settings):
    """Two copies of the same new month dropped together: the month is loaded once, nothing vanishes, and the
    home stays usable."""
    rows = [month_reading("A1", "2023-03", 800, 12)]
    write_csv(settings.inbox_dir / "energy_readings-march.csv", HEADER, rows)
    shutil.copyfile(settings.inbox_dir / "energy_readings-march.csv",
                    settings.inbox_dir / "energy_readings-march-copy.csv")
    _, path = pipeline.run(settings, "kz-baseline")
    inputs = dict(last_run(settings)[2])
    assert inputs["energy_readings-march-copy.csv"] == "loaded"  # drop-folder files are taken in name order
    assert inputs["energy_readings-march.csv"] == "duplicate"
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT sum(energy_kwh) FROM farm_month WHERE farm_id = 'A1'").fetchall()[0][0] == 2800
    con.close()
    pipeline.run(settings, "kz-baseline")  # and the next run is fine, with both files still there
    assert set(dict(last_run(settings)[2]).values()) <= {"unchanged", "duplicate"}


def test_same_readings_content_under_a_new_name_is_not_counted_twice(settings):
    rows = [month_reading("A1", "2023-03", 800, 12)]
    write_csv(settings.inbox_dir / "energy_readings-march.csv", HEADER, rows)
    pipeline.run(settings, "kz-baseline")
    shutil.copyfile(settings.inbox_dir / "energy_readings-march.csv", settings.inbox_dir / "energy_readings-again.csv")
    _, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT sum(energy_kwh) FROM farm_month WHERE farm_id = 'A1'").fetchall()[0][0] == 2800
    con.close()
