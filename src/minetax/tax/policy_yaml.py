"""Strict reading of policy files (schemes, scenarios, forecasts): YAML that means exactly what it says.

A policy file is small hand-written YAML, so anything that YAML would silently reinterpret is refused by
name before the file is used, with the file, the line and the key: a duplicated key (PyYAML keeps the last
one), anchors and aliases (an "anchor bomb" expands a few lines into gigabytes), merge keys and explicit
tags, a date with a time (`2024-01-01 00:00:00`, where a date `YYYY-MM-DD` is meant), a date that does not
exist, keys that YAML turns into booleans or nulls (`no:`, `on:`, `~:`), files that are not UTF-8 text,
larger than MAX_BYTES or nested deeper than MAX_DEPTH. The top level must be a mapping.

Also here: the small shape checks every policy reader uses (allowed keys, booleans that are booleans,
numbers that are numbers), so that a misspelt key or `inclusive: "false"` is never read as something else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

import yaml

from minetax.errors import SchemeError
from minetax.sources.datasets import CONNECTIONS, ENERGY_SOURCES

MAX_BYTES = 1 << 20  # 1 MiB; the largest shipped policy file is under 10 KB
MAX_DEPTH = 32  # nesting of mappings and lists
TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}
DATE_WITH_TIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d{2}")
DATE_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # scheme and scenario ids (they name files)

# The checkers below take values as YAML gave them (Any: finding out what they are is their job) and `fail`, which
# makes the error to raise from a message (the caller puts its file and kind in it).
Fail = Callable[[str], SchemeError]
Checker = Callable[[Fail, str, Any, bool], None]  # (fail, where, value, share of the base?): a parameter's value


class _Refused(Exception):
    """A problem at a line of the file (1-based); turned into the caller's error with the file name."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (at once, before anything is expanded) and deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: yaml.Node | int | None) -> yaml.Node | None:
        # index: an item's position in a list, a mapping value's key node, None for the document (the stub says int)
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            key = f"{index.value}: " if isinstance(index, yaml.ScalarNode) else ""  # a mapping's value: its key
            name = event.anchor
            raise _Refused(event.start_mark.line + 1, f"{key}anchors and aliases (&{name}, *{name}) are not "
                                                      "allowed in policy files: write each value out")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(event.start_mark.line + 1, f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)  # type: ignore[arg-type]  # the stub's int: see above
        finally:
            self._depth -= 1


