"""A price or capacity path given as a CSV (`minetax forecast --price-csv FILE --capacity-csv FILE`): the forecast
under that path instead of the file's price model or capacity path.

    price CSV:    year,price_usd      (annual mean BTC price, USD; every draw gets it: the price is no longer random)
    capacity CSV: year,capacity_mw    (installed licensed capacity, MW; years after the last keep its value, no
                                       investment is added)
Bad input is refused naming the file, the column, the rule and example rows.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from minetax.forecast.assumptions import ForecastError

KINDS = {"price": "price_usd", "capacity": "capacity_mw"}


def _refuse(path: Path, column: str, rule: str, rows: pd.DataFrame | None = None) -> ForecastError:
    ex = "" if rows is None or rows.empty else "; example rows: " + "; ".join(
        ", ".join(f"{k}={v}" for k, v in r.items()) for r in rows.head(3).to_dict("records"))
    return ForecastError(f"{path}: column {column!r}: {rule}{ex}")


def read_path(path: Path | str, kind: str) -> dict[int, float]:
    """{year: value} from a two-column CSV (year and price_usd or capacity_mw)."""
    path, col = Path(path), KINDS[kind]
    if not path.is_file():
        raise ForecastError(f"{path}: no such file (a {kind} path needs a CSV with columns year,{col})")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise ForecastError(f"{path}: not a readable CSV ({type(e).__name__}): need columns year,{col}") from e
    df.columns = [c.strip() for c in df.columns]
    for c in ("year", col):
        if c not in df.columns:
            raise _refuse(path, c, f"missing (columns found: {', '.join(df.columns) or 'none'}; need year,{col})")
    if df.empty:
        raise _refuse(path, col, "no rows")
    years = pd.to_numeric(df["year"].str.strip(), errors="coerce")
    bad = df[years.isna() | (years % 1 != 0) | (years < 2009) | (years > 2100)]
    if len(bad):
        raise _refuse(path, "year", "must be a whole year between 2009 and 2100", bad)
    vals = pd.to_numeric(df[col].str.strip(), errors="coerce")
    limit = 0 if kind == "capacity" else 1e-9
    bad = df[vals.isna() | ~vals.map(lambda v: math.isfinite(v) if v == v else False) | (vals < limit)]
    if len(bad):
        rule = "must be a number >= 0 (MW)" if kind == "capacity" else "must be a number > 0 (USD per BTC)"
        raise _refuse(path, col, rule, bad)
    dup = df[years.duplicated(keep=False)]
    if len(dup):
        raise _refuse(path, "year", "each year once", dup)
    return {int(y): float(v) for y, v in sorted(zip(years, vals, strict=True))}


def overrides(price_csv: Path | str | None = None, capacity_csv: Path | str | None = None) -> dict:
    """The forecast-file sections these CSVs replace (minetax.forecast.assumptions.apply_overrides)."""
    out: dict = {}
    if price_csv:
        path = {y: {"value": v, "source": str(price_csv)} for y, v in read_path(price_csv, "price").items()}
        out["price"] = {"model": {"value": "path", "source": f"price path given as {price_csv}"}, "path": path}
    if capacity_csv:
        path = {y: {"value": v, "source": str(capacity_csv)} for y, v in read_path(capacity_csv, "capacity").items()}
        out["fleet"] = {"capacity_mw": {"path": path, "investment_kzt": None,
                                        "capex_kzt_per_mw": {"value": 0, "reason": "capacity path given as a CSV"}}}
    return out
