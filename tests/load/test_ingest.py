"""Loading inputs: idempotency, lineage, and bad input refused without touching core or the snapshot."""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import InputError
from tests.conftest import make_data_dir, write_csv

FARMS = {"A1": ["coal", "grid", True, "2022-01-01", None], "A2": ["hydro", "own_generation", True, "2022-01-01", None]}
READINGS = [["A1", "2023-01", 1000, 12], ["A1", "2023-02", 1000, 12], ["A2", "2023-01", 500, 4]]
READ_HEADER = ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"]


@pytest.fixture
def data(tmp_path):
    return make_data_dir(tmp_path / "data", FARMS, READINGS)


def _snapshot_digest(settings: Settings) -> str:
    return hashlib.sha256(settings.published_path.read_bytes()).hexdigest()


def _core_counts(settings: Settings) -> dict:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM core.{t}").fetchone()
                for t in ("farms", "energy_readings", "network_daily")}
    finally:
        con.close()


def test_same_file_twice_changes_nothing(tmp_path, data):
    settings = Settings.make(tmp_path / "home", data)
    ctx1, _ = pipeline.run(settings, "kz-baseline")
    before = _core_counts(settings)
    ctx2, _ = pipeline.run(settings, "kz-baseline")
    assert _core_counts(settings) == before
    con = duckdb.connect(str(settings.published_path), read_only=True)
    statuses = dict(con.execute("SELECT dataset, status FROM inputs WHERE run_id = ?", [ctx2.run_id]).fetchall())
    first = dict(con.execute("SELECT dataset, status FROM inputs WHERE run_id = ?", [ctx1.run_id]).fetchall())
    e1 = con.execute("SELECT * EXCLUDE (run_id) FROM estimates ORDER BY scheme_id, farm_id, period_start").fetchall()
    con.close()
    assert set(first.values()) == {"loaded"}
    assert set(statuses.values()) == {"unchanged"}
    # the raw store keeps one copy per distinct file
    stored = list((settings.raw_dir / "energy_readings").iterdir())
    assert len(stored) == 1 and stored[0].name.startswith(hashlib.sha256(
        (data / "energy_readings.csv").read_bytes()).hexdigest())
    assert e1  # estimates exist and (below) are identical across runs
    ctx3, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    e3 = con.execute("SELECT * EXCLUDE (run_id) FROM estimates ORDER BY scheme_id, farm_id, period_start").fetchall()
    # nothing changed, so nothing was recomputed: the estimates still come from the first run
    assert con.execute("SELECT DISTINCT run_id FROM estimates").fetchall() == [(ctx1.run_id,)]
    periods = dict(con.execute("SELECT run_id, periods FROM runs").fetchall())
    con.close()
    assert e1 == e3
    assert periods[ctx1.run_id] == "all months" and periods[ctx3.run_id] == "none (no input changed)"


def test_corrected_file_replaces_rows_by_key(tmp_path, data):
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    fixed = [r if r[1] != "2023-02" else ["A1", "2023-02", 1500, 12] for r in READINGS]
    make_data_dir(data, FARMS, fixed)
    _, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT base_kwh FROM estimates WHERE farm_id = 'A1' AND period_start = '2023-01-01' "
                       "AND scheme_id = 'kz-mining-fee'").fetchone()[0] == 2500
    con.close()


def _bad_readings(data, rows):
    write_csv(data / "energy_readings.csv", READ_HEADER, rows)


BAD_READINGS = {
    "negative kwh": ([["A1", "2023-01-01 00:00:00", "2023-01-01 01:00:00", -5, 12]], "kwh", "between"),
    "nan kwh": ([["A1", "2023-01-01 00:00:00", "2023-01-01 01:00:00", "nan", 12]], "kwh", "finite"),
    "inf price": ([["A1", "2023-01-01 00:00:00", "2023-01-01 01:00:00", 5, "inf"]], "price_kzt_per_kwh", "finite"),
    "text in kwh": ([["A1", "2023-01-01 00:00:00", "2023-01-01 01:00:00", "lots", 12]], "kwh", "not_be_null"),
    "unknown farm": ([["ZZ", "2023-01-01 00:00:00", "2023-01-01 01:00:00", 5, 12]], "farm_id", "in farms"),
    "overlap": ([["A1", "2023-01-01 00:00:00", "2023-01-01 01:00:00", 5, 12],
                 ["A1", "2023-01-01 00:30:00", "2023-01-01 01:30:00", 5, 12]], "ts_start,ts_end", "overlap"),
    "duplicate key": ([["A1", "2023-01-01 00:00:00", "2023-01-01 01:00:00", 5, 12],
                       ["A1", "2023-01-01 00:00:00", "2023-01-01 01:00:00", 6, 12]], "farm_id,ts_start", "unique"),
    "crosses month": ([["A1", "2023-01-31 00:00:00", "2023-02-02 00:00:00", 5, 12]], "ts_start,ts_end", "one calendar"),
    "end before start": ([["A1", "2023-01-02 00:00:00", "2023-01-01 00:00:00", 5, 12]], "ts_start,ts_end",
                         "15 minutes"),
    "above capacity": ([["A1", "2023-01-01 00:00:00", "2023-01-01 01:00:00", 5000, 12]], "kwh", "capacity"),
    "before commissioning": ([["A1", "2021-06-01 00:00:00", "2021-06-01 01:00:00", 5, 12]], "ts_start", "commissioned"),
}


