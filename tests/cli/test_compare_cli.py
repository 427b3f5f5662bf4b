"""`minetax compare BASELINE REFORM` end to end (its flows on Prefect's temporary API): the scenarios that need it are
run and committed, one snapshot is published at the end with both scenarios, the comparison and the runs; a second
compare runs nothing and publishes the same figures."""

from __future__ import annotations

import os
import time

import duckdb
import pytest
from typer.testing import CliRunner

from minetax.cli.app import app
from minetax.config import Settings
from tests.conftest import make_data_dir

FARMS = {"F1": ["coal", "grid", True, "2022-01-01", None]}
READINGS = [["F1", m, 1000, 10] for m in ("2024-01", "2024-02", "2024-03")]


def _published(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    base = tmp_path_factory.mktemp("compare_cli")
    data = make_data_dir(base / "data", FARMS, READINGS)
    old = time.time_ns() - 60 * 10**9  # written a minute ago: the hashes of the first compare are trusted after
    for f in data.rglob("*"):
        if f.is_file():
            os.utime(f, ns=(old, old))
    settings = Settings.make(base / "home", data)
    args = ["compare", "kz-baseline", "kz-fee-10", "--home", str(settings.home), "--data-dir", str(data)]
    first = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    snapshot_after_first = settings.published_path.stat().st_mtime_ns
    second = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    return settings, first, second, snapshot_after_first


def test_one_snapshot_holds_both_scenarios_the_comparison_and_the_runs(compared):
    settings, first, _, _ = compared
    assert first.exit_code == 0, first.output
    assert "kz-fee-10 vs kz-baseline" in first.output
    assert _published(settings, "SELECT DISTINCT scenario_id FROM estimates ORDER BY 1") == [("kz-baseline",),
                                                                                           ("kz-fee-10",)]
    # 2024: the fee of 10 KZT/kWh on 3,000 kWh against the law in force: the difference is published
    diff = _published(settings, "SELECT sum(difference_kzt) FROM scheme_comparison WHERE scheme_id = "
                                "'kz-mining-fee' AND year = 2024")[0][0]
    assert diff is not None and diff != 0
    runs = _published(settings, "SELECT scenario_id, status FROM runs ORDER BY started_at")
    assert runs == [("kz-baseline", "succeeded"), ("kz-fee-10", "succeeded")]


def test_a_second_compare_runs_nothing_and_publishes_the_same(compared):
    settings, first, second, _ = compared
    assert second.exit_code == 0, second.output
    assert second.output.count("up to date") == 2, second.output
    assert len(_published(settings, "SELECT * FROM runs")) == 2  # no new run
    table = first.output[first.output.index("kz-fee-10 vs kz-baseline"):].split("By region")[0]
    assert table in second.output
