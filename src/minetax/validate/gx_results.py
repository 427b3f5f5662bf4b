"""A suite's Report in Great Expectations' own result format (ExpectationSuiteValidationResult JSON), GE-free.

Whichever engine evaluated a suite (DuckDB by default), the result is kept as Great Expectations writes it, so that
its renderers make the Data Docs pages (minetax.validate.docs) and any Great Expectations tool can read it. Built
without importing Great Expectations (about 3 s per process): the JSON has the shape of
`ExpectationSuiteValidationResult.to_json_dict()`, which tests/validate/test_data_docs.py checks by loading it into
Great Expectations' classes and comparing.

Per rule: success, element and unexpected counts, and for a failed rule its example rows (up to 20, as
`partial_unexpected_count`) as `partial_unexpected_list` (the values found), `partial_unexpected_counts`,
`partial_unexpected_index_list` and `unexpected_index_list` (the same sampled rows: `_row` and the row's
values, `unexpected_index_column_names`), from minetax.validate.unexpected.
"""

from __future__ import annotations

import json
from importlib import metadata

from minetax.validate.suites import Report, load_suite_doc
from minetax.validate.unexpected import config_of, domain_columns


def ge_version() -> str:
    try:
        return metadata.version("great_expectations")
    except metadata.PackageNotFoundError:
        return "unknown"


def suite_result(report: Report, run_id: str, run_time: str, engine: str) -> dict:
    """The ExpectationSuiteValidationResult JSON of one suite on one target. `run_time`: ISO 8601, UTC."""
    doc = load_suite_doc(report.suite)
    results = [expectation_result(config_of(doc, r), r, report.target) for r in report.results]
    passed = sum(1 for r in results if r["success"])
    return {
        "success": all(r["success"] for r in results),
        "results": results,
        "suite_name": report.suite,
        "suite_parameters": {},
        "statistics": {"evaluated_expectations": len(results), "successful_expectations": passed,
                       "unsuccessful_expectations": len(results) - passed,
                       "success_percent": 100.0 * passed / len(results) if results else None},
        "meta": {"great_expectations_version": ge_version(),
                 "run_id": {"run_name": run_id, "run_time": run_time},
                 "validation_time": run_time,
                 "batch_spec": {"data_asset_name": report.target, "engine": engine},
                 "minetax": {"run_id": run_id, "target": report.target, "engine": engine,
                             "about": doc.get("meta", {}).get("about")}},
        "id": None,
    }


def expectation_result(cfg: dict | None, r: dict, target: str) -> dict:
    """One rule's ExpectationValidationResult JSON."""
    if cfg is None:  # a rule no longer in the suite file: described by the result alone
        cfg = {"type": r["expectation"], "kwargs": {"column": r["column"]} if r["column"] else {},
               "meta": {"rule": r["rule"]}}
    n, bad = r.get("element_count"), r.get("unexpected_count")
    result: dict = {"element_count": n, "unexpected_count": bad,
                    "unexpected_percent": 100.0 * bad / n if n and bad is not None else (0.0 if n == 0 else None),
                    "partial_unexpected_list": []}
    rows = r.get("unexpected_rows") or []
    if rows:
        domain = [c for c in domain_columns(cfg) if c in rows[0]]
        values = [row[domain[0]] if len(domain) == 1 else {c: row[c] for c in domain} for row in rows]
        result.update({"partial_unexpected_list": values,
                       "unexpected_index_column_names": list(r.get("index_columns") or ["_row"]),
                       "partial_unexpected_counts": _counts(values),
                       "partial_unexpected_index_list": rows, "unexpected_index_list": rows})
    elif r.get("example_rows"):
        result.update({"unexpected_index_column_names": ["_row"],
                       "partial_unexpected_index_list": [{"_row": int(x)} for x in r["example_rows"]]})
    error = r.get("error")
    return {
        "success": bool(r["success"]),
        "expectation_config": _config(cfg, target),
        "result": result,
        "meta": {"rule": r["rule"], "column": r["column"]},
        "exception_info": {"raised_exception": bool(error), "exception_traceback": None,
                           "exception_message": error},
    }


def _config(cfg: dict, target: str) -> dict:
    """The suite entry as an ExpectationConfiguration; a rule written out in the suite (meta.rule, e.g. for a
    check column `ts_parses_ok`) is its description, which Data Docs show instead of the generic template."""
    out = {"type": cfg["type"], "kwargs": {**cfg["kwargs"], "batch_id": target}, "meta": dict(cfg.get("meta") or {}),
           "severity": "critical"}
    rule = out["meta"].get("rule")
    if rule:
        out["description"] = rule
    return out


def _counts(values: list) -> list[dict]:
    """Great Expectations' partial_unexpected_counts: each value with how often it is among the examples, most
    frequent first."""
    seen: dict[str, dict] = {}
    for v in values:
        key = json.dumps(v, sort_keys=True, default=str)
        seen.setdefault(key, {"value": v, "count": 0})["count"] += 1
    return sorted(seen.values(), key=lambda d: -d["count"])
