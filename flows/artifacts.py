"""What a flow run shows in Prefect: its steps as lines of the run's log, and artifacts for people.

Log lines (Prefect's run logger, so they reach the server with the run): each input file (name, dataset, status,
rows), each step's wall time, and the tax periods estimate recomputed. They come from what minetax.pipeline
collected on the run's context (`RunContext.files`, `RunContext.stages`); the library itself knows nothing of Prefect.

Artifacts, under stable keys (the same key every run, so the UI keeps their history):
  minetax-revenue-<scenario>      markdown: revenue by scheme and year with the low/central/high band
  minetax-validation-<scenario>   table: the run's validation results (suite, target, rules, failures, rows)
  minetax-snapshot                link: the published snapshot
  minetax-report-<scenario>       link: the HTML report the run wrote to MINETAX_HOME/reports/ (what
                                  `minetax report --format html --out MINETAX_HOME/reports` writes)
  minetax-validation-report       link: the run's page of the validation Data Docs under MINETAX_HOME/docs/validation/
                                  (minetax.validate.docs.index_path), rendered by the flow
Revenue and validation results are read back from the published snapshot (minetax.publish.query, the queries in
sql/export/flow_*.sql), so they show what was published; a failed run shows the validation results it recorded
(and the link to their Data Docs). On Prefect's temporary API (`minetax run`) nobody sees the artifacts: the report
and the Data Docs pages are not made there (`pages=False`; `minetax report` and `minetax docs` make them).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from minetax import db
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.load.ingest import InputFile
from minetax.pipeline import Stage
from minetax.publish.query import run_query
from minetax.validate import docs
from minetax.validate.suites import Report

Logger = logging.Logger | logging.LoggerAdapter[Any]


def key(*parts: str) -> str:
    """An artifact key Prefect accepts (lowercase letters, digits, dashes): 'minetax-' and the parts."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(("minetax", *parts)).lower()).strip("-")


# ---- log lines --------------------------------------------------------------------------------------------------

def log_files(logger: Logger, files: list[InputFile]) -> None:
    for f in files:
        where = " (drop folder)" if f.origin == "inbox" else ""
        logger.info("file %s%s: dataset %s, %s, %s rows", f.path.name, where, f.dataset, f.status, f"{f.rows:,}")
    if not files:
        logger.info("no input files")


def log_stage(logger: Logger, stage: Stage) -> None:
    if stage.name == "estimate":
        logger.info("estimate: periods recomputed %s, %.2f s", stage.periods or "(none)", stage.seconds)
        if stage.map:
            logger.info("map: %d tasks for the window, %d run (%d readings; the rest unchanged), %.2f s",
                        stage.map["tasks"], stage.map["run"], stage.map["rows"], stage.map["seconds"])
    else:
        logger.info("%s: %.2f s", stage.name, stage.seconds)


# ---- artifacts --------------------------------------------------------------------------------------------------

def _money(v: Any) -> str:
    return "" if v is None or v != v else f"{v:,.0f}"


def revenue_markdown(settings: Settings, scenario_id: str, run_id: str) -> str:
    """Revenue by scheme and year with its band, from the published snapshot, as a markdown table."""
    df = run_query(settings, db.sql_text("export/flow_revenue.sql"), {"scenario_id": scenario_id})
    lines = [f"## Revenue by scheme and year: scenario {scenario_id}", "",
             f"Run {run_id}. Tax in KZT, with the low and high end of the band; base in GWh.", "",
             "| scheme | year | tax periods | base GWh | tax low KZT | tax central KZT | tax high KZT |",
             "|---|---|--:|--:|--:|--:|--:|"]
    lines += [f"| {r.scheme_id} | {r.year} | {r.periods} | {r.base_kwh / 1e6:,.1f} | {_money(r.tax_low_kzt)} | "
              f"{_money(r.tax_kzt)} | {_money(r.tax_high_kzt)} |" for r in df.itertuples()]
    if df.empty:
        lines.append("| (no estimates published for this scenario) | | | | | | |")
    return "\n".join(lines)


def published_validations(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    df = run_query(settings, db.sql_text("export/flow_validations.sql"), {"run_id": run_id})
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in df.to_dict("records")]


