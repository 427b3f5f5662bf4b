"""Runs visible in Prefect: the flows' log lines and artifacts, read back through a real server's REST API.

One process runs three flows against the session's Prefect server (PREFECT_API_URL): a run that publishes, a
backfill of one tax period, and a run refused by a bad input; the tests then read /api/logs/filter and
/api/artifacts/filter for each flow run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from minetax.config import Settings
from minetax.validate import docs
from tests.conftest import make_data_dir, prefect_api

SCRIPT = textwrap.dedent("""
    import json, sys
    from flows.pipeline import call

    home, data, bad = sys.argv[1:4]
    out = {}
    backfill = {"data_dir": data, "m_from": "2023-02", "m_to": "2023-02"}
    for name, flow, params in [("run", "run_flow", {"data_dir": data}), ("backfill", "backfill_flow", backfill),
                               ("bad", "run_flow", {"data_dir": bad})]:
        state = call(flow, None, home=home, scenario_id="kz-baseline", **params)
        out[name] = {"id": str(state.state_details.flow_run_id), "type": state.type.value, "message": state.message}
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def runs(prefect_server, tmp_path_factory):
    url, env, base, data = prefect_server
    tmp = tmp_path_factory.mktemp("artifacts")
    bad = make_data_dir(tmp / "bad", {"B1": ["coal", "grid", True, "2022-01-01", None]}, [["B9", "2023-01", 1000, 10]])
    home = tmp / "home"
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(home), str(data), str(bad)], env=env, capture_output=True,
                       text=True, timeout=600, cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if {k: v["type"] for k, v in out.items()} != {"run": "COMPLETED", "backfill": "COMPLETED", "bad": "FAILED"}:
        pytest.fail(json.dumps(out, indent=1) + "\n" + r.stderr[-5000:], pytrace=False)
    return url, home, {k: v["id"] for k, v in out.items()}


def _logs(url: str, flow_run_id: str) -> list[str]:
    body = {"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "sort": "TIMESTAMP_ASC", "limit": 200}
    return [r["message"] for r in prefect_api(url, "/logs/filter", body)]


def _artifacts(url: str, flow_run_id: str) -> dict[str, dict]:
    found = prefect_api(url, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})
    return {a["key"]: a for a in found if a["key"]}  # Prefect's own (unkeyed) ones, e.g. a failed run's result


def _table(artifact: dict) -> list[dict]:
    data = artifact["data"]
    return json.loads(data) if isinstance(data, str) else data


def _link(artifact: dict) -> Path:
    """The file a link artifact points to: Prefect keeps a link as markdown, [text](file:///…)."""
    m = re.fullmatch(r"\[.*\]\((file://[^)]+)\)", artifact["data"])
    assert m, artifact["data"]
    return Path(unquote(urlparse(m.group(1)).path))


def test_run_logs_files_periods_and_durations(runs):
    url, _, ids = runs
    text = "\n".join(_logs(url, ids["run"]))
    assert "file farms.csv: dataset farms, loaded, 1 rows" in text
    assert "file energy_readings.csv: dataset energy_readings, loaded, 1 rows" in text
    assert "file network_daily.csv: dataset network_daily, loaded" in text
    assert "estimate: periods recomputed all months" in text  # the first run of the scenario
    for stage in ("ingest", "publish"):
        assert f"{stage}: " in text and " s\n" in text
    assert "published " in text and "report: " in text


def test_run_artifacts_revenue_validation_and_links(runs):
    url, home, ids = runs
    found = _artifacts(url, ids["run"])
    assert set(found) == {"minetax-revenue-kz-baseline", "minetax-validation-kz-baseline", "minetax-snapshot",
                          "minetax-report-kz-baseline", "minetax-validation-report"}
    revenue = found["minetax-revenue-kz-baseline"]
    assert revenue["type"] == "markdown"
    assert "| kz-mining-fee | 2023 |" in revenue["data"] and "| kz-cit | 2023 |" in revenue["data"]
    assert "tax low KZT | tax central KZT | tax high KZT" in revenue["data"]
    assert "| 25,000 |" in revenue["data"]  # 1000 kWh at an average price of 10 -> 25 KZT/kWh (central)
    table = _table(found["minetax-validation-kz-baseline"])
    suites = {r["suite"] for r in table}
    assert {"input.farms", "input.energy_readings", "output.estimates", "output.farm_month"} <= suites
    assert all(r["failures"] == 0 and r["rules"] > 0 for r in table)
    assert {"farms.csv", "energy_readings.csv", "tax.estimates[kz-mining-fee]"} <= {r["target"] for r in table}
    links = {k: _link(a) for k, a in found.items() if k not in ("minetax-revenue-kz-baseline",
                                                                   "minetax-validation-kz-baseline")}
    assert links["minetax-snapshot"] == home.resolve() / "published" / "minetax.duckdb"
    assert links["minetax-report-kz-baseline"].parent == home.resolve() / "reports"
    assert links["minetax-report-kz-baseline"].read_text().startswith("<!doctype html>")
    page = links["minetax-validation-report"]  # the run's Data Docs page, rendered by the flow
    assert page.parent == docs.folder(Settings.make(home)).resolve() / "runs" and "<html" in page.read_text()
    assert links["minetax-snapshot"].exists() and links["minetax-report-kz-baseline"].exists()


def test_backfill_logs_its_periods(runs):
    url, _, ids = runs
    text = "\n".join(_logs(url, ids["backfill"]))
    assert "estimate: periods recomputed 2023-01..2023-12 (backfill)" in text  # kz-cit's tax period is the year
    assert "backfill 2023-02..2023-02: recomputed 1 tax periods: 2023-01..2023-12" in text
    assert "file farms.csv: dataset farms, unchanged" in text
    assert {"minetax-revenue-kz-baseline", "minetax-validation-kz-baseline"} <= set(_artifacts(url, ids["backfill"]))


def test_failed_run_shows_the_rejected_file_and_its_failed_rules(runs):
    url, _, ids = runs
    text = "\n".join(_logs(url, ids["bad"]))
    assert "file energy_readings.csv: dataset energy_readings, quarantined" in text
    assert "ingest failed after" in text and "nothing was published" in text
    found = _artifacts(url, ids["bad"])
    assert {"minetax-revenue-kz-baseline", "minetax-snapshot", "minetax-report-kz-baseline"}.isdisjoint(found)
    assert "minetax-validation-kz-baseline" in found  # nothing published: no revenue, no snapshot, no report
    table = _table(found["minetax-validation-kz-baseline"])
    readings = [r for r in table if r["suite"] == "input.energy_readings"]
    assert readings and readings[0]["failures"] >= 1 and readings[0]["unexpected_rows"] >= 1
    assert "failed, nothing published" in found["minetax-validation-kz-baseline"]["description"]
    page = _link(found["minetax-validation-report"])  # the refused run's Data Docs page, with its failed rule
    assert page.exists() and "input.energy_readings" in page.read_text()
