"""Data Docs pages from stored results, with Great Expectations' renderers and views (imports Great Expectations).

A result page is Great Expectations' own: the ExpectationSuiteValidationResult JSON loaded into its classes,
rendered by ValidationResultsPageRenderer and DefaultJinjaPageView. A rule written out in its suite
(meta.rule) is shown as written (the expectation's description), and a failed rule shows its sampled rows: the
value found, `_row` and the row's values. The run pages and the index are Great Expectations content blocks
(header, table, links) rendered by the same view; its own index page lists results with a JavaScript table loaded
from a CDN, which shows nothing offline.
"""

from __future__ import annotations

import json
import logging
import os
from importlib import resources
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)

from great_expectations.core.expectation_validation_result import (  # noqa: E402 - after the analytics switch
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: E402
from great_expectations.render import (  # noqa: E402
    RenderedDocumentContent,
    RenderedHeaderContent,
    RenderedSectionContent,
    RenderedStringTemplateContent,
    RenderedTableContent,
)
from great_expectations.render.renderer import ValidationResultsPageRenderer  # noqa: E402
from great_expectations.render.view import DefaultJinjaPageView  # noqa: E402


def custom_styles_dir() -> str:
    """The folder of data_docs_custom_styles.css (Great Expectations' custom-styles hook), packaged with minetax."""
    return str(resources.files("minetax.validate") / "data_docs")


def load(path: Path) -> ExpectationSuiteValidationResult:
    """A stored result as Great Expectations' object."""
    d = json.loads(path.read_text())
    evrs = [ExpectationValidationResult(success=r["success"], expectation_config=ExpectationConfiguration(
        **r["expectation_config"]), result=r["result"], meta=r.get("meta") or {}, exception_info=r.get(
        "exception_info")) for r in d["results"]]
    return ExpectationSuiteValidationResult(success=d["success"], results=evrs, suite_name=d["suite_name"],
                                            suite_parameters=d.get("suite_parameters") or {},
                                            statistics=d["statistics"], meta=d["meta"], id=d.get("id"))


def _view() -> DefaultJinjaPageView:
    return DefaultJinjaPageView(custom_styles_directory=custom_styles_dir())


def _write(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)


def page(json_path: Path, html_path: Path) -> None:
    """One suite's result page."""
    document = ValidationResultsPageRenderer().render(load(json_path))
    _write(html_path, _view().render(document))


def _link(text: str, href: str) -> RenderedStringTemplateContent:
    return RenderedStringTemplateContent(content_block_type="string_template", string_template={
        "template": "$text", "params": {"text": text}, "tag": "a", "styling": {"attributes": {"href": href}}})


def _status(success: bool) -> RenderedStringTemplateContent:
    return RenderedStringTemplateContent(content_block_type="string_template", string_template={
        "template": "$status", "params": {"status": "passed" if success else "FAILED"},
        "styling": {"params": {"status": {"classes": ["text-success" if success else "text-danger"]}}}})


def _document(title: str, heading: str, note: str, header_row: list[str], rows: list[list]) -> RenderedDocumentContent:
    blocks = [
        RenderedHeaderContent(content_block_type="header", header=RenderedStringTemplateContent(
            content_block_type="string_template", string_template={"template": "$heading",
                                                                   "params": {"heading": heading}, "tag": "h4"}),
            subheader=note, styling={"classes": ["col-12"], "header": {"classes": ["alert", "alert-secondary"]}}),
        RenderedTableContent(content_block_type="table", header_row=header_row, table=rows,
                             styling={"classes": ["col-12", "table-responsive"],
                                      "body": {"classes": ["table", "table-sm", "table-bordered"]}}),
    ]
    section = RenderedSectionContent(section_name=heading, content_blocks=blocks)
    return RenderedDocumentContent(sections=[section], renderer_type="SiteIndexPageRenderer", page_title=title)


def _summary(path: Path) -> dict:
    d = json.loads(path.read_text())
    failed = [r for r in d["results"] if not r["success"]]
    return {"suite": d["suite_name"], "target": d["meta"].get("batch_spec", {}).get("data_asset_name", ""),
            "success": d["success"], "rules": len(d["results"]), "failed": failed,
            "time": d["meta"].get("validation_time", "")}


def run_page(run_id: str, paths: list[Path], out: Path, root: Path) -> None:
    """One run: every suite it evaluated, failed ones first, with the failed rules and their counts."""
    summaries = sorted(((p, _summary(p)) for p in paths), key=lambda x: (x[1]["success"], x[1]["suite"]))
    rows = []
    for p, s in summaries:
        failed = "; ".join(f"{(r.get('meta') or {}).get('rule') or r['expectation_config']['type']} "
                           f"({r['result'].get('unexpected_count')} rows)" for r in s["failed"])
        rows.append([_status(s["success"]), _link(s["suite"], os.path.relpath(p.with_suffix(".html"), out.parent)),
                     s["target"], s["rules"], failed or "-"])
    ok = all(s["success"] for _, s in summaries)
    note = (f"{len(summaries)} suites, all passed" if ok else
            f"{sum(not s['success'] for _, s in summaries)} of {len(summaries)} suites failed") + \
        f" · all runs: {os.path.relpath(root / 'index.html', out.parent)}"
    _write(out, _view().render(_document(f"Validation of run {run_id}", f"Validation of run {run_id}", note,
                                         ["Status", "Suite", "Checked", "Rules", "Failed rules"], rows)))


def index(by_run: dict[str, list[Path]], out: Path, root: Path) -> None:
    """Every run, newest first: its status, suites and failed suites, linked to its page."""
    rows = []
    for run_id, paths in by_run.items():
        summaries = [_summary(p) for p in paths]
        bad = [s for s in summaries if not s["success"]]
        run_html = root / "runs" / f"{run_id}.html"
        rows.append([_status(not bad), _link(run_id, os.path.relpath(run_html, out.parent)),
                     min((s["time"] for s in summaries), default=""), len(summaries),
                     ", ".join(f"{s['suite']} ({s['target']})" for s in bad) or "-"])
    _write(out, _view().render(_document("minetax validation reports", "minetax validation reports",
                                         f"{len(rows)} run{'s' if len(rows) != 1 else ''}, newest first",
                                         ["Status", "Run", "Run time", "Suites", "Failed suites"], rows)))
