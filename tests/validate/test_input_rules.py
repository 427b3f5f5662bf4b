"""Plausibility and identity rules of the input suites (issue 13, point 3), beyond the corpus cases of
tests/bad_inputs/cases-rules.yaml: the farm id skeleton, the known countries, the fx ranges, and a farms file that
changes a farm whose readings are already in core (the readings are re-checked against the new values).

Stage SQL runs on a real warehouse: src_<dataset> is made here as the loader makes it (text columns, `_row`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from minetax import db, pipeline, warehouse
from minetax.config import SCHEMES_DIR, SQL_DIR, Settings
from minetax.errors import InputError
from minetax.validate import checks
from tests.conftest import FARM_HEADER, REFERENCE, make_data_dir, write_csv

FARMS = {"S1": ["coal", "grid", True, "2022-01-01", None, 1.0], "S2": ["gas", "grid", True, "2022-01-01", None, 2.0]}
# 1,000,000 kWh in January: 1344 kW on average, within 1.5 x 1 MW = 1500 kW
READINGS = [["S1", "2023-01", 1_000_000, 12], ["S1", "2023-02", 900_000, 12], ["S2", "2023-01", 5000, 12]]


def _skeleton(con, text: str) -> str:
    return con.execute("SELECT farm_id_skeleton(?)", [text]).fetchall()[0][0]


@pytest.fixture(scope="module")
def macro_con():
    con = duckdb.connect()
    db.run_file(con, "staging/farm_id_macros.sql")
    yield con
    con.close()


def test_the_farm_id_macros_are_defined_once():
    """The stage files use the macros of sql/staging/farm_id_macros.sql and define none of their own."""
    for p in (SQL_DIR / "staging").glob("*.sql"):
        defines = "TEMP MACRO farm_id_" in p.read_text()
        assert defines == (p.name == "farm_id_macros.sql"), p.name


def test_lookalikes_name_the_farms_an_unknown_id_looks_like(macro_con):
    assert macro_con.execute("SELECT farm_id_lookalikes('a1', ['A1', 'B2', '\u04101'])").fetchall()[0][0] == \
        "'A1', '\u04101'"
    assert macro_con.execute("SELECT farm_id_lookalikes('C3', ['A1', 'B2'])").fetchall()[0][0] is None


@pytest.mark.parametrize("a, b", [("A1", "a1"), ("A1", "\u04101"), ("KZ-F01", "\u041aZ-F01"), ("A1", "A1\u200b"),
                                  ("A1", "\ufeffA1"), ("A1", "A\u00a01"), ("B-2", "\u0432-2"), ("XO", "\u0425\u041e"),
                                  ("MEP", "\u039c\u0395\u03a1")])
def test_look_alike_ids_share_a_skeleton(macro_con, a, b):
    assert a != b and _skeleton(macro_con, a) == _skeleton(macro_con, b)


@pytest.mark.parametrize("a, b", [("A1", "A2"), ("KZ-F01", "KZ-F10"), ("A-1", "A_1"), ("Ekibastuz", "Ekibastuz 2")])
def test_different_ids_keep_different_skeletons(macro_con, a, b):
    assert _skeleton(macro_con, a) != _skeleton(macro_con, b)


def _stage(con, dataset: str, path: Path) -> None:
    """src_<dataset> as the loader makes it: every column as text, `_row` numbering the data rows from 1."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE src_{dataset} AS SELECT row_number() OVER () AS _row, * "
                f"FROM read_csv({db.literal(str(path))}, all_varchar = true, header = true)").fetchall()
    from minetax.sources.datasets import DATASETS

    have = {r[0] for r in con.execute(f"DESCRIBE src_{dataset}").fetchall()}
    for column in next(d for d in DATASETS if d.name == dataset).column_names:  # optional ones: NULL, as loaded
        if column not in have:
            con.execute(f"ALTER TABLE src_{dataset} ADD COLUMN {column} VARCHAR").fetchall()
    db.run_file(con, "staging/farm_id_macros.sql")
    db.run_file(con, f"staging/stage_{dataset}.sql")


