"""One way to show a number in every output (workbook, PDF and HTML report): by the column's unit, and for rates
and assumptions by the row's unit.

money, energy and hashrate: thousands separators, no decimals; a difference or gap: with its sign; prices: two
decimals; rates: with their unit (`2.00 KZT/kWh`, `0.047 USD/kWh`) or as a percentage (`20.0%`); shares: as a
percentage; ratios (PUE, bands, multipliers): two decimals; years and ids: as they are; counts: thousands
separators. Zero is `0` (never `-0` or `0.0000`); a missing value is blank (never `NaN`).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

UNITS = (("_kzt_per_kwh", "KZT/kWh"), ("_j_per_th", "J/TH"), ("_kzt", "KZT"), ("_kwh", "kWh"), ("_usd", "USD"),
         ("_btc", "BTC"), ("_ths", "TH/s"))
# style -> (Excel number format, decimals shown, text suffix); percent styles multiply by 100
STYLES: dict[str, tuple[str, int, str]] = {
    "amount": ("#,##0", 0, ""),
    "signed": ("+#,##0;-#,##0;0", 0, ""),
    "price": ("#,##0.00", 2, ""),
    "rate_kzt": ('#,##0.00 "KZT/kWh"', 2, " KZT/kWh"),
    "rate_usd": ('#,##0.000 "USD/kWh"', 3, " USD/kWh"),
    "percent": ("0.0%", 1, "%"),
    "ratio": ("0.00", 2, ""),
    "btc": ("#,##0.0000", 4, ""),
    "count": ("#,##0", 0, ""),
    "plain": ("0", 0, ""),
}
ADDITIVE = ("_kzt", "_kwh", "_usd", "_btc")  # columns a total row sums
SIGNED = ("difference", "gap")
PLAIN = {"year", "first_year", "last_year", "window_years", "seed"}
COUNTS = {"farms", "periods", "rows", "runs", "rules", "rules_passed", "rules_failed", "rows_checked", "rows_failing",
          "expectations", "passed", "failed", "element_count", "unexpected_count", "unexpected_rows",
          "years_covered"}
BY_UNIT = {"KZT/kWh": "rate_kzt", "USD/kWh": "rate_usd", "share": "percent", "ratio": "ratio"}
UNIT_COLUMNS = ("rate_unit", "unit")  # a row's unit, for its rate or low/central/high
PER_ROW_UNIT = {"rate", "low", "central", "high"}


def label(column: str) -> str:
    """Header with its unit: tax_low_kzt -> 'tax low (KZT)'."""
    for suffix, unit in UNITS:
        if column.endswith(suffix):
            return column[: -len(suffix)].replace("_", " ") + f" ({unit})"
    return column.replace("_", " ")


def style(column: str, row_unit: str | None = None) -> str:
    """The style of a numeric column (and of a rate or assumption, by its row's unit)."""
    if column in PER_ROW_UNIT and row_unit:
        return BY_UNIT.get(row_unit, "ratio")
    if column in PLAIN:
        return "plain"
    if column in COUNTS:
        return "count"
    if column.endswith("_per_kwh") or column == "fx_rate":
        return "price"
    if column == "share" or column.startswith("share_") or column.endswith("_share"):
        return "percent"
    if column.endswith("_btc") or column.startswith("btc_"):
        return "btc"
    if column.startswith(SIGNED) and column.endswith(ADDITIVE):
        return "signed"
    return "amount"


def row_unit(columns: list[str], values: tuple[Any, ...]) -> str | None:
    for c in UNIT_COLUMNS:
        if c in columns:
            v = values[columns.index(c)]
            return v if isinstance(v, str) else None
    return None


def additive(column: str) -> bool:
    """A column a total row may sum: money, energy or coins (not prices, rates, counts or years)."""
    return column.endswith(ADDITIVE) and not column.endswith("_per_kwh")


def missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or str(v) in ("NaT", "<NA>", "nan")


def number(v: float, name: str) -> float:
    """The value as shown: rounded to the style's decimals, and -0 made 0 (for text)."""
    _, decimals, suffix = STYLES[name]
    shown = round(float(v) * (100 if suffix == "%" else 1), decimals)
    return shown + 0.0  # -0.0 + 0.0 == 0.0


def scalar(v: Any) -> Any:
    """A numpy scalar as the Python value (pandas hands out numpy ints, floats and bools)."""
    return v.item() if isinstance(v, np.generic) else v


def text(v: Any, column: str, unit: str | None = None) -> str:
    """A cell as text, for the report."""
    v = scalar(v)
    if missing(v):
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, dt.datetime) and (v.hour, v.minute, v.second) == (0, 0, 0):
        return f"{v:%Y-%m-%d}"
    if isinstance(v, dt.datetime):
        return f"{v:%Y-%m-%d %H:%M:%S}"
    if isinstance(v, dt.date):
        return f"{v:%Y-%m-%d}"
    if isinstance(v, int | float) and not isinstance(v, bool):
        name = style(column, unit)
        _, decimals, suffix = STYLES[name]
        shown = number(v, name)
        if name == "plain":
            return str(int(shown))
        sign = "+" if name == "signed" and shown > 0 else ""
        return f"{sign}{shown:,.{decimals}f}{suffix}"
    return str(v)


def excel_value(v: Any) -> Any:
    """A number for a cell: -0.0 written as 0.0 (Excel shows -0.0 as -0)."""
    return float(v) + 0.0
