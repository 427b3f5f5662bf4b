"""Readings of the law's open points, carried as explicit options of a scheme.

A scheme file may document the points its sources leave open (`readings:`), each with the text it rests on, its
choices and a default; a scenario picks another choice (`readings: {scheme_id: {point: choice}}`). The engine
knows what each choice does (KNOWN); the file says which applies and why:

- price_rounding: the average price over the tax period before the bracket lookup: `none` (as computed, the
  literal reading) or `tiyn` (rounded to 0.01 KZT);
- own_generation: an override marked `reading: own_generation` against the price bracket: `highest` (the higher
  of the two rates: "where several rates could apply, the highest applies") or `replaces` (the override rate
  replaces the bracket rate).

The choice in force is written into tax.rate_rules as a row of kind 'reading' (published in rate_rules and the
rates view) and named in each estimate's rate_basis.
"""

from __future__ import annotations

import copy
from typing import Any

from minetax.tax.policy_yaml import Fail, check_keys, check_text, shown

# point -> choice -> what the engine does with it
KNOWN: dict[str, dict[str, Any]] = {
    "price_rounding": {"none": None, "tiyn": 2},
    "own_generation": {"highest": "highest", "replaces": "replace"},
}
BASIS_TAG = {("price_rounding", "none"): "price unrounded", ("price_rounding", "tiyn"): "price to the tiyn",
             ("own_generation", "highest"): "own generation: highest", ("own_generation", "replaces"):
             "own generation: replaces"}
READING_KEYS = {"text", "reference", "default", "choices"}


def check_readings(fail: Fail, value: Any) -> None:
    """A scheme's `readings` block: known points, each with text, default and choices the engine knows."""
    if not isinstance(value, dict) or not value:
        raise fail(f"readings: needs a mapping of open points ({', '.join(KNOWN)}), got {shown(value)}")
    for point, r in value.items():
        where = f"readings.{point}"
        if point not in KNOWN:
            raise fail(f"{where}: unknown open point {point!r} (known: {', '.join(KNOWN)})")
        check_keys(fail, where, r, READING_KEYS, ("text", "default", "choices"))
        check_text(fail, f"{where}.text", r["text"])
        check_text(fail, f"{where}.reference", r.get("reference"), optional=True)
        choices = r["choices"]
        if not isinstance(choices, dict) or not choices:
            raise fail(f"{where}.choices: needs {{choice: what it means}}, got {shown(choices)}")
        for c, meaning in choices.items():
            if c not in KNOWN[point]:
                raise fail(f"{where}.choices: unknown choice {c!r} (known: {', '.join(KNOWN[point])})")
            check_text(fail, f"{where}.choices.{c}", meaning)
        if r["default"] not in choices:
            raise fail(f"{where}.default: {shown(r['default'])} is not one of its choices ({', '.join(choices)})")


def chosen(doc_readings: dict | None) -> dict[str, str]:
    return {point: r["default"] for point, r in (doc_readings or {}).items()}


def pick(fail: Fail, scheme_id: str, doc_readings: dict | None, picks: Any) -> dict:
    """The scheme's readings block with the scenario's choices as defaults; refused by name if unknown."""
    where = f"readings.{scheme_id}"
    if not isinstance(picks, dict) or not picks:
        raise fail(f"{where}: needs {{open point: choice}}, got {shown(picks)}")
    out = copy.deepcopy(doc_readings or {})
    for point, choice in picks.items():
        if point not in out:
            raise fail(f"{where}.{point}: scheme {scheme_id} has no open point {point!r} "
                       f"(it documents: {', '.join(out) or 'none'})")
        if choice not in out[point]["choices"]:
            raise fail(f"{where}.{point}: unknown choice {shown(choice)} (choices: {', '.join(out[point]['choices'])})")
        out[point]["default"] = choice
    return out


def price_decimals(readings: dict[str, str], fallback: int) -> int | None:
    """Decimals the average price is rounded to before the bracket lookup (None: not rounded)."""
    if "price_rounding" in readings:
        value: int | None = KNOWN["price_rounding"][readings["price_rounding"]]
        return value
    return fallback


def combine(override: dict, readings: dict[str, str]) -> str:
    """How an override meets the bracket rate: 'replace', or 'highest' under the own_generation reading."""
    point = override.get("reading")
    if point is None:
        return "replace"
    return str(KNOWN[point][readings[point]])


def reading_rows(doc_readings: dict | None, readings: dict[str, str]) -> list[dict]:
    """One rate_rules row per open point: the choice in force and the text it rests on."""
    rows = []
    for point, r in (doc_readings or {}).items():
        choice = readings[point]
        text = f"{' '.join(r['text'].split())} | {choice}: {' '.join(r['choices'][choice].split())}"
        rows.append({"kind": "reading", "name": point, "reading_choice": choice, "reference_text": text})
    return rows


def basis_tags(readings: dict[str, str]) -> str:
    """' [price unrounded; own generation: highest]' for rate_basis, or ''."""
    tags = [BASIS_TAG[(p, c)] for p, c in sorted(readings.items())]
    return f" [{'; '.join(tags)}]" if tags else ""
