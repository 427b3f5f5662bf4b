"""Errors a user can act on. Each names the file, the column, the rule and example rows."""

from __future__ import annotations


class MinetaxError(Exception):
    """Base class: the CLI prints the message and exits non-zero, without a traceback."""


class InputError(MinetaxError):
    """An input file failed a rule. Nothing was merged into core; nothing published changed."""

    def __init__(self, file: str, findings: list[dict]):
        self.file = file
        self.findings = findings
        lines = [f"input rejected: {file}"]
        for f in findings:
            col = f.get("column") or "(table)"
            lines.append(f"  column {col}: rule {f['rule']} failed" + _count(f))
            for ex in (f.get("examples") or [])[:5]:
                lines.append(f"    e.g. {ex}")
        super().__init__("\n".join(lines))


def _count(f: dict) -> str:
    n = f.get("unexpected_count")
    return f" ({n} rows)" if n else ""


class SchemeError(MinetaxError):
    """A scheme or scenario file is malformed; refused before anything runs."""


class OutputValidationError(MinetaxError):
    """The estimates failed their suite: the run failed and nothing was published."""
