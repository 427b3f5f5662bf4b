"""The command line as a user runs it: `minetax run` on the embedded data, `minetax sql`, bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import make_data_dir


def minetax(*args, home, timeout=300):
    env = {**os.environ, "MINETAX_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "minetax.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli") / "home"
    return home, minetax("run", home=home)


def test_run_prints_summary_and_paths(ran):
    home, r = ran
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Revenue by year" in out and "kz-baseline" in out and "kz-mining-fee" in out and "kz-cit" in out
    assert "tax gap Kazakhstan" in out
    for year in ("2021", "2022", "2023", "2024"):
        assert f"│ {year} " in out
    assert str(home / "published" / "minetax.duckdb") in out.replace("\n", "")


def test_sql_formats(ran):
    home, _ = ran
    r = minetax("sql", "select year, farms, periods, tax_kzt from revenue_by_year where scheme_id = 'kz-mining-fee' "
                "order by year", "--format", "csv", home=home)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["year"] for row in rows] == ["2021", "2022", "2023", "2024"]
    assert float(rows[0]["tax_kzt"]) == 0  # the fee starts in 2022
    assert all(row["periods"] == "4" for row in rows)
    j = minetax("sql", "select count(*) as n from estimates", "--format", "json", home=home)
    assert json.loads(j.stdout)[0]["n"] > 0
    t = minetax("sql", "select farm_id from farms order by farm_id limit 2", home=home)
    assert "KZ-F01" in t.stdout and "2 rows" in t.stdout


def test_sql_is_read_only_and_sandboxed(ran):
    home, _ = ran
    w = minetax("sql", "delete from estimates", home=home)
    assert w.returncode == 1 and "refused" in w.stderr and "DELETE" in w.stderr
    f = minetax("sql", "select * from read_csv('/etc/passwd')", home=home)
    assert f.returncode == 1 and "refused" in f.stderr


def test_sql_before_any_run(tmp_path):
    r = minetax("sql", "select 1", home=tmp_path / "empty")
    assert r.returncode == 1 and "nothing published yet" in r.stderr


def test_bad_input_exit_code_and_message(tmp_path):
    data = make_data_dir(tmp_path / "data", {"B1": ["coal", "grid", True, "2022-01-01", None]},
                         [["B1", "2023-01", -7, 10]])
    r = minetax("run", "--data-dir", str(data), home=tmp_path / "home")
    assert r.returncode == 1
    err = " ".join(r.stderr.split())
    assert "energy_readings.csv" in err and "column kwh" in err and "row 1" in err
    assert "Traceback" not in r.stderr
