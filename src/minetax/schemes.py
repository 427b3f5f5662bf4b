"""Tax schemes and scenarios as policy data (schemes/*.yaml), checked whole before anything runs.

A scheme file gives parameters; each parameter has values keyed by the date from which they apply,
each value with a status and a reference. The engine turns them into rows of tax.rate_rules; the
SQL in sql/tax_*.sql applies them. No rate lives in Python or SQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from minetax.config import SCENARIOS_DIR, SCHEMES_DIR
from minetax.datasets import CONNECTIONS, ENERGY_SOURCES
from minetax.errors import SchemeError

FAMILIES = ("per_kwh_by_price",)
TAX_PERIODS = ("month", "quarter", "year")
CURRENCIES = ("KZT", "USD")
STATUSES = ("enacted", "reported", "unverified", "proposed")
WHEN_KEYS = {"connection": CONNECTIONS, "energy_source": ENERGY_SOURCES}


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
    version: str  # sha256 of the file
    price_decimals: int = 2  # the average price is rounded to this before the bracket lookup

    def rate_rules(self) -> list[dict]:
        """One row per bracket or override per dated value (rows of tax.rate_rules)."""
        rows: list[dict] = []
        for pname in ("brackets", "overrides"):
            values = self.parameters.get(pname, {}).get("values", {})
            dates = list(values)
            for i, start in enumerate(dates):
                entry = values[start]
                end = dates[i + 1] if i + 1 < len(dates) else None
                base = {
                    "scheme_id": self.scheme_id, "scheme_version": self.version,
                    "valid_from": start, "valid_to": end, "status": entry["status"],
                    "reference": entry["reference"]["title"].strip(),
                }
                if pname == "brackets":
                    rows += [{**base, **b} for b in _bracket_rows(entry["value"])]
                else:
                    rows += [{**base, **_override_row(o)} for o in entry["value"]]
        return rows

    @property
    def rate_range(self) -> tuple[float, float]:
        """Lowest and highest rate the law can give (for output validation)."""
        rates = [r["rate"] for r in self.rate_rules()]
        return min(rates), max(rates)


@dataclass(frozen=True)
class Scenario:
    scenario_id: str
    title: str
    schemes: list[Scheme]
    assumptions: dict = field(default_factory=dict)
    file: Path | None = None
    version: str = ""


def _bracket_rows(brackets: list[dict]) -> list[dict]:
    rows, lo, lo_incl = [], None, False
    for b in brackets:
        hi = b.get("up_to")
        hi_incl = bool(b.get("inclusive", True)) if hi is not None else False
        label = _label(lo, lo_incl, hi, hi_incl)
        rows.append({"kind": "bracket", "name": label, "price_lo": lo, "price_lo_inclusive": lo_incl,
                     "price_hi": hi, "price_hi_inclusive": hi_incl, "when_connection": None,
                     "when_energy_source": None, "when_metered": None, "rate": float(b["rate"])})
        lo, lo_incl = hi, not hi_incl
    return rows


def _label(lo, lo_incl, hi, hi_incl) -> str:
    if lo is None and hi is None:
        return "flat"
    left = "any" if lo is None else f"{'>=' if lo_incl else '>'}{lo:g}"
    right = "" if hi is None else f"{'<=' if hi_incl else '<'}{hi:g}"
    return "avg price " + (left if lo is not None else "") + (" and " if lo is not None and hi else "") + right


def _override_row(o: dict) -> dict:
    w = o.get("when", {})
    return {"kind": "override", "name": o["name"], "price_lo": None, "price_lo_inclusive": None,
            "price_hi": None, "price_hi_inclusive": None, "when_connection": w.get("connection"),
            "when_energy_source": w.get("energy_source"), "when_metered": w.get("metered"),
            "rate": float(o["rate"])}


# ---- checking -------------------------------------------------------------------------------

def _fail(file: Path, msg: str) -> SchemeError:
    return SchemeError(f"scheme refused: {file.name}: {msg}")


def _check_brackets(file: Path, date, value) -> None:
    if not isinstance(value, list) or not value:
        raise _fail(file, f"brackets at {date}: need a non-empty list")
    prev = None
    for i, b in enumerate(value):
        last = i == len(value) - 1
        if not isinstance(b, dict) or not isinstance(b.get("rate"), int | float) or b["rate"] < 0:
            raise _fail(file, f"brackets at {date}, bracket {i + 1}: rate must be a number >= 0")
        unknown = set(b) - {"up_to", "inclusive", "rate"}
        if unknown:
            raise _fail(file, f"brackets at {date}, bracket {i + 1}: unknown keys {sorted(unknown)}")
        up = b.get("up_to")
        if last and up is not None:
            raise _fail(file, f"brackets at {date}: the last bracket must be open (no up_to)")
        if not last:
            if not isinstance(up, int | float):
                raise _fail(file, f"brackets at {date}, bracket {i + 1}: up_to must be a number")
            if prev is not None and up <= prev:
                raise _fail(file, f"brackets at {date}: up_to values must increase "
                                  f"(bracket {i + 1}: {up} after {prev}); brackets overlap or are unsorted")
            prev = up


def _check_overrides(file: Path, date, value) -> None:
    if not isinstance(value, list):
        raise _fail(file, f"overrides at {date}: need a list")
    for o in value:
        if not isinstance(o, dict) or "name" not in o or not isinstance(o.get("rate"), int | float):
            raise _fail(file, f"overrides at {date}: each needs a name and a numeric rate: {o}")
        if o["rate"] < 0:
            raise _fail(file, f"overrides at {date}, {o['name']}: rate must be >= 0")
        for k, v in (o.get("when") or {}).items():
            if k == "metered":
                if not isinstance(v, bool):
                    raise _fail(file, f"overrides at {date}, {o['name']}: metered must be true or false")
            elif k in WHEN_KEYS:
                bad = [x for x in (v or []) if x not in WHEN_KEYS[k]]
                if not isinstance(v, list) or bad:
                    raise _fail(file, f"overrides at {date}, {o['name']}: {k} must be a list of "
                                      f"{', '.join(WHEN_KEYS[k])}; got {v}")
            else:
                raise _fail(file, f"overrides at {date}, {o['name']}: unknown condition {k!r}")


CHECKERS = {"brackets": _check_brackets, "overrides": _check_overrides}


def check_scheme(doc: dict, file: Path) -> None:
    if not isinstance(doc, dict):
        raise _fail(file, "not a mapping")
    for key in ("scheme_id", "title", "family", "currency", "rate_unit", "tax_period", "parameters"):
        if key not in doc:
            raise _fail(file, f"missing key {key!r}")
    if doc["scheme_id"] != file.stem:
        raise _fail(file, f"scheme_id {doc['scheme_id']!r} must match the file name {file.stem!r}")
    if doc["family"] not in FAMILIES:
        raise _fail(file, f"unknown family {doc['family']!r} (known: {', '.join(FAMILIES)})")
    if doc["currency"] not in CURRENCIES:
        raise _fail(file, f"unknown currency {doc['currency']!r} (known: {', '.join(CURRENCIES)})")
    if doc["rate_unit"] != f"{doc['currency']}/kWh":
        raise _fail(file, f"unknown rate_unit {doc['rate_unit']!r} (expected {doc['currency']}/kWh)")
    if doc["tax_period"] not in TAX_PERIODS:
        raise _fail(file, f"tax_period must be one of {', '.join(TAX_PERIODS)}")
    params = doc["parameters"]
    if not isinstance(params, dict) or "brackets" not in params:
        raise _fail(file, "parameters must include brackets")
    for pname, p in params.items():
        if pname not in CHECKERS:
            raise _fail(file, f"unknown parameter {pname!r} (known: {', '.join(CHECKERS)})")
        values = (p or {}).get("values")
        if not isinstance(values, dict) or not values:
            raise _fail(file, f"parameter {pname}: needs values keyed by date")
        dates = list(values)
        for d in dates:
            if not isinstance(d, dt.date) or d.day != 1:
                raise _fail(file, f"parameter {pname}: {d!r} is not the first day of a month (YYYY-MM-01)")
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise _fail(file, f"parameter {pname}: dates out of order: {[str(d) for d in dates]}")
        for d, entry in values.items():
            if not isinstance(entry, dict) or "value" not in entry:
                raise _fail(file, f"parameter {pname} at {d}: needs value, status and reference")
            if entry.get("status") not in STATUSES:
                raise _fail(file, f"parameter {pname} at {d}: status must be one of {', '.join(STATUSES)}")
            ref = entry.get("reference")
            if not isinstance(ref, dict) or not ref.get("title"):
                raise _fail(file, f"parameter {pname} at {d}: reference needs a title (and a url)")
            CHECKERS[pname](file, d, entry["value"])


# ---- loading --------------------------------------------------------------------------------

def _read(file: Path) -> tuple[dict, str]:
    if not file.exists():
        raise SchemeError(f"no such scheme or scenario file: {file}")
    raw = file.read_bytes()
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise SchemeError(f"scheme refused: {file.name}: not valid YAML: {e}") from e
    return doc, hashlib.sha256(raw).hexdigest()


def load_scheme(scheme_id: str, schemes_dir: Path = SCHEMES_DIR) -> Scheme:
    file = schemes_dir / f"{scheme_id}.yaml"
    doc, sha = _read(file)
    check_scheme(doc, file)
    return Scheme(doc["scheme_id"], doc["title"], doc["family"], doc["currency"], doc["rate_unit"],
                  doc["tax_period"], doc["parameters"], file, sha, int(doc.get("average_price_decimals", 2)))


def load_scenario(scenario_id: str, scenarios_dir: Path = SCENARIOS_DIR,
                  schemes_dir: Path = SCHEMES_DIR) -> Scenario:
    if not scenario_id.replace("-", "").replace("_", "").isalnum():
        raise SchemeError(f"scenario id {scenario_id!r}: use letters, digits, - and _ only")
    file = scenarios_dir / f"{scenario_id}.yaml"
    if not file.exists():
        known = sorted(p.stem for p in scenarios_dir.glob("*.yaml"))
        raise SchemeError(f"unknown scenario {scenario_id!r} (known: {', '.join(known)})")
    doc, sha = _read(file)
    if not isinstance(doc, dict) or doc.get("scenario_id") != scenario_id or not doc.get("schemes"):
        raise SchemeError(f"scenario refused: {file.name}: needs scenario_id {scenario_id!r} and schemes")
    assumptions = doc.get("assumptions") or {}
    if assumptions.get("efficiency", "estimated") not in ("lower", "estimated", "upper"):
        raise SchemeError(f"scenario refused: {file.name}: assumptions.efficiency must be lower, estimated or upper")
    schemes = [load_scheme(s, schemes_dir) for s in doc["schemes"]]
    return Scenario(scenario_id, doc.get("title", scenario_id), schemes, assumptions, file, sha)