def recorded_validations(reports: list[Report]) -> list[dict[str, Any]]:
    """The same rows from the reports of a run that was not published (it failed)."""
    return [{"suite": r.suite, "target": r.target, "rules": len(r.results), "failures": len(r.failures),
             "unexpected_rows": sum(int(x.get("unexpected_count") or 0) for x in r.failures)} for r in reports]


def validation_table(scenario_id: str, run_id: str, rows: list[dict[str, Any]], failed: bool = False) -> None:
    bad = sum(1 for r in rows if r["failures"])
    what = "failed, nothing published" if failed else "published"
    create_table_artifact(rows or [{"suite": "(no suite ran)", "target": "", "rules": 0, "failures": 0,
                                    "unexpected_rows": 0}], key=key("validation", scenario_id),
                          description=f"Validation results of run {run_id} ({what}): {len(rows)} suite runs, "
                                      f"{bad} with failures.")


def write_report(settings: Settings, scenario_id: str, logger: Logger) -> Path | None:
    """The HTML report of the scenario as published (what `minetax report --format html` writes), in
    MINETAX_HOME/reports/; None (and a warning) if it could not be written: the run itself has succeeded."""
    from minetax.outputs.export import context
    from minetax.outputs.report import write_html

    try:
        return write_html(settings, context(settings, scenario_id), settings.home / "reports", True)
    except (MinetaxError, OSError) as e:
        logger.warning("report not written: %s", str(e).splitlines()[0] if str(e) else type(e).__name__)
        return None


def validation_docs(settings: Settings, run_id: str, logger: Logger, render: bool = True) -> Path:
    """The run's page of the validation Data Docs (minetax.validate.docs), rendered now when `render` and the run's
    results are stored; the Data Docs folder when they are not (yet)."""
    if not docs.results(settings, run_id):
        logger.warning("no validation results stored for run %s under %s", run_id, docs.folder(settings))
        return docs.folder(settings)
    if render:
        try:
            docs.render(settings, run_id)
        except Exception as e:  # a page that cannot be rendered must not fail a run that has published
            logger.warning("validation Data Docs not rendered: %s (`minetax docs --rebuild` retries)", e)
    return docs.index_path(settings, run_id)


def links(settings: Settings, scenario_id: str, run_id: str, snapshot: Path | None, report: Path | None,
          validation: Path) -> None:
    if snapshot is not None:
        create_link_artifact(snapshot.resolve().as_uri(), link_text=str(snapshot), key=key("snapshot"),
                             description=f"Published snapshot of run {run_id}: query it with `minetax sql` or DuckDB.")
    if report is not None:
        create_link_artifact(report.resolve().as_uri(), link_text=report.name, key=key("report", scenario_id),
                             description=f"HTML report of scenario {scenario_id}, run {run_id}.")
    create_link_artifact(validation.resolve().as_uri(), link_text=str(validation), key=key("validation-report"),
                         description=f"Validation results of run {run_id} as Great Expectations Data Docs.")


def published(settings: Settings, scenario_id: str, run_id: str, snapshot: Path, logger: Logger,
              pages: bool = True) -> None:
    """Every artifact of a published run: revenue, validation results, links. `pages`: first write the HTML report
    and render the run's validation Data Docs (a few seconds), so that the links lead to them."""
    create_markdown_artifact(revenue_markdown(settings, scenario_id, run_id), key=key("revenue", scenario_id),
                             description=f"Revenue by scheme and year, scenario {scenario_id}, run {run_id}.")
    validation_table(scenario_id, run_id, published_validations(settings, run_id))
    t0 = time.perf_counter()
    report = write_report(settings, scenario_id, logger) if pages else None
    if report is not None:
        logger.info("report: %s, %.2f s", report, time.perf_counter() - t0)
    t0 = time.perf_counter()
    validation = validation_docs(settings, run_id, logger, pages)
    logger.info("validation report: %s, %.2f s", validation, time.perf_counter() - t0)
    links(settings, scenario_id, run_id, snapshot, report, validation)


def failed(settings: Settings, scenario_id: str, run_id: str, reports: list[Report], logger: Logger,
           pages: bool = True) -> None:
    """The artifacts of a run that failed: the validation results it recorded and a link to their Data Docs."""
    validation_table(scenario_id, run_id, recorded_validations(reports), failed=True)
    if docs.results(settings, run_id):
        validation = validation_docs(settings, run_id, logger, pages)
        logger.info("validation report: %s", validation)
        links(settings, scenario_id, run_id, None, None, validation)
