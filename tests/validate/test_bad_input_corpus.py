"""The bad-input corpus (tests/bad_inputs/cases.yaml): every bad file is refused with a message that names the
file, the column and the rule, and leaves core and the published snapshot exactly as they were.

A valid data folder is run once per module; each case starts from a copy of that state (data folder and
MINETAX_HOME), puts its file in and runs again.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from minetax import pipeline
from minetax.config import SCHEMES_DIR, Settings
from minetax.errors import InputError, SchemeError
from minetax.tax.schemes import load_scenario, load_scheme
from tests.conftest import TESTS, make_data_dir, warehouse_state

CORPUS = TESTS / "bad_inputs"
# cases.yaml, plus cases-<topic>.yaml files (one per topic, same format)
CASES = [c for f in sorted(CORPUS.glob("cases*.yaml")) for c in yaml.safe_load(f.read_text())]
FARMS = {"A1": ["coal", "grid", True, "2022-01-01", None],
         "A2": ["hydro", "own_generation", True, "2022-01-01", None],
         "A3": ["coal", "grid", True, "2022-01-01", "2023-06-30"]}
READINGS = [["A1", "2023-01", 1000, 12], ["A1", "2023-02", 1000, 12], ["A2", "2023-02", 500, 4],
            ["A3", "2023-01", 800, 10]]
OUTCOMES = {"refused", "accepted"}


def _id(case: dict) -> str:
    return case["case"]


@pytest.fixture(scope="module")
def valid_state(tmp_path_factory) -> Path:
    """A valid data folder and the MINETAX_HOME of one successful run on it."""
    base = tmp_path_factory.mktemp("corpus")
    data = make_data_dir(base / "data", FARMS, READINGS)
    pipeline.run(Settings.make(base / "home", data), "kz-baseline")
    return base


@pytest.fixture
def settings(valid_state, tmp_path) -> Settings:
    for part in ("data", "home"):
        shutil.copytree(valid_state / part, tmp_path / part)
    return Settings.make(tmp_path / "home", tmp_path / "data")


def _snapshot_digest(settings: Settings) -> str:
    return hashlib.sha256(settings.published_path.read_bytes()).hexdigest()


def _last_run(settings: Settings) -> tuple:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        run_id, status, message = con.execute("SELECT run_id, status, message FROM meta.runs "
                                              "ORDER BY started_at DESC LIMIT 1").fetchall()[0]
        quarantined = con.execute("SELECT dataset, file_name, failed_rules FROM meta.quarantine WHERE run_id = ?",
                                  [run_id]).fetchall()
        inputs = con.execute("SELECT dataset, file_name, status FROM meta.inputs WHERE run_id = ?",
                             [run_id]).fetchall()
    finally:
        con.close()
    return status, message, quarantined, inputs


def _put_input(case: dict, data: Path) -> Path:
    if case.get("replaces"):
        (data / case["replaces"]).unlink()
    target = data / (case.get("put") or Path(case["replaces"]).parent / case["file"])
    shutil.copyfile(CORPUS / case["case"] / case["file"], target)
    return target


def _assert_message(msg: str, case: dict, file_name: str) -> None:
    assert file_name in msg, msg
    if case["kind"] == "input":
        assert f"column {case['column']}: rule " in msg, msg
    else:
        assert case["column"] in msg, msg
    assert case["rule"] in msg, msg
    if case.get("rows"):
        assert re.search(r"^ +e\.g\. row \d+: ", msg, re.MULTILINE), msg


def test_manifest_is_complete():
    names = [c["case"] for c in CASES]
    assert len(names) == len(set(names)) >= 28
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert folders == set(names), folders ^ set(names)
    for c in CASES:
        assert c["kind"] in ("input", "scheme", "scenario") and c["outcome"] in OUTCOMES, c
        assert (CORPUS / c["case"] / c["file"]).is_file(), c
        if c["outcome"] == "refused":
            assert c["column"] and c["rule"], c
        else:
            assert c["checks"], c
        assert (CORPUS / c["case"] / c["file"]).stat().st_size <= 8192, c  # tiny files only
        if c["kind"] == "input":
            assert c.get("put") or c.get("replaces"), c
        if c.get("fixed"):
            assert c["kind"] == "input" and (CORPUS / c["case"] / c["fixed"]).is_file(), c


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] == "input"], ids=_id)
def test_input_case(case, settings):
    digest, core = _snapshot_digest(settings), warehouse_state(settings)
    target = _put_input(case, settings.data_dir)
    if case["outcome"] == "accepted":
        _, path = pipeline.run(settings, "kz-baseline")
        status, _, quarantined, inputs = _last_run(settings)
        assert status == "succeeded" and not quarantined
        assert (case["dataset"], target.name, "loaded") in inputs
        con = duckdb.connect(str(path), read_only=True)
        try:
            for check in case["checks"]:
                assert con.execute(check["sql"]).fetchall() == [(pytest.approx(check["equals"]),)], check
        finally:
            con.close()
        return
    with pytest.raises(InputError) as e:
        pipeline.run(settings, "kz-baseline")
    _assert_message(str(e.value), case, target.name)
    assert Path(e.value.file).name == target.name
    assert _snapshot_digest(settings) == digest  # the published snapshot is untouched, byte for byte
    assert warehouse_state(settings) == core  # and so is core
    status, message, quarantined, inputs = _last_run(settings)
    assert status == "failed" and target.name in message
    assert [(d, f) for d, f, _ in quarantined] == [(case["dataset"], target.name)]
    assert case["rule"] in json.dumps(json.loads(quarantined[0][2]), ensure_ascii=False)
    assert (case["dataset"], target.name, "quarantined") in inputs
    stored = list((settings.raw_dir / case["dataset"]).glob(f"*{target.suffix}"))
    assert hashlib.sha256(target.read_bytes()).hexdigest() in {p.stem for p in stored}  # kept as received
    if case.get("fixed"):  # the corrected file put in its place is applied by the next run
        shutil.copyfile(CORPUS / case["case"] / case["fixed"], target)
        pipeline.run(settings, "kz-baseline")
        status, _, quarantined, inputs = _last_run(settings)
        assert status == "succeeded" and not quarantined, (status, quarantined)
        assert (case["dataset"], target.name, "loaded") in inputs, inputs


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] != "input"], ids=_id)
def test_scheme_case(case, settings, tmp_path):
    schemes = tmp_path / "schemes"
    shutil.copytree(SCHEMES_DIR, schemes)
    folder = schemes if case["kind"] == "scheme" else schemes / "scenarios"
    shutil.copyfile(CORPUS / case["case"] / case["file"], folder / case["file"])
    with pytest.raises(SchemeError) as e:
        if case["kind"] == "scheme":
            load_scheme(case["dataset"], schemes)
        else:
            load_scenario(case["dataset"], schemes / "scenarios", schemes)
    _assert_message(str(e.value), case, case["file"])
    # the whole run is refused before anything is read or written
    digest, core = _snapshot_digest(settings), warehouse_state(settings)
    scenario = "kz-baseline" if case["kind"] == "scheme" else case["dataset"]
    with pytest.raises(SchemeError) as e:
        pipeline.run(Settings.make(settings.home, settings.data_dir, schemes), scenario)
    _assert_message(str(e.value), case, case["file"])
    assert _snapshot_digest(settings) == digest
    assert warehouse_state(settings) == core


def test_excel_instead_of_csv_is_named(settings):
    """With only a workbook for a required dataset, the missing-file error says why the workbook was not used."""
    (settings.data_dir / "energy_readings.csv").unlink()
    shutil.copyfile(CORPUS / "excel_readings" / "energy_readings.xlsx", settings.data_dir / "energy_readings.xlsx")
    digest = _snapshot_digest(settings)
    with pytest.raises(InputError, match=r"required input file is present(.|\n)*energy_readings\.xlsx: \.xlsx is not "
                                         r"a supported format \(Excel inputs are not supported"):
        pipeline.run(settings, "kz-baseline")
    assert _snapshot_digest(settings) == digest
