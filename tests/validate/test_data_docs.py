"""Validation reports for people: every run's results kept in Great Expectations' format and rendered as Data Docs
with its renderer, opened in a real headless browser (Debian's chromium).

One home, two runs: a good one (every suite passes) and one refused for a negative kWh. The refused run's page must
show the failed rule and the failed row (its value, row number and farm) in what the browser renders.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.validate import docs
from tests.conftest import make_data_dir, wait_for

IN_CI = bool(os.environ.get("CI"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(not CHROMIUM and not IN_CI, reason="chromium is not installed here")
FARMS = {"A1": ["coal", "grid", True, "2022-01-01", None], "B2": ["hydro", "grid", True, "2022-01-01", None]}


def _run(settings: Settings, data_dir: Path) -> tuple[str, bool]:
    """One run through the pipeline's steps, recording its validation report as the run ends (saved when it
    commits; saved and rendered when it fails). Returns the run id and whether it was published."""
    ctx = pipeline.begin(Settings.make(settings.home, data_dir), "kz-baseline")
    try:
        pipeline.ingest(ctx)
        pipeline.estimate(ctx)
        docs.record(ctx.settings, ctx.run_id, ctx.reports)
        pipeline.publish(ctx)
        return ctx.run_id, True
    except Exception as e:
        docs.record(ctx.settings, ctx.run_id, [*ctx.reports, *getattr(e, "reports", [])], render_now=True)
        pipeline.fail(ctx, e)
        return ctx.run_id, False


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Settings, str, str]:
    base = tmp_path_factory.mktemp("docs")
    settings = Settings.make(base / "home")
    good = make_data_dir(base / "good", FARMS, [["A1", "2023-03", 1000.0, 12.0], ["B2", "2023-03", 700.0, 10.0]])
    bad = make_data_dir(base / "bad", FARMS, [["A1", "2023-03", 1000.0, 12.0], ["B2", "2023-03", -7.5, 10.0]])
    ok_id, published = _run(settings, good)
    assert published
    bad_id, published = _run(settings, bad)
    assert not published
    return settings, ok_id, bad_id


def _browser(url: str, tmp: Path, *args: str) -> str:
    """Chromium, headless and offline, on a page: its DOM after scripts ran (--dump-dom) or a --screenshot."""
    assert CHROMIUM, "chromium is not installed (apt-get install -y chromium)"
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp / 'chromium'}",
                          *args, url], capture_output=True, text=True, timeout=120, check=True)
    return out.stdout


def _text(dom: str) -> str:
    """What the page shows: the DOM without scripts, styles and tags, spaces collapsed."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom)))


def _page(settings: Settings, run_id: str, suite: str, target: str) -> Path:
    return docs.result_path(settings, run_id, suite, target).with_suffix(".html")


@needs_chromium
def test_a_refused_run_shows_the_failed_rule_and_row_in_a_browser(runs, tmp_path):
    settings, _, bad_id = runs
    page = _page(settings, bad_id, "input.energy_readings", "energy_readings.csv")
    assert page.exists(), "a refused run's page is rendered as the run ends"
    assert docs.failed_pages(settings, bad_id) == [page]
    shown = _text(_browser(page.as_uri(), tmp_path, "--dump-dom"))
    assert "Failed" in shown and "input.energy_readings" in shown and "energy_readings.csv" in shown
    rule = shown.index("values must be greater than or equal to 0")  # GE's text of the failed kwh rule
    table = shown[rule:rule + 600]
    assert "1 unexpected values found" in table
    assert re.search(r"Unexpected Value Count _row farm_id ts_start ts_end price_kzt_per_kwh -7\.5 1 2 B2 "
                     r"2023-03-01 00:00:00 2023-04-01 00:00:00 10(\.0)?", table), table
    shot = tmp_path / "refused.png"
    _browser(page.as_uri(), tmp_path, "--window-size=1280,2400", f"--screenshot={shot}")
    assert shot.stat().st_size > 50_000  # a page, not a blank (MINETAX_KEEP_SCREENSHOTS=FILE keeps it to look at)
    if os.environ.get("MINETAX_KEEP_SCREENSHOTS"):
        shutil.copy(shot, os.environ["MINETAX_KEEP_SCREENSHOTS"])