def read_policy(file: Path, kind: str, error: type[SchemeError] = SchemeError) -> tuple[dict, str]:
    """The file's top-level mapping and the sha256 of its bytes; `error` names the file for any problem.

    `kind` starts each message ("scheme", "scenario", "forecast"): "<kind> refused: <file> line N: ...".
    """
    def fail(msg: str, line: int | None = None) -> SchemeError:
        return error(f"{kind} refused: {file.name}{f' line {line}' if line else ''}: {msg}")

    if not file.exists():
        raise error(f"no such {kind} file: {file}")
    if not file.is_file():
        raise fail("not a regular file (a directory, pipe or device)")
    with file.open("rb") as fh:
        raw = fh.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise fail(f"larger than {MAX_BYTES // 1024} KB; a policy file is a short hand-written text")
    if b"\x00" in raw:
        raise fail("a binary file, not YAML text (it contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise fail(f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); save the file as UTF-8") from e
    loader = None
    try:
        loader = StrictLoader(text)
        node = loader.get_single_node()
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            raise fail("the file is empty; it needs a mapping of keys (key: value)")
        if not isinstance(node, yaml.MappingNode):
            raise _Refused(node.start_mark.line + 1, f"the top level must be a mapping of keys (key: value), "
                                                     f"not {_node_kind(node)}")
        _check_node(loader, node, "")
        doc = loader.construct_document(node)
    except _Refused as e:
        raise fail(str(e), e.line) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise fail(f"not valid YAML: {', '.join(x for x in (e.context, e.problem) if x)}"
                   + (f" (column {mark.column + 1})" if mark else ""), mark.line + 1 if mark else None) from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        raise fail(f"control character U+{e.character:04X} is not allowed in YAML text", line) from None
    except yaml.YAMLError as e:
        raise fail(f"not valid YAML: {' '.join(str(e).split())}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return doc, hashlib.sha256(raw).hexdigest()


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a mapping" if isinstance(node, yaml.MappingNode) else f"a single value ({node.value!r})"


def _check_node(loader: StrictLoader, node: yaml.Node, path: str) -> None:
    """Walk the composed tree: tags, dates, keys (plain, unique) — with the line of each problem."""
    line = node.start_mark.line + 1
    where = f"{path}: " if path else ""
    if node.tag not in TAGS:
        raise _Refused(line, f"{where}explicit tag {node.tag!r} is not allowed")
    if isinstance(node, yaml.ScalarNode):
        _check_scalar(loader, node, where, line)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_node(loader, item, f"{path}[{i + 1}]")
    else:
        seen: dict[object, int] = {}  # key -> its line
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(key_line, f"{where}merge keys (<<) are not allowed: write each key out")
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(key_line, f"{where}a key must be a name or a date, not {_node_kind(key_node)}")
            _check_node(loader, key_node, path)
            key = loader.construct_object(key_node)
            if isinstance(key, bool) or key is None or isinstance(key, float):
                raise _Refused(key_line, f"{where}key {key_node.value!r} is read by YAML as {key!r}; "
                                         "quote it if it is a name")
            if key in seen:
                raise _Refused(key_line, f"{(path + ': ') if path else ''}duplicate key {key_node.value!r} "
                                         f"(lines {seen[key]} and {key_line}); YAML would keep only the last")
            seen[key] = key_line
            _check_node(loader, value_node, f"{path}.{key_node.value}" if path else str(key_node.value))


def _check_scalar(loader: StrictLoader, node: yaml.ScalarNode, where: str, line: int) -> None:
    if node.style is not None:  # quoted or block text: a string whatever it looks like
        return
    if DATE_WITH_TIME.match(node.value):
        raise _Refused(line, f"{where}{node.value!r} is a date and time: use a date YYYY-MM-DD")
    if node.tag.endswith(":timestamp") or DATE_LIKE.match(node.value):
        try:
            value = loader.construct_object(node)
        except ValueError as e:
            raise _Refused(line, f"{where}{node.value!r} is not a real date ({e}): use a date YYYY-MM-DD") from None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise _Refused(line, f"{where}{node.value!r}: use a date YYYY-MM-DD (two-digit month and day)")
    elif node.tag.endswith((":int", ":float")):
        try:
            loader.construct_object(node)
        except ValueError as e:
            raise _Refused(line, f"{where}{node.value[:40]!r}… is not a usable number "
                                 f"({str(e).split(':')[0]})") from None


# ---- shape checks shared by the policy readers ---------------------------------------------------------------------

def is_number(v: Any) -> bool:
    """A finite int or float (not a bool, not a string that looks like a number)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def shown(v: Any) -> str:
    """A value as the message shows it, with its type where YAML might have surprised the author."""
    if isinstance(v, str):
        return f"{v[:60]!r} (a string)"
    if isinstance(v, float) and not math.isfinite(v):
        return f"{v} (not a finite number)"
    return repr(v)[:80]


def check_keys(fail: Fail, where: str, mapping: Any, allowed: Collection[str], required: Iterable[str] = ()) -> None:
    """Refuse a non-mapping, unknown keys and missing keys, naming the allowed keys."""
    if not isinstance(mapping, dict):
        raise fail(f"{where}: needs a mapping (key: value), got {shown(mapping)}")
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise fail(f"{where}: unknown key {str(unknown[0])!r} (allowed: {', '.join(sorted(allowed))})")
    missing = [k for k in required if k not in mapping]
    if missing:
        raise fail(f"{where}: missing key {missing[0]!r}")


def check_bool(fail: Fail, where: str, v: Any) -> None:
    if not isinstance(v, bool):
        raise fail(f"{where} must be true or false (unquoted), got {shown(v)}")


def check_text(fail: Fail, where: str, v: Any, optional: bool = False) -> None:
    if optional and v is None:
        return
    if not isinstance(v, str) or not v.strip():
        raise fail(f"{where} must be a non-empty text, got {shown(v)}")


# ---- rate blocks of a scheme: brackets, rates, overrides and exemptions ---------------------------------------------

BRACKET_KEYS = {"up_to", "inclusive", "rate"}
RULE_KEYS = {"overrides": {"name", "when", "rate", "reading"}, "exemptions": {"name", "when"}}
RULE_REQUIRED = {"overrides": ("name", "when", "rate"), "exemptions": ("name", "when")}
OVERRIDE_READINGS = ("own_generation",)  # open points an override may follow (minetax.tax.readings)
WHEN_LISTS = {"connection": CONNECTIONS, "energy_source": ENERGY_SOURCES}
WHEN_BOOLS = ("metered", "licensed")


def check_rate(fail: Fail, where: str, rate: Any, share: bool) -> None:
    """A rate: a finite number >= 0, and at most 1 where it is a share of the base."""
    if not is_number(rate) or rate < 0:
        raise fail(f"{where}: rate must be a number >= 0, got {shown(rate)}")
    if share and rate > 1:
        raise fail(f"{where}: rate is a share of the base and must be between 0 and 1 (got {rate})")


def check_brackets(fail: Fail, where: str, value: Any, share: bool) -> None:
    """[{up_to, inclusive, rate}, ..., {rate}]: up_to strictly increasing, the last bracket open."""
    if not isinstance(value, list) or not value:
        raise fail(f"{where}: brackets need a non-empty list")
    prev = None
    for i, b in enumerate(value):
        last, bw = i == len(value) - 1, f"{where}, bracket {i + 1}"
        check_keys(fail, bw, b, BRACKET_KEYS, ("rate",))
        check_rate(fail, bw, b["rate"], share)
        up = b.get("up_to")
        if last and up is not None:
            raise fail(f"{where}: the last bracket must be open (no up_to)")
        if "inclusive" in b:
            check_bool(fail, f"{bw}: inclusive", b["inclusive"])
            if last:
                raise fail(f"{bw}: inclusive is only for a bracket with up_to (the last bracket is open)")
        if not last:
            if not is_number(up):
                raise fail(f"{bw}: up_to must be a number, got {shown(up)}")
            if prev is not None and up <= prev:
                raise fail(f"{where}: up_to values must increase "
                           f"(bracket {i + 1}: {up} after {prev}); brackets overlap or are unsorted")
            prev = up


def _check_when(fail: Fail, where: str, w: Any) -> None:
    if not isinstance(w, dict) or not w:
        raise fail(f"{where}: when must be a mapping of conditions, got {shown(w)}")
    for k, v in w.items():
        if k in WHEN_BOOLS:
            check_bool(fail, f"{where}: when.{k}", v)
        elif k in WHEN_LISTS:
            bad = [x for x in v if x not in WHEN_LISTS[k]] if isinstance(v, list) and v else [v]
            if bad:
                raise fail(f"{where}: when.{k}: {k} must be a list of {', '.join(WHEN_LISTS[k])}; got {v}")
        elif k == "capacity_mw_below":
            if not is_number(v) or v <= 0:
                raise fail(f"{where}: when.capacity_mw_below must be a number > 0, got {shown(v)}")
        else:
            raise fail(f"{where}: unknown condition {k!r} (known: "
                       f"{', '.join([*WHEN_LISTS, *WHEN_BOOLS, 'capacity_mw_below'])})")


def check_rules(kind: str) -> Checker:
    """The checker of a dated list of overrides ({name, when, rate}) or exemptions ({name, when})."""
    def check(fail: Fail, where: str, value: Any, share: bool) -> None:
        if not isinstance(value, list):
            raise fail(f"{where}: {kind} need a list, got {shown(value)}")
        for i, o in enumerate(value):
            if not isinstance(o, dict) or not isinstance(o.get("name"), str) or not o["name"].strip():
                raise fail(f"{where}, {kind} {i + 1}: each needs a name: {shown(o)}")
            ow = f"{where}, {o['name']}"
            if kind == "exemptions" and "rate" in o:
                raise fail(f"{ow}: an exemption has no rate (it pays nothing)")
            check_keys(fail, ow, o, RULE_KEYS[kind], RULE_REQUIRED[kind])
            if kind == "overrides":
                check_rate(fail, ow, o["rate"], share)
                if "reading" in o and o["reading"] not in OVERRIDE_READINGS:
                    raise fail(f"{ow}: reading must be one of {', '.join(OVERRIDE_READINGS)} (an open point of the "
                               f"scheme's readings), got {shown(o['reading'])}")
            _check_when(fail, ow, o["when"])
    return check


# ---- scenario assumptions -------------------------------------------------------------------------------------------

HASHRATE_SHARE_KEYS = {"country", "assumed"}
# assumption -> the keys its block may have (None: a single value)
ASSUMPTIONS: dict[str, set[str] | None] = {
    "pue": {"low", "central", "high"}, "efficiency": None, "fx_pair": None, "btc_price_multiplier": None,
    "hashrate_share": HASHRATE_SHARE_KEYS, "behaviour": {"enabled"}, "unmetered_energy_band": {"low", "high"},
    "law_as_of": None}


def _check_fraction_band(fail: Fail, where: str, v: Any, keys: tuple[str, ...]) -> None:
    check_keys(fail, where, v, {*keys, "source"}, keys)
    nums = [v[k] for k in keys]
    if not (all(is_number(x) and 0 <= x <= 1 for x in nums) and nums == sorted(nums)):
        raise fail(f"{where}: need fractions 0 <= {' <= '.join(keys)} <= 1, got {shown(nums)}")
    check_text(fail, f"{where}.source", v.get("source"), optional=True)


def check_assumptions(a: dict[str, Any], fail: Fail) -> None:
    """A scenario's assumptions (merged over its base's): known names, known keys in each block, plausible values."""
    unknown = set(a) - set(ASSUMPTIONS)
    if unknown:
        raise fail(f"assumptions: unknown assumptions {sorted(map(str, unknown))} "
                   f"(known: {', '.join(sorted(ASSUMPTIONS))})")
    for name, shape in ASSUMPTIONS.items():
        if isinstance(shape, set) and name in a:
            check_keys(fail, f"assumptions.{name}", a[name], shape)
    if a.get("efficiency", "estimated") not in ("lower", "estimated", "upper"):
        raise fail(f"assumptions.efficiency must be lower, estimated or upper, got {shown(a['efficiency'])}")
    fx = a.get("fx_pair", "USD/KZT")
    if not isinstance(fx, str) or not re.fullmatch(r"[A-Z]{3}/KZT", fx):
        raise fail(f"assumptions.fx_pair must be a pair to KZT such as USD/KZT, got {shown(fx)}")
    pue = [a.get("pue", {}).get(k, d) for k, d in (("low", 1.01), ("central", 1.10), ("high", 1.20))]
    if not (all(is_number(x) for x in pue) and 1 <= pue[0] <= pue[1] <= pue[2] <= 3):
        raise fail(f"assumptions.pue needs 1 <= low <= central <= high <= 3, got {shown(pue)}")
    m = a.get("btc_price_multiplier", 1.0)
    if not ((is_number(m) and m > 0) or (isinstance(m, dict) and m and all(
            isinstance(d, dt.date) and is_number(v) and v > 0 for d, v in m.items()))):
        raise fail(f"assumptions.btc_price_multiplier must be a number > 0 or {{date: number > 0}}, got {shown(m)}")
    band = a.get("unmetered_energy_band", {"low": 0.8, "high": 1.1})
    if not (is_number(band.get("low")) and is_number(band.get("high")) and 0 < band["low"] <= 1 <= band["high"]):
        raise fail("assumptions.unmetered_energy_band needs 0 < low <= 1 <= high")
    hs = a.get("hashrate_share")
    if hs is not None:
        check_keys(fail, "assumptions.hashrate_share", hs, HASHRATE_SHARE_KEYS, ("country",))
        check_text(fail, "assumptions.hashrate_share.country", hs["country"])
        assumed = hs.get("assumed") or {}
        if not isinstance(assumed, dict):
            raise fail(f"assumptions.hashrate_share.assumed: needs {{YYYY-MM-01: {{low, central, high}}}}, "
                       f"got {shown(assumed)}")
        for d, v in assumed.items():
            where = f"assumptions.hashrate_share.assumed.{d}"
            if not isinstance(d, dt.date) or d.day != 1:
                raise fail(f"{where}: need a month start (YYYY-MM-01)")
            _check_fraction_band(fail, where, v, ("low", "central", "high"))
    check_bool(fail, "assumptions.behaviour.enabled", a.get("behaviour", {}).get("enabled", False))
    law = a.get("law_as_of")
    if law is not None and (not isinstance(law, dt.date) or isinstance(law, dt.datetime)):
        raise fail(f"assumptions.law_as_of: needs a day (YYYY-MM-DD): every month is taxed under the law in force "
                   f"that day; got {shown(law)}")
