"""The parameters of the scheme families added by issue 17, checked and turned into rows of tax.rate_rules.

- `bands` (family per_kwh_marginal): marginal rates per kWh on the taxpayer's consumption so far in the tax
  period, [{up_to_kwh, rate}, ..., {rate}]; the first band starts at 0 kWh, the last is open. A taxpayer is a
  farm, or the farms that name the same `taxpayer_id`.
- `periods` (family per_kwh_time_of_use): a rate per kWh by local hour of the day and (optionally) month of the
  year, [{name, hours: [0..23], months: [1..12], rate}]; every hour of every month is covered exactly once.
- `suspensions` (any family): windows of days, optionally limited to regions, in which mining is banned,
  [{name, from: YYYY-MM-DD, to: YYYY-MM-DD, regions: [...]}] (both days inclusive).

The rules are evaluated in sql/tax/rate_in_force.sql with every other rule of the law.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from minetax.tax.policy_yaml import Fail, check_keys, check_rate, check_text, is_number, shown

BAND_KEYS = {"up_to_kwh", "rate"}
PERIOD_KEYS = {"name", "hours", "months", "rate"}
SUSPENSION_KEYS = {"name", "from", "to", "regions"}
ALL_MONTHS = list(range(1, 13))


def check_bands(fail: Fail, where: str, value: Any, share: bool) -> None:
    """[{up_to_kwh, rate}, ..., {rate}]: bounds > 0 strictly increasing, the last band open."""
    if not isinstance(value, list) or not value:
        raise fail(f"{where}: bands need a non-empty list of {{up_to_kwh, rate}} (the last without up_to_kwh)")
    prev = 0.0
    for i, b in enumerate(value):
        last, bw = i == len(value) - 1, f"{where}, band {i + 1}"
        check_keys(fail, bw, b, BAND_KEYS, ("rate",))
        check_rate(fail, bw, b["rate"], share)
        up = b.get("up_to_kwh")
        if last and up is not None:
            raise fail(f"{where}: the last band must be open (no up_to_kwh), got up_to_kwh {up}")
        if not last:
            if not is_number(up) or up <= prev:
                raise fail(f"{bw}: up_to_kwh must be a number above the previous band's ({prev:g} kWh), "
                           f"got {shown(up)}; bands overlap or are unsorted")
            prev = float(up)


def band_rows(value: list[dict]) -> list[dict]:
    rows, lo = [], 0.0
    for b in value:
        hi = b.get("up_to_kwh")
        name = f"kWh so far >{lo:,.0f}" + (f" and <={hi:,.0f}" if hi is not None else "")
        rows.append({"kind": "band", "name": name, "volume_lo_kwh": lo, "volume_hi_kwh": hi, "rate": float(b["rate"])})
        lo = float(hi) if hi is not None else lo
    return rows


def _int_list(fail: Fail, where: str, v: Any, lo: int, hi: int) -> list[int]:
    if (not isinstance(v, list) or not v
            or not all(isinstance(x, int) and not isinstance(x, bool) and lo <= x <= hi for x in v)):
        raise fail(f"{where}: needs a non-empty list of whole numbers {lo}..{hi}, got {shown(v)}")
    if len(set(v)) != len(v):
        raise fail(f"{where}: lists a value twice: {v}")
    return list(v)


def check_periods(fail: Fail, where: str, value: Any, share: bool) -> None:
    """[{name, hours, months?, rate}]: each (month, hour) of the year covered by exactly one period."""
    if not isinstance(value, list) or not value:
        raise fail(f"{where}: periods need a non-empty list of {{name, hours, months, rate}}")
    seen: dict[tuple[int, int], str] = {}
    for i, p in enumerate(value):
        pw = f"{where}, period {i + 1}"
        check_keys(fail, pw, p, PERIOD_KEYS, ("name", "hours", "rate"))
        check_text(fail, f"{pw}.name", p["name"])
        check_rate(fail, pw, p["rate"], share)
        hours = _int_list(fail, f"{pw} ({p['name']}).hours", p["hours"], 0, 23)
        months = _int_list(fail, f"{pw} ({p['name']}).months", p.get("months", ALL_MONTHS), 1, 12)
        for m in months:
            for h in hours:
                if (m, h) in seen:
                    raise fail(f"{pw} ({p['name']}): month {m}, hour {h} is also in period {seen[(m, h)]!r}; "
                               "every hour of every month must be in exactly one period")
                seen[(m, h)] = p["name"]
    missing = [(m, h) for m in ALL_MONTHS for h in range(24) if (m, h) not in seen]
    if missing:
        m, h = missing[0]
        raise fail(f"{where}: month {m}, hour {h} is in no period ({len(missing)} month-hours uncovered); "
                   "every hour of every month must be in exactly one period")


def period_rows(value: list[dict]) -> list[dict]:
    return [{"kind": "period", "name": p["name"], "when_hours": sorted(p["hours"]),
             "when_months": sorted(p.get("months", ALL_MONTHS)), "rate": float(p["rate"])} for p in value]


def check_suspensions(fail: Fail, where: str, value: Any, share: bool) -> None:
    """[{name, from, to, regions?}]: days (from <= to), optional non-empty list of region names."""
    if not isinstance(value, list):
        raise fail(f"{where}: suspensions need a list of {{name, from, to, regions}}, got {shown(value)}")
    for i, s in enumerate(value):
        sw = f"{where}, suspension {i + 1}"
        check_keys(fail, sw, s, SUSPENSION_KEYS, ("name", "from", "to"))
        check_text(fail, f"{sw}.name", s["name"])
        for k in ("from", "to"):
            if not isinstance(s[k], dt.date) or isinstance(s[k], dt.datetime):
                raise fail(f"{sw} ({s['name']}).{k}: needs a day (YYYY-MM-DD), got {shown(s[k])}")
        if s["to"] < s["from"]:
            raise fail(f"{sw} ({s['name']}): to {s['to']} is before from {s['from']}")
        regions = s.get("regions")
        if regions is not None and (not isinstance(regions, list) or not regions
                                    or not all(isinstance(r, str) and r.strip() for r in regions)):
            raise fail(f"{sw} ({s['name']}).regions: needs a non-empty list of region names, got {shown(regions)}")


def suspension_rows(value: list[dict]) -> list[dict]:
    return [{"kind": "suspension", "name": s["name"], "window_from": s["from"], "window_to": s["to"],
             "when_region": s.get("regions"), "rate": 0.0} for s in value]


RULE_ROWS = {"bands": band_rows, "periods": period_rows, "suspensions": suspension_rows}
CHECKERS = {"bands": check_bands, "periods": check_periods, "suspensions": check_suspensions}