@pytest.mark.parametrize("case", list(BAD_READINGS))
def test_bad_readings_refused_and_nothing_changes(tmp_path, data, case):
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    digest, core = _snapshot_digest(settings), _core_counts(settings)
    rows, column, rule_words = BAD_READINGS[case]
    _bad_readings(data, rows)
    with pytest.raises(InputError) as e:
        pipeline.run(settings, "kz-baseline")
    msg = str(e.value)
    assert "energy_readings.csv" in msg and f"column {column}" in msg and rule_words in msg, msg
    assert "row 1:" in msg or "row 2:" in msg, msg  # example rows, numbered as in the file
    assert _snapshot_digest(settings) == digest  # published snapshot untouched
    assert _core_counts(settings) == core  # core untouched
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    q = con.execute("SELECT dataset, file_name, failed_rules FROM meta.quarantine").fetchall()
    status = con.execute("SELECT status, message FROM meta.runs ORDER BY started_at DESC LIMIT 1").fetchone()
    failed = con.execute("SELECT count(*) FROM meta.validations WHERE NOT success").fetchone()[0]
    con.close()
    assert q and q[0][:2] == ("energy_readings", "energy_readings.csv")
    assert status[0] == "failed" and "energy_readings.csv" in status[1]
    assert failed >= 1


def test_missing_column_named(tmp_path, data):
    write_csv(data / "farms.csv", ["farm_id", "name", "region"], [["A1", "x", "y"]])
    with pytest.raises(InputError, match="column energy_source: rule required column is present"):
        pipeline.run(Settings.make(tmp_path / "home", data), "kz-baseline")


def test_bad_farm_values(tmp_path, data):
    make_data_dir(data, {"A1": ["uranium", "grid", True, "2022-01-01", "2021-01-01"]}, [])
    with pytest.raises(InputError) as e:
        pipeline.run(Settings.make(tmp_path / "home", data), "kz-baseline")
    assert "column energy_source" in str(e.value) and "uranium" in str(e.value)
    assert "decommissioned_on is on or after commissioned_on" in str(e.value)


def test_missing_required_file(tmp_path, data):
    (data / "reference" / "fx.csv").unlink()
    with pytest.raises(InputError, match="required input file is present"):
        pipeline.run(Settings.make(tmp_path / "home", data), "kz-baseline")


def test_every_missing_file_named_at_once(tmp_path, data):
    """A data folder with three required datasets missing is refused once, naming all three (not one per run)."""
    for path in (data / "energy_readings.csv", data / "reference" / "fx.csv", data / "reference" / "network_daily.csv"):
        path.unlink()
    settings = Settings.make(tmp_path / "home", data)
    with pytest.raises(InputError) as e:
        pipeline.run(settings, "kz-baseline")
    named = [f["dataset"] for f in e.value.findings]
    assert named == ["energy_readings", "network_daily", "fx"]  # in the order of the input formats
    message = str(e.value)
    assert "3 required datasets have no file (energy_readings, network_daily, fx;" in message
    for name in named:
        assert f"rule required input file is present (dataset {name}) failed" in message
        assert f"looked for {name}.csv or {name}.parquet in {data}" in message
    assert "country_share" not in message and "farm_hashrate" not in message  # present, or optional
    assert not settings.published_path.exists()


def test_two_files_for_one_dataset(tmp_path, data):
    (data / "fx.csv").write_text((data / "reference" / "fx.csv").read_text())
    with pytest.raises(InputError, match="one file for dataset fx"):
        pipeline.run(Settings.make(tmp_path / "home", data), "kz-baseline")


def test_parquet_input_accepted(tmp_path, data):
    con = duckdb.connect()
    src = str(data / "energy_readings.csv")
    dst = str(data / "energy_readings.parquet")
    con.execute(f"COPY (SELECT * FROM read_csv('{src}')) TO '{dst}' (FORMAT parquet)")
    (data / "energy_readings.csv").unlink()
    _, path = pipeline.run(Settings.make(tmp_path / "home", data), "kz-baseline")
    out = duckdb.connect(str(path), read_only=True)
    assert out.execute("SELECT sum(base_kwh) FROM estimates WHERE scheme_id = 'kz-mining-fee'").fetchone()[0] == 2500
