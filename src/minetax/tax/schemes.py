"""Tax schemes and scenarios as policy data (schemes/*.yaml), checked whole before anything runs.

A scheme file gives parameters; each parameter has values keyed by the date from which they apply,
each value with a status and a reference. The engine turns them into rows of tax.rate_rules and the
SQL in sql/tax_*.sql applies them: no rate lives in Python or SQL. A scenario names schemes and
assumptions; a reform scenario patches a base scenario's schemes ({parameter: {date: value}}), and
the patched scheme is checked whole, like a file. Files are read strictly (src/minetax/policy_yaml.py):
duplicate keys, anchors, dates with times, string booleans and unknown keys at any level are refused by name.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minetax.config import SCENARIOS_DIR, SCHEMES_DIR
from minetax.errors import SchemeError
from minetax.tax import families, readings
from minetax.tax.policy_yaml import SAFE_ID, Fail, check_assumptions, check_keys, check_text, read_policy, shown
from minetax.tax.scheme_checks import (
    ENTRY_KEYS,
    FAMILIES,
    NOT_RATES,
    SCENARIO_KEYS,
    STATUSES,
    _check_reference,
    _failer,
    allowed_parameters,
    check_scheme,
)


@dataclass(frozen=True)
class Scheme:
    scheme_id: str
    title: str
    family: str
    currency: str
    rate_unit: str
    tax_period: str
    parameters: dict
    file: Path
    version: str  # sha256 of the file, or of the file and the reform patch applied to it
    price_decimals: int | None = 2  # the average price is rounded to this before the bracket lookup (None: not)
    status: str = "enacted"  # the weakest status of any value (enacted < reported < unverified < proposed)
    readings_doc: dict = field(default_factory=dict)  # the file's `readings` block (open points of the law)
    readings: dict = field(default_factory=dict)  # {open point: the choice in force}

    @property
    def base(self) -> str:
        return FAMILIES[self.family][1]

    def document(self) -> dict:
        """The scheme as a scheme-file document (with any reform already applied)."""
        return {"scheme_id": self.scheme_id, "title": self.title, "family": self.family, "currency": self.currency,
                "rate_unit": self.rate_unit, "tax_period": self.tax_period,
                "parameters": copy.deepcopy(self.parameters),
                **({"average_price_decimals": self.price_decimals} if self.price_decimals is not None else {}),
                **({"readings": readings.pick(_failer(self.file), self.scheme_id, self.readings_doc,
                                              self.readings)} if self.readings else {})}

    @property
    def fx_pair(self) -> str | None:
        """The pair that converts the rate to KZT (a per-kWh rate in another currency)."""
        return f"{self.currency}/KZT" if self.currency != "KZT" else None

    def rate_rules(self) -> list[dict]:
        """One row per bracket, override or exemption per dated value (rows of tax.rate_rules)."""
        rows: list[dict] = []
        for pname, p in self.parameters.items():
            values = p["values"]
            dates = list(values)
            for i, start in enumerate(dates):
                entry = values[start]
                base = {"scheme_id": self.scheme_id, "scheme_version": self.version, "valid_from": start,
                        "valid_to": dates[i + 1] if i + 1 < len(dates) else None, "status": entry["status"],
                        "reference": _ref_text(entry["reference"])}
                if pname == "brackets":
                    rows += [{**base, **b} for b in _bracket_rows(entry["value"])]
                elif pname == "rate":
                    rows += [{**base, **b} for b in _bracket_rows([{"rate": entry["value"]}])]
                elif pname in families.RULE_ROWS:
                    rows += [{**base, **r} for r in families.RULE_ROWS[pname](entry["value"])]
                else:
                    kind = "override" if pname == "overrides" else "exemption"
                    rows += [{**base, **_when_row(kind, o),
                              "combine": readings.combine(o, self.readings) if kind == "override" else None}
                             for o in entry["value"]]
        for r in readings.reading_rows(self.readings_doc, self.readings):
            rows.append({"scheme_id": self.scheme_id, "scheme_version": self.version, "valid_from": None,
                         "valid_to": None, "kind": r["kind"], "name": r["name"], "reading_choice": r["reading_choice"],
                         "status": self.status, "reference": r["reference_text"]})
        return rows

    @property
    def rate_range(self) -> tuple[float, float]:
        """Lowest and highest rate the scheme can give, exemptions aside (for output validation)."""
        rates = [r["rate"] for r in self.rate_rules() if r["kind"] not in NOT_RATES]
        return min(rates), max(rates)


@dataclass(frozen=True)
class Scenario:
    scenario_id: str
    title: str
    schemes: list[Scheme]
    assumptions: dict = field(default_factory=dict)
    file: Path | None = None
    version: str = ""
    base: str | None = None


def _ref_text(ref: dict) -> str:
    return " ".join(str(ref["title"]).split()) + (f" <{ref['url']}>" if ref.get("url") else "")


def _bracket_rows(brackets: list[dict]) -> list[dict]:
    rows, lo, lo_incl = [], None, False
    for b in brackets:
        hi = b.get("up_to")
        hi_incl = bool(b.get("inclusive", True)) if hi is not None else False
        rows.append({"kind": "bracket", "name": _label(lo, lo_incl, hi, hi_incl), "price_lo": lo,
                     "price_lo_inclusive": lo_incl, "price_hi": hi, "price_hi_inclusive": hi_incl,
                     "rate": float(b["rate"])})
        lo, lo_incl = hi, not hi_incl
    return rows


def _label(lo: float | None, lo_incl: bool, hi: float | None, hi_incl: bool) -> str:
    if lo is None and hi is None:
        return "flat"
    parts = []
    if lo is not None:
        parts.append(f"{'>=' if lo_incl else '>'}{lo:g}")
    if hi is not None:
        parts.append(f"{'<=' if hi_incl else '<'}{hi:g}")
    return "avg price " + " and ".join(parts)


def _when_row(kind: str, o: dict) -> dict:
    w = o.get("when") or {}
    return {"kind": kind, "name": o["name"], "when_connection": w.get("connection"),
            "when_energy_source": w.get("energy_source"), "when_metered": w.get("metered"),
            "when_licensed": w.get("licensed"), "when_capacity_mw_below": w.get("capacity_mw_below"),
            "rate": float(o.get("rate", 0.0))}


# ---- loading --------------------------------------------------------------------------------

def _weakest_status(params: dict) -> str:
    ranks = [STATUSES.index(e["status"]) for p in params.values() for e in p["values"].values()]
    return STATUSES[max(ranks)]


def _make(doc: dict, file: Path, version: str) -> Scheme:
    chosen = readings.chosen(doc.get("readings"))
    return Scheme(doc["scheme_id"], doc["title"], doc["family"], doc["currency"], doc["rate_unit"],
                  doc["tax_period"], doc["parameters"], file, version,
                  readings.price_decimals(chosen, int(doc.get("average_price_decimals", 2))),
                  _weakest_status(doc["parameters"]), doc.get("readings") or {}, chosen)


def apply_readings(scheme: Scheme, picks: object, scenario_file: Path) -> Scheme:
    """The scheme under the scenario's choices for its open points (`readings: {scheme_id: {point: choice}}`)."""
    doc = scheme.document()
    doc["readings"] = readings.pick(_failer(scenario_file, "scenario"), scheme.scheme_id, scheme.readings_doc, picks)
    version = hashlib.sha256((scheme.version + json.dumps(str_keys(picks), sort_keys=True)).encode()).hexdigest()
    return _make(doc, scheme.file, version)


