"""`minetax init DIR`: a data folder ready for one's own data, that runs as written."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys

import duckdb

from minetax import pipeline
from minetax.config import DEFAULT_DATA_DIR, Settings
from minetax.sources.datasets import BY_NAME

REFERENCE = ("network_daily", "fx", "country_share", "fleet_efficiency")


def minetax(*args, home):
    env = {**os.environ, "MINETAX_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "minetax.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def rows(path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_init_writes_templates_and_reference_data(tmp_path):
    folder = tmp_path / "mydata"
    r = minetax("init", str(folder), home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())
    for name in ("farms", "energy_readings"):  # header and the one example row of minetax.sources.datasets
        ds = BY_NAME[name]
        assert rows(folder / f"{name}.csv") == [ds.column_names, [ds.example.get(c, "") for c in ds.column_names]]
        assert f"{name}.csv template, 1 example row: replace with your" in out
    for name in ("farm_hashrate", "collections"):  # optional: a template the loader does not read
        assert rows(folder / f"{name}.example.csv")[0] == BY_NAME[name].column_names
        assert not (folder / f"{name}.csv").exists()
        assert f"{name}.example.csv optional, not read until renamed {name}.csv" in out
    for name in REFERENCE:  # the public reference data of the embedded run, as it is
        copied = folder / "reference" / f"{name}.csv"
        assert copied.read_bytes() == (DEFAULT_DATA_DIR / "reference" / f"{name}.csv").read_bytes()
        assert f" {name}.csv " in out
    assert (folder / "reference" / "ATTRIBUTION.md").is_file()
    assert "reference/ public reference data, as the embedded run reads it:" in out
    assert re.search(r"network_daily\.csv [\d,]+ rows, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d", out)  # what it covers
    assert "Replace farms.csv and energy_readings.csv with your own data" in out
    assert f"minetax run --data-dir {folder}" in out
    assert r.stderr == ""


def test_the_initialised_folder_runs_and_its_optional_examples_pass(tmp_path):
    """A run on the folder as written succeeds (the example rows pass every rule); so does one with the optional
    templates renamed in."""
    folder = tmp_path / "mydata"
    assert minetax("init", str(folder), home=tmp_path / "home").returncode == 0
    settings = Settings.make(tmp_path / "home", folder)
    _, path = pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    farms = con.execute("SELECT DISTINCT farm_id FROM estimates").fetchall()
    years = con.execute("SELECT DISTINCT year FROM revenue_by_year").fetchall()
    con.close()
    assert farms == [("KZ-F01",)] and years == [(2023,)]

    for name in ("farm_hashrate", "collections"):
        (folder / f"{name}.example.csv").rename(folder / f"{name}.csv")
    pipeline.run(settings, "kz-baseline")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    counts = [con.execute(f"SELECT count(*) FROM core.{t}").fetchone()[0] for t in ("farm_hashrate", "collections")]
    con.close()
    assert counts == [1, 1]


def _one_error(r) -> str:
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.startswith("error:"), r.stderr
    return " ".join(r.stderr.split())


def test_init_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path):
    folder = tmp_path / "mydata"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    r = minetax("init", str(folder), home=tmp_path / "home")
    assert f"error: {folder} is not empty" in _one_error(r) and "--force" in r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]  # nothing written

    (folder / "fx.csv").write_text("pair,date,rate\n")  # a second fx file beside reference/fx.csv
    r = minetax("init", str(folder), "--force", home=tmp_path / "home")
    assert r.returncode == 0, r.stderr
    assert (folder / "notes.txt").read_text() == "mine" and (folder / "farms.csv").is_file()
    assert "warning: two files for one dataset" in r.stderr and "fx.csv" in r.stderr

    (folder / "farms.csv").write_text("changed")
    (folder / "fx.csv").unlink()
    r = minetax("init", str(folder), "--force", home=tmp_path / "home")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert rows(folder / "farms.csv")[0] == BY_NAME["farms"].column_names  # files of the same names are replaced


def test_init_refuses_a_file(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x")
    assert f"error: {path} is a file, not a folder" in _one_error(minetax("init", str(path), home=tmp_path / "h"))
