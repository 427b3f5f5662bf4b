"""`minetax compare` runs a scenario again only when a run would change something (minetax.tax.compare.up_to_date):
inputs as last loaded (by the hash the raw store remembers), the scenario's estimates made for its current version,
nothing in the drop folder."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.tax.compare import up_to_date
from tests.conftest import make_data_dir


def _age(folder, seconds: float = 60.0) -> None:
    """Every file of the folder last modified `seconds` ago (a hash made now is then trusted on the next look)."""
    old = time.time_ns() - int(seconds * 1e9)
    for root, _, files in os.walk(folder):
        for f in files:
            os.utime(os.path.join(root, f), ns=(old, old))


@pytest.fixture
def case(tmp_path):
    data = make_data_dir(tmp_path / "data", {"F1": ["coal", "grid", True, "2022-01-01", None]},
                         [["F1", "2023-01", 1000, 10], ["F1", "2023-02", 1000, 10]])
    _age(data)
    settings = Settings.make(tmp_path / "home", data)
    pipeline.run(settings, "kz-baseline")
    return settings


def test_after_a_run_the_scenario_is_up_to_date_and_another_is_not(case):
    assert up_to_date(case, "kz-baseline")
    assert not up_to_date(case, "kz-fee-10")  # never run
    assert not up_to_date(case, "xx-nowhere")  # unknown: the run refuses it by name


def test_a_changed_input_or_a_dropped_file_makes_it_stale(case):
    readings = case.data_dir / "energy_readings.csv"
    text = readings.read_text()
    readings.write_text(text.replace(",1000", ",2000", 1))  # new content, new modification time
    assert not up_to_date(case, "kz-baseline")
    readings.write_text(text)  # the old content back (its hash is remembered, but its time is new: racy)
    assert not up_to_date(case, "kz-baseline")
    _age(case.data_dir)
    pipeline.run(case, "kz-baseline")
    assert up_to_date(case, "kz-baseline")
    case.inbox_dir.mkdir(parents=True, exist_ok=True)
    (case.inbox_dir / "energy_readings-2023-03.csv").write_text(text)
    assert not up_to_date(case, "kz-baseline")


def test_a_changed_scheme_makes_it_stale(case, tmp_path):
    schemes = tmp_path / "schemes"
    shutil.copytree(case.schemes_dir, schemes)
    moved = Settings.make(case.home, case.data_dir, schemes)
    assert up_to_date(moved, "kz-baseline")  # the same scheme files elsewhere: the same version
    fee = schemes / "kz-mining-fee.yaml"
    fee.write_text(fee.read_text().replace("title:", "title: changed", 1))
    assert not up_to_date(moved, "kz-baseline")
