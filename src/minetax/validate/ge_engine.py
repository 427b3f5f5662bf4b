"""Great Expectations suites (expectations/*.json) run on frames; results as plain rows.

Suites are JSON files reviewed like code. By default a run evaluates them inside DuckDB (minetax.validate.suite_sql);
this module is the Great Expectations engine itself, used when MINETAX_VALIDATION_ENGINE=great_expectations and
by the tests that hold the DuckDB engine equal to it (minetax.validate.checks). `_row` (the row number in the file)
points at bad rows.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cached_property
from typing import TYPE_CHECKING

from minetax.validate.suites import Report, describe, load_suite_doc, result_column

if TYPE_CHECKING:
    import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
logging.getLogger("great_expectations").setLevel(logging.WARNING)


class Validator:
    """One ephemeral Great Expectations context per process, reused for every suite."""

    @cached_property
    def _gx(self):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        for name in ("great_expectations", "great_expectations.data_context.types.base"):
            logging.getLogger(name).setLevel(logging.WARNING)  # after GE's and Prefect's logging setup
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        return gx, ctx, ctx.data_sources.add_pandas("minetax")

    def validate(self, suite_name: str, df: pd.DataFrame, target: str) -> Report:
        gx, ctx, source = self._gx
        doc = load_suite_doc(suite_name)
        suite = gx.ExpectationSuite(name=doc["name"], expectations=doc["expectations"], meta=doc.get("meta"))
        asset_name = suite_name.replace(".", "_")
        try:
            asset = source.get_asset(asset_name)
        except LookupError:
            asset = source.add_dataframe_asset(name=asset_name)
        batch_def = (asset.batch_definitions[0] if asset.batch_definitions
                     else asset.add_batch_definition_whole_dataframe("whole"))
        batch = batch_def.get_batch(batch_parameters={"dataframe": df})
        index_cols = ["_row"] if "_row" in df.columns else []
        res = batch.validate(suite, result_format={"result_format": "SUMMARY",
                                                   "unexpected_index_column_names": index_cols})
        report = Report(suite_name, target)
        by_key = {_key(c["type"], c["kwargs"]): c for c in doc["expectations"]}
        for r in res.results:  # results do not come back in suite order: match them by their config
            d = r.to_json_dict()
            cfg = by_key.get(_key(d["expectation_config"]["type"], d["expectation_config"]["kwargs"]),
                             d["expectation_config"])
            result = d.get("result") or {}
            raised = (d.get("exception_info") or {}).get("raised_exception")
            examples = [e.get("_row") for e in (result.get("partial_unexpected_index_list") or [])
                        if isinstance(e, dict)]
            report.results.append({
                "expectation": cfg["type"],
                "rule": (cfg.get("meta") or {}).get("rule") or describe(cfg),
                "column": result_column(cfg),
                "success": bool(d["success"]) and not raised,
                "element_count": result.get("element_count"),
                "unexpected_count": result.get("unexpected_count") or (None if d["success"] else 0),
                "example_rows": [int(x) for x in examples[:20] if x is not None],
                "error": (d.get("exception_info") or {}).get("exception_message") if raised else None,
            })
        return report


def _key(etype: str, kwargs: dict) -> str:
    keep = {k: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
            for k, v in kwargs.items() if v is not None and k not in ("batch_id", "result_format")}
    return etype + json.dumps(keep, sort_keys=True, default=str)
