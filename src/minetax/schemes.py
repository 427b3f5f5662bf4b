"""Tax schemes and scenarios as policy data (schemes/*.yaml), checked whole before anything runs.

A scheme file gives parameters; each parameter has values keyed by the date from which they apply,
each value with a status and a reference. The engine turns them into rows of tax.rate_rules and the
SQL in sql/tax_*.sql applies them: no rate lives in Python or SQL. A scenario names schemes and
assumptions; a reform scenario patches a base scenario's schemes ({parameter: {date: value}}), and
the patched scheme is checked whole, like a file.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from minetax.config import SCENARIOS_DIR, SCHEMES_DIR
from minetax.datasets import CONNECTIONS, ENERGY_SOURCES
from minetax.errors import SchemeError

# family -> (rate parameter, tax base, rate unit template)
FAMILIES = {
    "per_kwh": ("rate", "energy_kwh", "{currency}/kWh"),
    "per_kwh_by_price": ("brackets", "energy_kwh", "{currency}/kWh"),
    "per_kwh_foreign": ("rate", "energy_kwh", "{currency}/kWh"),
    "electricity_cost_share": ("rate", "electricity_cost_kzt", "share"),
    "mined_value_share": ("rate", "mined_value_kzt", "share"),
    "income_tax": ("rate", "mining_profit_kzt", "share"),
}
SHARE_FAMILIES = {f for f, (_, _, unit) in FAMILIES.items() if unit == "share"}
TAX_PERIODS = ("month", "quarter", "year")
CURRENCIES = ("KZT", "USD", "EUR", "RUB", "KGS", "UZS")
STATUSES = ("enacted", "reported", "unverified", "proposed")
WHEN_LISTS = {"connection": CONNECTIONS, "energy_source": ENERGY_SOURCES}
WHEN_BOOLS = ("metered", "licensed")
ASSUMPTIONS = {"pue", "efficiency", "fx_pair", "btc_price_multiplier", "hashrate_share", "behaviour",
               "unmetered_energy_band"}
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


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
    price_decimals: int = 2  # the average price is rounded to this before the bracket lookup
    status: str = "enacted"  # the weakest status of any value (enacted < reported < unverified < proposed)

    @property
    def base(self) -> str:
        return FAMILIES[self.family][1]

    def document(self) -> dict:
        """The scheme as a scheme-file document (with any reform already applied)."""
        return {"scheme_id": self.scheme_id, "title": self.title, "family": self.family, "currency": self.currency,
                "rate_unit": self.rate_unit, "tax_period": self.tax_period,
                "average_price_decimals": self.price_decimals, "parameters": copy.deepcopy(self.parameters)}

    @property
    def fx_pair(self) -> str | None:
        """The pair that converts the rate to KZT (per_kwh_foreign only)."""
        return f"{self.currency}/KZT" if self.family == "per_kwh_foreign" else None

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
                else:
                    kind = "override" if pname == "overrides" else "exemption"
                    rows += [{**base, **_when_row(kind, o)} for o in entry["value"]]
        return rows

    @property
    def rate_range(self) -> tuple[float, float]:
        """Lowest and highest rate the scheme can give, exemptions aside (for output validation)."""
        rates = [r["rate"] for r in self.rate_rules() if r["kind"] != "exemption"]
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


def _label(lo, lo_incl, hi, hi_incl) -> str:
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


# ---- checking -------------------------------------------------------------------------------

def _fail(file: Path, msg: str) -> SchemeError:
    return SchemeError(f"scheme refused: {file.name}: {msg}")


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def _check_rate_value(file, where, rate, family) -> None:
    if not _number(rate) or rate < 0:
        raise _fail(file, f"{where}: rate must be a number >= 0")
    if family in SHARE_FAMILIES and rate > 1:
        raise _fail(file, f"{where}: rate is a share of the base and must be between 0 and 1 (got {rate})")


def _check_brackets(file, date, value, family) -> None:
    if not isinstance(value, list) or not value:
        raise _fail(file, f"brackets at {date}: need a non-empty list")
    prev = None
    for i, b in enumerate(value):
        last = i == len(value) - 1
        if not isinstance(b, dict):
            raise _fail(file, f"brackets at {date}, bracket {i + 1}: need a mapping with rate (and up_to)")
        unknown = set(b) - {"up_to", "inclusive", "rate"}
        if unknown:
            raise _fail(file, f"brackets at {date}, bracket {i + 1}: unknown keys {sorted(unknown)}")
        _check_rate_value(file, f"brackets at {date}, bracket {i + 1}", b.get("rate"), family)
        up = b.get("up_to")
        if last and up is not None:
            raise _fail(file, f"brackets at {date}: the last bracket must be open (no up_to)")
        if not last:
            if not _number(up):
                raise _fail(file, f"brackets at {date}, bracket {i + 1}: up_to must be a number")
            if prev is not None and up <= prev:
                raise _fail(file, f"brackets at {date}: up_to values must increase "
                                  f"(bracket {i + 1}: {up} after {prev}); brackets overlap or are unsorted")
            prev = up


def _check_rate(file, date, value, family) -> None:
    _check_rate_value(file, f"rate at {date}", value, family)


def _check_when(file, where, w) -> None:
    if not isinstance(w, dict):
        raise _fail(file, f"{where}: when must be a mapping")
    for k, v in w.items():
        if k in WHEN_BOOLS:
            if not isinstance(v, bool):
                raise _fail(file, f"{where}: {k} must be true or false")
        elif k in WHEN_LISTS:
            bad = [x for x in (v or []) if x not in WHEN_LISTS[k]] if isinstance(v, list) else [v]
            if bad:
                raise _fail(file, f"{where}: {k} must be a list of {', '.join(WHEN_LISTS[k])}; got {v}")
        elif k == "capacity_mw_below":
            if not _number(v) or v <= 0:
                raise _fail(file, f"{where}: capacity_mw_below must be a number > 0")
        else:
            raise _fail(file, f"{where}: unknown condition {k!r} (known: "
                              f"{', '.join([*WHEN_LISTS, *WHEN_BOOLS, 'capacity_mw_below'])})")


def _check_list_of_when(kind: str):
    def check(file, date, value, family) -> None:
        if not isinstance(value, list):
            raise _fail(file, f"{kind} at {date}: need a list")
        for o in value:
            if not isinstance(o, dict) or not isinstance(o.get("name"), str):
                raise _fail(file, f"{kind} at {date}: each needs a name: {o}")
            where = f"{kind} at {date}, {o['name']}"
            if kind == "overrides":
                _check_rate_value(file, where, o.get("rate"), family)
            elif "rate" in o:
                raise _fail(file, f"{where}: an exemption has no rate (it pays nothing)")
            if not o.get("when"):
                raise _fail(file, f"{where}: needs conditions (when)")
            _check_when(file, where, o["when"])
    return check


CHECKERS = {"brackets": _check_brackets, "rate": _check_rate, "overrides": _check_list_of_when("overrides"),
            "exemptions": _check_list_of_when("exemptions")}


def allowed_parameters(family: str) -> set[str]:
    return {FAMILIES[family][0], "overrides", "exemptions"}


def check_scheme(doc: dict, file: Path) -> None:
    if not isinstance(doc, dict):
        raise _fail(file, "not a mapping")
    for key in ("scheme_id", "title", "family", "currency", "rate_unit", "tax_period", "parameters"):
        if key not in doc:
            raise _fail(file, f"missing key {key!r}")
    unknown = set(doc) - {"scheme_id", "title", "jurisdiction", "family", "base", "currency", "rate_unit", "tax_period",
                          "average_price_decimals", "notes", "parameters"}
    if unknown:
        raise _fail(file, f"unknown keys {sorted(unknown)}")
    if doc["scheme_id"] != file.stem:
        raise _fail(file, f"scheme_id {doc['scheme_id']!r} must match the file name {file.stem!r}")
    family = doc["family"]
    if family not in FAMILIES:
        raise _fail(file, f"unknown family {family!r} (known: {', '.join(FAMILIES)})")
    if doc["currency"] not in CURRENCIES:
        raise _fail(file, f"unknown currency {doc['currency']!r} (known: {', '.join(CURRENCIES)})")
    if family == "per_kwh_foreign" and doc["currency"] == "KZT":
        raise _fail(file, "per_kwh_foreign needs a rate in a currency other than KZT")
    if family != "per_kwh_foreign" and doc["currency"] != "KZT":
        raise _fail(file, f"family {family} computes in KZT: currency must be KZT (use per_kwh_foreign)")
    if "base" in doc and doc["base"] != FAMILIES[family][1]:
        raise _fail(file, f"base {doc['base']!r} does not fit family {family} (its base is {FAMILIES[family][1]})")
    dec = doc.get("average_price_decimals", 2)
    if not isinstance(dec, int) or isinstance(dec, bool) or not 0 <= dec <= 6:
        raise _fail(file, "average_price_decimals must be a whole number from 0 to 6")
    unit = FAMILIES[family][2].format(currency=doc["currency"])
    if doc["rate_unit"] != unit:
        raise _fail(file, f"unknown rate_unit {doc['rate_unit']!r} for {family} (expected {unit})")
    if doc["tax_period"] not in TAX_PERIODS:
        raise _fail(file, f"tax_period must be one of {', '.join(TAX_PERIODS)}")
    params = doc["parameters"]
    rate_param = FAMILIES[family][0]
    if not isinstance(params, dict) or rate_param not in params:
        raise _fail(file, f"parameters must include {rate_param} (family {family})")
    for pname, p in params.items():
        if pname not in allowed_parameters(family):
            raise _fail(file, f"unknown parameter {pname!r} for family {family} "
                              f"(known: {', '.join(sorted(allowed_parameters(family)))})")
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
            CHECKERS[pname](file, d, entry["value"], family)


# ---- loading --------------------------------------------------------------------------------

def _read(file: Path) -> tuple[dict, str]:
    if not file.exists():
        raise SchemeError(f"no such scheme or scenario file: {file}")
    raw = file.read_bytes()
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise SchemeError(f"refused: {file.name}: not valid YAML: {e}") from e
    return doc, hashlib.sha256(raw).hexdigest()


def _weakest_status(params: dict) -> str:
    ranks = [STATUSES.index(e["status"]) for p in params.values() for e in p["values"].values()]
    return STATUSES[max(ranks)]


def _make(doc: dict, file: Path, version: str) -> Scheme:
    return Scheme(doc["scheme_id"], doc["title"], doc["family"], doc["currency"], doc["rate_unit"],
                  doc["tax_period"], doc["parameters"], file, version, int(doc.get("average_price_decimals", 2)),
                  _weakest_status(doc["parameters"]))


def check_id(kind: str, ident: str) -> None:
    if not isinstance(ident, str) or not SAFE_ID.match(ident):
        raise SchemeError(f"{kind} id {ident!r}: use letters, digits, - and _ only (at most 64)")


def load_scheme(scheme_id: str, schemes_dir: Path = SCHEMES_DIR) -> Scheme:
    check_id("scheme", scheme_id)
    file = schemes_dir / f"{scheme_id}.yaml"
    doc, sha = _read(file)
    check_scheme(doc, file)
    return _make(doc, file, sha)


def apply_reform(scheme: Scheme, patch: dict, scenario_file: Path, reference: dict | None) -> Scheme:
    """Patch {parameter: {date: value or {value, status, reference}}} into a scheme; check the result whole."""
    where = f"{scenario_file.name}: reform of {scheme.scheme_id}"
    if not isinstance(patch, dict) or not patch:
        raise SchemeError(f"scenario refused: {where}: needs {{parameter: {{date: value}}}}")
    doc = scheme.document()  # as the base scenario left it: a reform of a reform keeps the first patch
    for pname, dated in patch.items():
        if pname not in allowed_parameters(scheme.family):
            raise SchemeError(f"scenario refused: {where}: unknown parameter {pname!r} "
                              f"(known: {', '.join(sorted(allowed_parameters(scheme.family)))})")
        if not isinstance(dated, dict) or not dated:
            raise SchemeError(f"scenario refused: {where}: {pname} needs values keyed by date")
        values = dict(doc["parameters"].get(pname, {}).get("values", {}))
        for d, v in dated.items():
            if isinstance(v, dict) and "value" in v:
                entry = v
            elif reference:
                entry = {"value": v, "status": "proposed", "reference": reference}
            else:
                raise SchemeError(f"scenario refused: {where}: {pname} at {d}: give status and reference, "
                                  "or a scenario-level reference")
            values[d] = copy.deepcopy(entry)
        doc["parameters"].setdefault(pname, {"description": f"{pname} (from reform)"})["values"] = dict(
            sorted(values.items(), key=lambda kv: kv[0] if isinstance(kv[0], dt.date) else dt.date.min))
        bad = [d for d in dated if not isinstance(d, dt.date)]
        if bad:
            raise SchemeError(f"scenario refused: {where}: {pname}: {bad[0]!r} is not a date (YYYY-MM-01)")
    try:
        check_scheme(doc, scheme.file)
    except SchemeError as e:
        raise SchemeError(f"scenario refused: {where}: the patched scheme is invalid: {e}") from e
    version = hashlib.sha256((scheme.version + json.dumps(str_keys(patch), sort_keys=True, default=str)).encode()
                             ).hexdigest()
    return _make(doc, scheme.file, version)


def str_keys(obj):
    if isinstance(obj, dict):
        return {str(k): str_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [str_keys(v) for v in obj]
    return obj


def _check_assumptions(a: dict, file: Path) -> None:
    unknown = set(a) - ASSUMPTIONS
    if unknown:
        raise SchemeError(f"scenario refused: {file.name}: unknown assumptions {sorted(unknown)} "
                          f"(known: {', '.join(sorted(ASSUMPTIONS))})")
    if a.get("efficiency", "estimated") not in ("lower", "estimated", "upper"):
        raise SchemeError(f"scenario refused: {file.name}: assumptions.efficiency must be lower, estimated or upper")
    pue = a.get("pue", {})
    if not (isinstance(pue, dict) and all(_number(pue.get(k, 1.1)) for k in ("low", "central", "high"))
            and pue.get("low", 1.01) <= pue.get("central", 1.10) <= pue.get("high", 1.20)):
        raise SchemeError(f"scenario refused: {file.name}: assumptions.pue needs low <= central <= high")
    m = a.get("btc_price_multiplier", 1.0)
    if not ((_number(m) and m > 0) or (isinstance(m, dict) and m and all(
            isinstance(d, dt.date) and _number(v) and v > 0 for d, v in m.items()))):
        raise SchemeError(f"scenario refused: {file.name}: btc_price_multiplier must be a number > 0 "
                          "or {date: number > 0}")
    band = a.get("unmetered_energy_band", {"low": 0.8, "high": 1.1})
    if not (isinstance(band, dict) and _number(band.get("low")) and _number(band.get("high"))
            and 0 < band["low"] <= 1 <= band["high"]):
        raise SchemeError(f"scenario refused: {file.name}: unmetered_energy_band needs 0 < low <= 1 <= high")
    hs = a.get("hashrate_share")
    if hs is not None:
        if not isinstance(hs, dict) or not isinstance(hs.get("country"), str):
            raise SchemeError(f"scenario refused: {file.name}: hashrate_share needs a country")
        for d, v in (hs.get("assumed") or {}).items():
            ok = isinstance(d, dt.date) and d.day == 1 and isinstance(v, dict) and all(
                _number(v.get(k)) and 0 <= v[k] <= 1 for k in ("low", "central", "high")) \
                and v["low"] <= v["central"] <= v["high"]
            if not ok:
                raise SchemeError(f"scenario refused: {file.name}: hashrate_share.assumed at {d}: need a month "
                                  "start and fractions 0 <= low <= central <= high <= 1")
    b = a.get("behaviour", {})
    if not isinstance(b, dict) or not isinstance(b.get("enabled", False), bool):
        raise SchemeError(f"scenario refused: {file.name}: behaviour.enabled must be true or false")


def load_scenario(scenario_id: str, scenarios_dir: Path = SCENARIOS_DIR, schemes_dir: Path = SCHEMES_DIR,
                  _seen: tuple = ()) -> Scenario:
    check_id("scenario", scenario_id)
    file = scenarios_dir / f"{scenario_id}.yaml"
    if not file.exists():
        known = sorted(p.stem for p in scenarios_dir.glob("*.yaml"))
        raise SchemeError(f"unknown scenario {scenario_id!r} (known: {', '.join(known)})")
    if scenario_id in _seen:
        raise SchemeError(f"scenario refused: {file.name}: base scenarios form a loop: {' -> '.join(_seen)}")
    doc, sha = _read(file)
    if not isinstance(doc, dict) or doc.get("scenario_id") != scenario_id:
        raise SchemeError(f"scenario refused: {file.name}: needs scenario_id {scenario_id!r}")
    unknown = set(doc) - {"scenario_id", "title", "base", "schemes", "reforms", "assumptions", "reference", "notes"}
    if unknown:
        raise SchemeError(f"scenario refused: {file.name}: unknown keys {sorted(unknown)}")
    base = load_scenario(doc["base"], scenarios_dir, schemes_dir, (*_seen, scenario_id)) if doc.get("base") else None
    assumptions = {**(base.assumptions if base else {}), **(doc.get("assumptions") or {})}
    _check_assumptions(assumptions, file)
    if doc.get("schemes"):
        schemes = [load_scheme(s, schemes_dir) for s in doc["schemes"]]
    elif base:
        schemes = list(base.schemes)
    else:
        raise SchemeError(f"scenario refused: {file.name}: needs schemes (or a base scenario)")
    reforms = doc.get("reforms") or {}
    by_id = {s.scheme_id: s for s in schemes}
    for scheme_id, patch in reforms.items():
        if scheme_id not in by_id:
            raise SchemeError(f"scenario refused: {file.name}: reform names scheme {scheme_id!r}, which the "
                              f"scenario does not use (uses: {', '.join(by_id)})")
        by_id[scheme_id] = apply_reform(by_id[scheme_id], patch, file, doc.get("reference"))
    version = hashlib.sha256((sha + (base.version if base else "")).encode()).hexdigest()
    return Scenario(scenario_id, doc.get("title", scenario_id), list(by_id.values()), assumptions, file, version,
                    doc.get("base"))


def list_scenarios(scenarios_dir: Path = SCENARIOS_DIR) -> list[str]:
    return sorted(p.stem for p in scenarios_dir.glob("*.yaml"))


def list_schemes(schemes_dir: Path = SCHEMES_DIR) -> list[str]:
    return sorted(p.stem for p in schemes_dir.glob("*.yaml"))