def check_id(kind: str, ident: str) -> None:
    if not SAFE_ID.match(ident):
        raise SchemeError(f"{kind} id {ident!r}: use letters, digits, - and _ only (at most 64)")


def load_scheme(scheme_id: str, schemes_dir: Path = SCHEMES_DIR) -> Scheme:
    check_id("scheme", scheme_id)
    file = schemes_dir / f"{scheme_id}.yaml"
    doc, sha = read_policy(file, "scheme")
    check_scheme(doc, file)
    return _make(doc, file, sha)


def _patch_entry(fail: Fail, where: str, v: object, reference: dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(v, dict):  # a full entry {value, status, reference}, taken as given
        check_keys(fail, where, v, ENTRY_KEYS, ("value",))
        return copy.deepcopy(v)
    if not reference:
        raise fail(f"{where}: give status and reference, or a scenario-level reference")
    return {"value": copy.deepcopy(v), "status": "proposed", "reference": reference}


def apply_reform(scheme: Scheme, patch: object, scenario_file: Path, reference: dict[str, Any] | None) -> Scheme:
    """Patch {parameter: {date: value or {value, status, reference}}} into a scheme; check the result whole.
    `patch` is as the scenario file gave it: its shape is checked here."""
    fail = _failer(scenario_file, "scenario")
    where = f"reforms.{scheme.scheme_id}"
    if not isinstance(patch, dict) or not patch:
        raise fail(f"{where}: needs {{parameter: {{date: value}}}}, got {shown(patch)}")
    doc = scheme.document()  # as the base scenario left it: a reform of a reform keeps the first patch
    for pname, dated in patch.items():
        if pname not in allowed_parameters(scheme.family):
            raise fail(f"{where}: reform of {scheme.scheme_id}: unknown parameter {pname!r} "
                       f"(known: {', '.join(sorted(allowed_parameters(scheme.family)))})")
        if not isinstance(dated, dict) or not dated:
            raise fail(f"{where}.{pname}: needs values keyed by date")
        bad = [d for d in dated if not isinstance(d, dt.date) or isinstance(d, dt.datetime)]
        if bad:
            raise fail(f"{where}.{pname}: {bad[0]!r} is not a date (YYYY-MM-01)")
        values = dict(doc["parameters"].get(pname, {}).get("values", {}))
        values.update({d: _patch_entry(fail, f"{where}.{pname}.{d}", v, reference) for d, v in dated.items()})
        doc["parameters"].setdefault(pname, {"description": f"{pname} (from reform)"})["values"] = dict(
            sorted(values.items()))
    try:
        check_scheme(doc, scheme.file)
    except SchemeError as e:
        raise fail(f"{where}: reform of {scheme.scheme_id}: the patched scheme is invalid: {e}") from e
    version = hashlib.sha256((scheme.version + json.dumps(str_keys(patch), sort_keys=True, default=str)).encode()
                             ).hexdigest()
    return _make(doc, scheme.file, version)


def str_keys(obj: object) -> object:
    if isinstance(obj, dict):
        return {str(k): str_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [str_keys(v) for v in obj]
    return obj


def _check_scenario_doc(doc: dict[str, Any], fail: Fail, scenario_id: str, dirs: tuple[Path, Path]) -> None:
    """The scenario's own keys: known, typed; its base and schemes exist."""
    check_keys(fail, "top level", doc, SCENARIO_KEYS, ("scenario_id",))
    if doc["scenario_id"] != scenario_id:
        raise fail(f"scenario_id {doc['scenario_id']!r}: needs scenario_id {scenario_id!r} (the file name)")
    for key in ("title", "notes"):
        check_text(fail, key, doc.get(key), optional=True)
    for key, kind, folder in (("base", "scenario", dirs[0]), ("schemes", "scheme", dirs[1])):
        ids = doc.get(key)
        if ids is None:
            continue
        for i in (ids if key == "schemes" and isinstance(ids, list) else [ids]):
            if not isinstance(i, str) or not SAFE_ID.match(i) or not (folder / f"{i}.yaml").is_file():
                known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
                raise fail(f"{key}: unknown {kind} {shown(i)} (known: {known})")
    if doc.get("reference") is not None:
        _check_reference(fail, "reference", doc["reference"])
    for key in ("reforms", "readings", "assumptions"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise fail(f"{key}: needs a mapping, got {shown(doc[key])}")


def load_scenario(scenario_id: str, scenarios_dir: Path = SCENARIOS_DIR, schemes_dir: Path = SCHEMES_DIR,
                  _seen: tuple[str, ...] = ()) -> Scenario:
    check_id("scenario", scenario_id)
    file = scenarios_dir / f"{scenario_id}.yaml"
    if not file.exists():
        known = sorted(p.stem for p in scenarios_dir.glob("*.yaml"))
        raise SchemeError(f"unknown scenario {scenario_id!r} (known: {', '.join(known)})")
    fail = _failer(file, "scenario")
    if scenario_id in _seen:
        raise fail(f"base: base scenarios form a loop: {' -> '.join((*_seen, scenario_id))}")
    doc, sha = read_policy(file, "scenario")
    _check_scenario_doc(doc, fail, scenario_id, (scenarios_dir, schemes_dir))
    base = load_scenario(doc["base"], scenarios_dir, schemes_dir, (*_seen, scenario_id)) if doc.get("base") else None
    assumptions = {**(base.assumptions if base else {}), **(doc.get("assumptions") or {})}
    check_assumptions(assumptions, fail)
    if doc.get("schemes"):
        schemes = [load_scheme(s, schemes_dir) for s in doc["schemes"]]
    elif base:
        schemes = list(base.schemes)
    else:
        raise fail("schemes: needs schemes (or a base scenario)")
    by_id = {s.scheme_id: s for s in schemes}
    for scheme_id, patch in (doc.get("reforms") or {}).items():
        if scheme_id not in by_id:
            raise fail(f"reforms: reform names scheme {scheme_id!r}, which the scenario does not use "
                       f"(uses: {', '.join(by_id)})")
        by_id[scheme_id] = apply_reform(by_id[scheme_id], patch, file, doc.get("reference"))
    for scheme_id, picks in (doc.get("readings") or {}).items():
        if scheme_id not in by_id:
            raise fail(f"readings: names scheme {scheme_id!r}, which the scenario does not use "
                       f"(uses: {', '.join(by_id)})")
        by_id[scheme_id] = apply_readings(by_id[scheme_id], picks, file)
    version = hashlib.sha256((sha + (base.version if base else "")).encode()).hexdigest()
    return Scenario(scenario_id, doc.get("title", scenario_id), list(by_id.values()), assumptions, file, version,
                    doc.get("base"))


def list_scenarios(scenarios_dir: Path = SCENARIOS_DIR) -> list[str]:
    return sorted(p.stem for p in scenarios_dir.glob("*.yaml"))


def list_schemes(schemes_dir: Path = SCHEMES_DIR) -> list[str]:
    return sorted(p.stem for p in schemes_dir.glob("*.yaml"))
