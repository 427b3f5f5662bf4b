"""Suites and their results: the Great Expectations suites (expectations/*.json) as documents, a readable name for
each rule, and the result of one suite on one target (Report), whichever engine evaluated it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from minetax.config import EXPECTATIONS_DIR


@dataclass
class Report:
    suite: str
    target: str
    results: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)  # aggregates asked for beside the suite (name -> value)

    @property
    def success(self) -> bool:
        return all(r["success"] for r in self.results)

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.results if not r["success"]]


def load_suite_doc(name: str) -> dict:
    return json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text())


def result_column(cfg: dict) -> str | None:
    """The input column(s) a result is about: a check column (*_ok) names the input column in its meta."""
    kw = cfg["kwargs"]
    column = ((cfg.get("meta") or {}).get("column")
              or kw.get("column") or ",".join(kw.get("column_list") or []) or None)
    if not column and "column_A" in kw:
        column = f"{kw['column_A']},{kw['column_B']}"
    return column


def describe(cfg: dict) -> str:
    """A readable rule, e.g. 'expect_column_values_to_be_between min_value=0'."""
    kw = {k: v for k, v in cfg["kwargs"].items()
          if k not in ("column", "column_list", "batch_id", "result_format") and v is not None}
    return cfg["type"] + "".join(f" {k}={v:g}" if isinstance(v, float) else f" {k}={v}" for k, v in kw.items())