@needs_chromium
def test_a_successful_run_has_its_pages_and_the_index_lists_both_runs(runs, tmp_path):
    settings, ok_id, bad_id = runs
    assert not docs.failed_pages(settings, ok_id)
    docs.render(settings)  # the good run's pages: rendered after the run, here or by `minetax docs`
    run_page = docs.index_path(settings, ok_id)
    shown = _text(_browser(run_page.as_uri(), tmp_path, "--dump-dom"))
    assert f"Validation of run {ok_id}" in shown and "all passed" in shown
    for suite in ("input.farms", "input.energy_readings", "output.estimates", "output.farm_month"):
        assert suite in shown
    assert "FAILED" not in shown
    estimates = _page(settings, ok_id, "output.estimates", "tax.estimates[kz-mining-fee]")
    shown = _text(_browser(estimates.as_uri(), tmp_path, "--dump-dom"))
    assert "Status: Succeeded" in shown and "Unsuccessful Expectations 0" in shown
    index = _text(_browser(docs.index_path(settings).as_uri(), tmp_path, "--dump-dom"))
    assert index.index(bad_id) < index.index(ok_id)  # newest first
    assert re.search(rf"FAILED {bad_id} \S+ \d+ input\.energy_readings \(energy_readings\.csv\)", index), index
    assert re.search(rf"passed {ok_id} ", index)


def test_results_are_kept_in_great_expectations_format(runs):
    """The stored JSON is what Great Expectations' own classes make of it, and pages can be rebuilt from it."""
    from minetax.validate import render

    settings, _, bad_id = runs
    stored = docs.result_path(settings, bad_id, "input.energy_readings", "energy_readings.csv")
    doc = json.loads(stored.read_text())
    assert render.load(stored).to_json_dict() == doc
    failed = [r for r in doc["results"] if not r["success"]]
    assert [r["expectation_config"]["type"] for r in failed] == ["expect_column_values_to_be_between"]
    result = failed[0]["result"]
    assert (result["element_count"], result["unexpected_count"], result["partial_unexpected_list"]) == (2, 1, [-7.5])
    assert result["partial_unexpected_index_list"][0]["_row"] == 2
    assert result["partial_unexpected_index_list"][0]["farm_id"] == "B2"
    page = stored.with_suffix(".html")
    page.unlink()
    docs.render(settings, bad_id)
    assert page.exists()


def _minetax(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minetax.cli", *args], capture_output=True, text=True,
                          timeout=300, **kw)


def test_runs_and_docs_commands_say_where_the_reports_are(runs):
    settings, ok_id, bad_id = runs
    out = _minetax("runs", "--home", str(settings.home))
    assert out.returncode == 0, out.stderr
    text = re.sub(r"\s+", " ", out.stdout)
    for run_id in (ok_id, bad_id):
        assert f"{run_id} {docs.index_path(settings, run_id).relative_to(docs.folder(settings))}" in text
    out = _minetax("docs", "--home", str(settings.home), "--run", bad_id)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == str(docs.index_path(settings, bad_id))
    assert lines[1] == f"failed: {_page(settings, bad_id, 'input.energy_readings', 'energy_readings.csv')}"
    out = _minetax("docs", "--home", str(settings.home), "--run", "no-such-run")
    assert out.returncode == 1 and out.stderr.startswith("error: no validation results for run 'no-such-run'")


def test_docs_serves_the_reports_on_loopback_until_ctrl_c(runs):
    settings, _, bad_id = runs
    proc = subprocess.Popen([sys.executable, "-m", "minetax.cli", "docs", "--serve", "--port", "0", "--home",
                             str(settings.home)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        url = re.search(r"at (http://127\.0\.0\.1:\d+/\S+)", line)
        assert url, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        with urllib.request.urlopen(url.group(1), timeout=30) as r:
            assert bad_id in r.read().decode()
        proc.send_signal(signal.SIGINT)
        wait_for(lambda: proc.poll() is not None, 30, "minetax docs --serve to stop on Ctrl-C")
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
