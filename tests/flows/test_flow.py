"""The Prefect flow runs under prefect_test_harness (a temporary Prefect API) and publishes."""

from __future__ import annotations

import duckdb
import pytest
from prefect.testing.utilities import prefect_test_harness

from minetax.errors import InputError
from tests.conftest import make_data_dir


@pytest.fixture(scope="module")
def harness():
    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_flow_publishes(harness, tmp_path):
    from flows.pipeline import run_flow

    data = make_data_dir(tmp_path / "data", {"P1": ["coal", "grid", True, "2022-01-01", None]},
                         [["P1", "2023-01", 1000, 10]])
    out = run_flow(home=str(tmp_path / "home"), data_dir=str(data), scenario_id="kz-baseline")
    con = duckdb.connect(out["published"], read_only=True)
    run = con.execute("SELECT run_id, flow_run_id, status FROM runs").fetchall()
    tax = con.execute("SELECT tax_kzt FROM estimates WHERE period_start = '2023-01-01' "
                      "AND scheme_id = 'kz-mining-fee'").fetchone()[0]
    con.close()
    assert run == [(out["run_id"], run[0][1], "succeeded")] and run[0][1]  # the Prefect flow run id is kept
    assert tax == 25000  # 1000 kWh at an average price of 10 -> 25 KZT/kWh


def test_flow_fails_on_bad_input(harness, tmp_path):
    from flows.pipeline import run_flow

    data = make_data_dir(tmp_path / "data", {"P1": ["coal", "grid", True, "2022-01-01", None]},
                         [["P9", "2023-01", 1000, 10]])
    state = run_flow(home=str(tmp_path / "home"), data_dir=str(data), return_state=True)
    assert state.is_failed()
    assert isinstance(state.result(raise_on_failure=False), InputError)