def test_known_countries_cover_the_reference_data_and_the_scenarios(tmp_path):
    con = warehouse.connect(tmp_path / "warehouse.duckdb")
    wanted = {c for c in (REFERENCE / "country_share.csv").read_text().splitlines()[1:] for c in [c.split(",")[0]]}
    for p in (SCHEMES_DIR / "scenarios").glob("*.yaml"):
        share = (yaml.safe_load(p.read_text()).get("assumptions") or {}).get("hashrate_share") or {}
        wanted |= {share["country"]} if "country" in share else set()
    assert "Kazakhstan" in wanted
    rows = [[c.lower(), "2023-01-01", 0.1, "test"] for c in wanted] + [["  " + c.upper() + "\u00a0", "2023-02-01", 0.1,
                                                                        "test"] for c in wanted]
    _stage(con, "country_share", write_csv(tmp_path / "country_share.csv", ["country", "month", "share", "source"],
                                           rows))
    got = con.execute("SELECT DISTINCT country, country_known_ok FROM stage_country_share").fetchall()
    assert sorted(got) == sorted((c, True) for c in wanted)
    _stage(con, "country_share", write_csv(tmp_path / "country_share.csv", ["country", "month", "share", "source"],
                                           [["Kazakstan", "2023-01-01", 0.1, ""], ["World", "2023-01-01", 1, ""]]))
    assert con.execute("SELECT bool_or(country_known_ok) FROM stage_country_share").fetchall() == [(False,)]
    con.close()


@pytest.mark.parametrize("pair, rate, inverted_ok, plausible_ok", [
    ("USD/KZT", 456.17, True, True), ("USD/KZT", 1 / 456.17, False, True), ("USD/KZT", 99.0, True, False),
    ("USD/KZT", 1e308, True, False), ("KZT/USD", 1 / 456.17, False, True), ("EUR/KZT", 512.0, True, True),
    ("RUB/KZT", 5.9, True, True), ("RUB/KZT", 590.0, True, False), ("RUB/KZT", 1 / 5.9, False, True),
    ("KGS/KZT", 5.4, True, True), ("UZS/KZT", 0.037, True, True), ("UZS/KZT", 27.0, False, True),
    ("CNY/KZT", 65.0, True, True), ("GBP/KZT", 600.0, True, True),  # a pair without a range: only > 0
])
def test_fx_ranges_by_pair(tmp_path, pair, rate, inverted_ok, plausible_ok):
    con = warehouse.connect(tmp_path / "warehouse.duckdb")
    _stage(con, "fx", write_csv(tmp_path / "fx.csv", ["pair", "date", "rate", "source"],
                                [[pair, "2023-01-01", repr(rate), "test"]]))
    assert con.execute("SELECT rate_inverted_ok, rate_plausible_ok FROM stage_fx").fetchall() == \
        [(inverted_ok, plausible_ok)]
    con.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Settings:
    """A run that loaded January and February readings of S1 (up to 1344 kW on a 1 MW farm) and S2."""
    base = tmp_path_factory.mktemp("rules")
    settings = Settings.make(base / "home", make_data_dir(base / "data", FARMS, READINGS))
    pipeline.run(settings, "kz-baseline")
    return settings


def _farms(path: Path, s1: dict) -> Path:
    rows = {fid: [fid, f"Farm {fid}", "Test region", f[0], f[1], "true", "true", f[5], f[3], f[4] or ""]
            for fid, f in FARMS.items()}
    rows["S1"] = [s1.get(c, v) for c, v in zip(FARM_HEADER, rows["S1"], strict=True)]
    return write_csv(path, FARM_HEADER, list(rows.values()))


