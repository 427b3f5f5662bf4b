"""Regenerate the two binary case files of the corpus (the text cases are written by hand).

    uv run python tests/bad_inputs/make_binary_cases.py

- truncated_parquet/energy_readings.parquet: a valid two-row Parquet file cut in half (no footer, as after
  an interrupted copy).
- excel_readings/energy_readings.xlsx: a real one-sheet workbook with the readings columns.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import openpyxl

HERE = Path(__file__).resolve().parent


def truncated_parquet() -> None:
    out = HERE / "truncated_parquet" / "energy_readings.parquet"
    out.parent.mkdir(exist_ok=True)
    full = out.with_suffix(".full.parquet")
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * FROM (VALUES
        ('A1', TIMESTAMP '2023-03-01 00:00:00', TIMESTAMP '2023-03-01 01:00:00', 5.0, 12.0),
        ('A1', TIMESTAMP '2023-03-01 01:00:00', TIMESTAMP '2023-03-01 02:00:00', 5.0, 12.0))
        AS t(farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh)) TO '{full}' (FORMAT parquet)""")
    con.close()
    data = full.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    full.unlink()


def excel_readings() -> None:
    out = HERE / "excel_readings" / "energy_readings.xlsx"
    out.parent.mkdir(exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "readings"
    ws.append(["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"])
    ws.append(["A1", "2023-03-01 00:00:00", "2023-03-01 01:00:00", 5, 12])
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 1)
    wb.save(out)


if __name__ == "__main__":
    truncated_parquet()
    excel_readings()
