"""Validation reports for people: each run's results in Great Expectations' format, rendered as Data Docs HTML.

Layout under MINETAX_HOME/docs/validation/ (Great Expectations' own: a validation results store keeps the same
paths, and each page's "Home" link, computed by Great Expectations from that depth, leads to the index):

    index.html                                           every run, newest first, with its failed suites
    runs/<run_id>.html                                   one run: each suite it evaluated, passed or failed
    validations/<suite as folders>/<run_id>/<run_time>/<target>.json   ExpectationSuiteValidationResult JSON
                                                          .html        its page (ValidationResultsPageRenderer)

`save` writes the JSON (no Great Expectations import: it runs as the run ends); `render` makes the HTML from it with
Great Expectations' renderer and view (about 3 s to import Great Expectations, so it is done after a run, or
lazily by `minetax docs`), and can rebuild every page from the JSON. The pages and the index are readable offline:
Great Expectations' Data Docs load Bootstrap and Font Awesome from CDNs, so a small style sheet, passed through
its own custom-styles hook (data_docs/data_docs_custom_styles.css), lays out tables and status icons without them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from pathlib import Path

from minetax.config import Settings
from minetax.validate import gx_results
from minetax.validate.suites import Report

log = logging.getLogger(__name__)


def folder(settings: Settings) -> Path:
    return settings.home / "docs" / "validation"


def index_path(settings: Settings, run_id: str | None = None) -> Path:
    """The Data Docs index (every run), or one run's page listing its suites (built by `render`)."""
    root = folder(settings)
    return root / "index.html" if run_id is None else root / "runs" / f"{_slug(run_id)}.html"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "-"


def run_time(run_id: str) -> str:
    """The run's start as Great Expectations writes a run time, from the run id (YYYYMMDDTHHMMSSZ-xxxxxx)."""
    try:
        start = dt.datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ")
    except ValueError:
        start = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return start.strftime("%Y%m%dT%H%M%S.%fZ")


def result_path(settings: Settings, run_id: str, suite: str, target: str) -> Path:
    """Where one suite's result on one target is kept (.json; the page beside it is .html)."""
    return (folder(settings) / "validations" / Path(*suite.split(".")) / _slug(run_id) / run_time(run_id)
            / f"{_slug(target)}.json")


def save(settings: Settings, run_id: str, reports: list[Report], engine: str | None = None) -> list[Path]:
    """Write each report as ExpectationSuiteValidationResult JSON (a later save of the same suite and target in
    the same run, e.g. a backfill's next period, replaces it). No Great Expectations import."""
    if engine is None:
        from minetax.validate.checks import engine as current

        engine = current()
    when = dt.datetime.strptime(run_time(run_id), "%Y%m%dT%H%M%S.%fZ").isoformat() + "Z"
    paths = []
    for report in reports:
        path = result_path(settings, run_id, report.suite, report.target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(gx_results.suite_result(report, run_id, when, engine), indent=1, default=str))
        os.replace(tmp, path)
        paths.append(path)
    return paths


def record(settings: Settings, run_id: str, reports: list[Report], render_now: bool = False) -> Path | None:
    """Save the run's results (and render its pages when `render_now`: a refused run's report is the one people
    need at once). Never raises: a report that cannot be written must not fail a run nor hide why it failed."""
    try:
        save(settings, run_id, reports)
        return render(settings, run_id) if render_now else index_path(settings, run_id)
    except Exception as e:  # noqa: BLE001 - the run's own outcome matters more than its report
        log.warning("validation report of run %s not written: %s", run_id, e)
        return None


def results(settings: Settings, run_id: str | None = None) -> list[Path]:
    """The stored result JSON files (of one run, or all), in path order."""
    root = folder(settings) / "validations"
    if not root.is_dir():
        return []
    found = sorted(root.rglob("*.json"))
    return [p for p in found if run_id is None or p.parent.parent.name == _slug(run_id)]


def runs_with_results(settings: Settings) -> dict[str, list[Path]]:
    """Run id -> its result files, newest run first."""
    by_run: dict[str, list[Path]] = {}
    for p in results(settings):
        by_run.setdefault(p.parent.parent.name, []).append(p)
    return dict(sorted(by_run.items(), reverse=True))


def failed_pages(settings: Settings, run_id: str) -> list[Path]:
    """The pages of the suites that failed in a run (rendered or not yet)."""
    return [p.with_suffix(".html") for p in results(settings, run_id) if not json.loads(p.read_text())["success"]]


def render(settings: Settings, run_id: str | None = None, force: bool = False) -> Path:
    """Render the pages whose HTML is missing or older than their JSON (all when `force`), the run pages and the
    index, with Great Expectations' renderers. Returns the index (or the run's page when `run_id` is given)."""
    from minetax.validate import render as gx_render

    by_run = runs_with_results(settings)
    todo = by_run if run_id is None else {k: v for k, v in by_run.items() if k == _slug(run_id)}
    for rid, paths in todo.items():
        fresh = [p for p in paths if force or not _is_current(p)]
        for p in fresh:
            gx_render.page(p, p.with_suffix(".html"))
        if fresh or not index_path(settings, rid).exists():
            gx_render.run_page(rid, paths, index_path(settings, rid), folder(settings))
    gx_render.index(by_run, index_path(settings), folder(settings))
    return index_path(settings, run_id)


def _is_current(json_path: Path) -> bool:
    html = json_path.with_suffix(".html")
    return html.exists() and html.stat().st_mtime_ns >= json_path.stat().st_mtime_ns