def _check_farms(settings: Settings, tmp_path: Path, **s1) -> tuple[dict, dict]:
    """Stage a farms file with S1 changed on the loaded warehouse; (failed rules by check column, their details)."""
    con = warehouse.connect(settings.warehouse_path)
    try:
        _stage(con, "farms", _farms(tmp_path / "farms.csv", s1))
        report = checks.check_relation(con, "input.farms", "stage_farms", "farms.csv")
        failed = {r["rule"]: r for r in report.failures}
        details = {rule: checks.row_details(con, "input.farms", "stage_farms", r) for rule, r in failed.items()}
    finally:
        con.close()
    return failed, details


def test_shrinking_capacity_below_loaded_readings_is_refused(loaded, tmp_path):
    failed, details = _check_farms(loaded, tmp_path, capacity_mw=0.5)
    (rule,) = failed
    assert "capacity_mw still covers its loaded readings" in rule
    assert failed[rule]["example_rows"] == [1]
    assert details[rule] == {1: "S1: 2 readings already loaded; 2 above 1.5 x 0.5 MW, e.g. "
                                "2023-01-01 00:00:00 .. 2023-02-01 00:00:00, 1000000.0 kWh"}


def test_a_change_the_loaded_readings_still_fit_is_accepted(loaded, tmp_path):
    assert _check_farms(loaded, tmp_path, capacity_mw=0.95, commissioned_on="2022-12-31",
                        decommissioned_on="2023-02-28") == ({}, {})


@pytest.mark.parametrize("change, example", [
    ({"decommissioned_on": "2023-01-31"}, "1 outside 2022-01-01 .. 2023-01-31, e.g. 2023-02-01 00:00:00"),
    ({"commissioned_on": "2023-01-02"}, "1 outside 2023-01-02 .. open, e.g. 2023-01-01 00:00:00"),
])
def test_moving_the_operating_period_off_loaded_readings_is_refused(loaded, tmp_path, change, example):
    failed, details = _check_farms(loaded, tmp_path, **change)
    (rule,) = failed
    assert "keeps its loaded readings between commissioned_on and decommissioned_on" in rule
    assert example in details[rule][1]


def test_the_run_is_refused_and_core_keeps_the_old_capacity(loaded, tmp_path):
    _farms(loaded.data_dir / "farms.csv", {"capacity_mw": 0.5})
    try:
        with pytest.raises(InputError, match=r"farms\.csv(.|\n)*column capacity_mw: rule a changed farm's "
                                             r"capacity_mw still covers its loaded readings"):
            pipeline.run(loaded, "kz-baseline")
    finally:
        _farms(loaded.data_dir / "farms.csv", {})
    con = duckdb.connect(str(loaded.warehouse_path), read_only=True)
    try:
        assert con.execute("SELECT capacity_mw FROM core.farms WHERE farm_id = 'S1'").fetchall() == [(1.0,)]
    finally:
        con.close()


def test_probable_duplicate_names_both_ids(loaded, tmp_path):
    con = warehouse.connect(loaded.warehouse_path)
    try:
        path = write_csv(tmp_path / "farms.csv", FARM_HEADER,
                         [["s1", "Farm S1", "R", "coal", "grid", "true", "true", 1.0, "2022-01-01", ""],
                          ["C3\u200b", "Farm C3", "R", "coal", "grid", "true", "true", 1.0, "2023-01-01", ""],
                          ["\u04213", "Farm C3", "R", "coal", "grid", "true", "true", 1.0, "2023-01-01", ""]])
        _stage(con, "farms", path)
        got = con.execute("SELECT farm_id_distinct_detail, farm_id_visible_detail FROM stage_farms ORDER BY _row"
                          ).fetchall()
    finally:
        con.close()
    assert got == [("farm_id 's1' looks like 'S1' (already loaded)", None),
                   ("farm_id 'C3\u200b' looks like '\u04213' (this file)", "farm_id 'C3\u200b' holds U+200B"),
                   ("farm_id '\u04213' looks like 'C3\u200b' (this file)", None)]
