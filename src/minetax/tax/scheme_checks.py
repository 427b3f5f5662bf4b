"""Checking a scheme file whole before anything runs: its families, keys, units, dated values and references
(minetax.tax.schemes loads it; the rate blocks' own checkers are in policy_yaml and families)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from minetax.errors import SchemeError
from minetax.tax import families, readings
from minetax.tax.policy_yaml import (
    Checker,
    Fail,
    check_brackets,
    check_keys,
    check_rate,
    check_rules,
    check_text,
    shown,
)

# family -> (rate parameter, tax base, rate unit template)
FAMILIES = {
    "per_kwh": ("rate", "energy_kwh", "{currency}/kWh"),
    "per_kwh_by_price": ("brackets", "energy_kwh", "{currency}/kWh"),
    "per_kwh_foreign": ("rate", "energy_kwh", "{currency}/kWh"),
    "electricity_cost_share": ("rate", "electricity_cost_kzt", "share"),
    "mined_value_share": ("rate", "mined_value_kzt", "share"),
    "income_tax": ("rate", "mining_profit_kzt", "share"),
    "per_kwh_marginal": ("bands", "energy_kwh", "{currency}/kWh"),
    "per_kwh_time_of_use": ("periods", "energy_kwh", "{currency}/kWh"),
}
ANY_CURRENCY = {"per_kwh_marginal", "per_kwh_time_of_use"}  # a rate in another currency is converted at period_fx
NOT_RATES = ("exemption", "suspension", "reading")  # rule kinds that give no rate
SHARE_FAMILIES = {f for f, (_, _, unit) in FAMILIES.items() if unit == "share"}
TAX_PERIODS = ("month", "quarter", "year")
CURRENCIES = ("KZT", "USD", "EUR", "RUB", "KGS", "UZS")
STATUSES = ("enacted", "reported", "unverified", "proposed")
# the keys each level of a scheme or scenario file may have (anything else is refused, by name)
SCHEME_REQUIRED = ("scheme_id", "title", "family", "currency", "rate_unit", "tax_period", "parameters")
SCHEME_KEYS = {*SCHEME_REQUIRED, "jurisdiction", "base", "average_price_decimals", "notes", "readings"}
PARAMETER_KEYS = {"description", "unit", "price_unit", "values"}
ENTRY_KEYS = {"value", "status", "reference"}
REFERENCE_KEYS = {"title", "url"}
SCENARIO_KEYS = {"scenario_id", "title", "base", "schemes", "reforms", "readings", "assumptions", "reference",
                 "notes"}


def _failer(file: Path, kind: str = "scheme") -> Fail:
    return lambda msg: SchemeError(f"{kind} refused: {file.name}: {msg}")


CHECKERS: dict[str, Checker] = {"brackets": check_brackets, "rate": check_rate, "overrides": check_rules("overrides"),
                                "exemptions": check_rules("exemptions"), **families.CHECKERS}


def allowed_parameters(family: str) -> set[str]:
    return {FAMILIES[family][0], "overrides", "exemptions", "suspensions"}


def _check_head(fail: Fail, doc: dict[str, Any], file: Path) -> None:
    """Top-level keys: present, known, of the right type, consistent with the family."""
    check_keys(fail, "top level", doc, SCHEME_KEYS, SCHEME_REQUIRED)
    for key in ("scheme_id", "title", "family", "currency", "rate_unit", "tax_period"):
        check_text(fail, key, doc[key])
    for key in ("jurisdiction", "base", "notes"):
        check_text(fail, key, doc.get(key), optional=True)
    if doc["scheme_id"] != file.stem:
        raise fail(f"scheme_id {doc['scheme_id']!r} must match the file name {file.stem!r}")
    family, currency = doc["family"], doc["currency"]
    if family not in FAMILIES:
        raise fail(f"unknown family {family!r} (known: {', '.join(FAMILIES)})")
    if currency not in CURRENCIES:
        raise fail(f"unknown currency {currency!r} (known: {', '.join(CURRENCIES)})")
    if family == "per_kwh_foreign" and currency == "KZT":
        raise fail("currency: per_kwh_foreign needs a rate in a currency other than KZT")
    if family not in ANY_CURRENCY | {"per_kwh_foreign"} and currency != "KZT":
        raise fail(f"currency: family {family} computes in KZT: currency must be KZT (use per_kwh_foreign)")
    if "readings" in doc:
        readings.check_readings(fail, doc["readings"])
    if "base" in doc and doc["base"] != FAMILIES[family][1]:
        raise fail(f"base {doc['base']!r} does not fit family {family} (its base is {FAMILIES[family][1]})")
    dec = doc.get("average_price_decimals", 2)
    if not isinstance(dec, int) or isinstance(dec, bool) or not 0 <= dec <= 6:
        raise fail(f"average_price_decimals must be a whole number from 0 to 6, got {shown(dec)}")
    unit = FAMILIES[family][2].format(currency=currency)
    if doc["rate_unit"] != unit:
        raise fail(f"unknown rate_unit {doc['rate_unit']!r} for {family} (expected {unit})")
    if doc["tax_period"] not in TAX_PERIODS:
        raise fail(f"tax_period must be one of {', '.join(TAX_PERIODS)}, got {shown(doc['tax_period'])}")


def _check_unit(fail: Fail, where: str, p: dict[str, Any], pname: str, rate_unit: str) -> None:
    """A parameter's unit (optional) is the scheme's rate unit; a share may say of what ("share of …")."""
    if "unit" in p:
        unit = p["unit"]
        check_text(fail, f"{where}.unit", unit)
        if not (unit == rate_unit or (rate_unit == "share" and unit.startswith("share of "))):
            known = rate_unit + (", or 'share of <base>'" if rate_unit == "share" else "")
            raise fail(f"{where}.unit: unknown unit {unit!r} (known for this scheme: {known})")
    if "price_unit" in p and (pname != "brackets" or p["price_unit"] != "KZT/kWh"):
        raise fail(f"{where}.price_unit: only brackets have a price_unit, and it is KZT/kWh "
                   f"(got {shown(p['price_unit'])})")


def _check_values(fail: Fail, where: str, pname: str, values: Any, family: str) -> None:
    if not isinstance(values, dict) or not values:
        raise fail(f"{where}: needs values keyed by date (YYYY-MM-01)")
    dates = list(values)
    for d in dates:
        if not isinstance(d, dt.date) or isinstance(d, dt.datetime) or d.day != 1:
            raise fail(f"{where}.values: {d!r} is not the first day of a month (YYYY-MM-01)")
    if dates != sorted(dates):
        raise fail(f"{where}: dates out of order: {[str(d) for d in dates]}")
    for d, entry in values.items():
        ew = f"{where}.values.{d}"
        if not isinstance(entry, dict) or "value" not in entry:
            raise fail(f"{ew}: needs value, status and reference, got {shown(entry)}")
        check_keys(fail, ew, entry, ENTRY_KEYS)
        if entry.get("status") not in STATUSES:
            raise fail(f"{ew}: status must be one of {', '.join(STATUSES)}, got {shown(entry.get('status'))}")
        _check_reference(fail, f"{ew}.reference", entry.get("reference"))
        CHECKERS[pname](fail, ew, entry["value"], family in SHARE_FAMILIES)


def _check_reference(fail: Fail, where: str, ref: Any) -> None:
    if not isinstance(ref, dict) or not ref.get("title"):
        raise fail(f"{where}: reference needs a title (and a url)")
    check_keys(fail, where, ref, REFERENCE_KEYS)
    check_text(fail, f"{where}.title", ref["title"])
    check_text(fail, f"{where}.url", ref.get("url"), optional=True)


def check_scheme(doc: dict, file: Path) -> None:
    fail = _failer(file)
    _check_head(fail, doc, file)
    family = doc["family"]
    params, rate_param = doc["parameters"], FAMILIES[family][0]
    if not isinstance(params, dict) or rate_param not in params:
        raise fail(f"parameters must include {rate_param} (family {family})")
    rate_unit = FAMILIES[family][2].format(currency=doc["currency"])
    for pname, p in params.items():
        if pname not in allowed_parameters(family):
            raise fail(f"unknown parameter {pname!r} for family {family} "
                       f"(known: {', '.join(sorted(allowed_parameters(family)))})")
        where = f"parameters.{pname}"
        check_keys(fail, where, p, PARAMETER_KEYS, ("values",))
        check_text(fail, f"{where}.description", p.get("description"), optional=True)
        _check_unit(fail, where, p, pname, rate_unit)
        _check_values(fail, where, pname, p["values"], family)
    points = doc.get("readings") or {}
    for d, e in params.get("overrides", {}).get("values", {}).items():
        for o in e["value"]:
            if "reading" in o and o["reading"] not in points:
                raise fail(f"parameters.overrides.values.{d}, {o['name']}: follows reading {o['reading']!r}, which "
                           f"the scheme's readings do not document (readings: {', '.join(points) or 'none'})")
