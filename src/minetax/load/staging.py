"""Reading one input file (CSV or Parquet) into a staging relation src_<dataset>, refusing what cannot be read.

Refused here, before any rule, with the file named: an empty file, a file that cannot be read (broken Parquet, a
CSV that is not UTF-8, whose lines end in CR alone, or that has a line with more or fewer fields than the
header), a missing required column, and a file without data rows.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from minetax import db
from minetax.errors import InputError
from minetax.sources.datasets import Dataset

UTF8_RULE = "file is valid UTF-8 text (not valid UTF-8: save the CSV as UTF-8, e.g. not Windows-1251)"
CR_RULE = "lines end with LF or CRLF"
FIELDS_RULE = "every line has as many fields as the header line (a text value with an unquoted comma?)"


def _read_error(path: Path, e: Exception) -> InputError:
    """A file DuckDB cannot read: say why in words (encoding, ragged line, broken Parquet), with its line."""
    lines = [ln.strip() for ln in str(e).splitlines()
             if ln.strip() and not ln.startswith("LINE ") and ln.strip().strip("^")]
    text = "\n".join(lines)
    at = re.search(r"CSV Error on Line: (\d+)", text)
    row = f"row {int(at.group(1)) - 1}: " if at else ""  # DuckDB counts the header as line 1
    if re.search(r"unicode|utf-?8", text, re.IGNORECASE):
        return InputError(str(path), [{"column": None, "rule": UTF8_RULE,
                                       "examples": [row + "invalid byte sequence"
                                                    + (f" (CSV line {at.group(1)})" if at else "")]}])
    fields = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    original = re.search(r"Original Line: (.*)", text)
    if fields:
        return InputError(str(path), [{"column": None, "rule": FIELDS_RULE, "examples": [
            f"{row}{original.group(1) if original else ''} ({fields.group(2)} fields, the header has "
            f"{fields.group(1)})"]}])
    return InputError(str(path), [{"column": None, "rule": "readable CSV or Parquet file",
                                   "examples": lines[:2] or [type(e).__name__]}])


def _ragged_rows(path: Path, source: Path, delim: str, width: int) -> InputError | None:
    """Rows with more or fewer fields than the header. DuckDB refuses most of them itself, but silently drops an
    extra field that is empty, so a farm name with an unquoted comma on a line ending in an empty
    decommissioned_on would shift every later value one column to the right."""
    bad: list[str] = []
    count = 0
    with open(source, encoding="utf-8-sig", newline="") as f:
        rows = (r for r in csv.reader(f, delimiter=delim) if r)
        next(rows, None)  # the header
        for i, r in enumerate(rows, start=1):
            if len(r) != width:
                count += 1
                if len(bad) < 5:
                    bad.append(f"row {i}: {delim.join(r)} ({len(r)} fields, the header has {width})")
    return InputError(str(path), [{"column": None, "rule": FIELDS_RULE, "unexpected_count": count,
                                   "examples": bad}]) if bad else None


def _csv_reader(path: Path, source: Path) -> str:
    """read_csv with the dialect fixed by the header line, not guessed: DuckDB's sniffer, given a line with an
    extra field, may pick another delimiter or skip lines and take a data line as the header (a file whose last
    line has an unquoted comma then reads as header-only). The header's names are the columns; the delimiter
    is ',' if the header has one, else ';' or a tab; quotes are '"'. A line with another number of fields fails."""
    with open(source, "rb") as f:
        first = f.readline(1 << 20)
    if b"\r" in first.rstrip(b"\r\n"):  # lines end in CR alone (classic Mac): the file would read as one line
        raise InputError(str(path), [{"column": None, "rule": CR_RULE, "examples": [
            "the line breaks are CR characters alone; save the file with Windows (CRLF) or Unix (LF) line endings"]}])
    try:
        header = first.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(str(path), [{"column": None, "rule": UTF8_RULE,
                                      "examples": [f"header line: invalid byte at position {e.start}"]}]) from e
    delim = _delimiter(header)
    names = next(csv.reader([header], delimiter=delim), [])
    columns = "{" + ", ".join(f"{db.literal(n)}: 'VARCHAR'" for n in names) + "}"
    return (f"read_csv({db.literal(source)}, auto_detect=false, header=true, delim={db.literal(delim)}, quote='\"', "
            f"escape='\"', columns={columns})")


def _delimiter(header: str) -> str:
    return next((d for d in (",", ";", "\t") if d in header), ",")


def _probe(probe: duckdb.DuckDBPyConnection, ds: Dataset, path: Path, source: Path, reader: str, parquet: bool
           ) -> tuple[list[str], int, pa.Table | None]:
    """The file's columns (refused if a required one is missing), its number of data rows, and for a CSV file its
    rows as text (Arrow)."""
    cols = [r[0] for r in probe.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    missing = [c for c in ds.required_columns if c not in cols]
    if missing:
        raise InputError(str(path), [{"column": c, "rule": "required column is present",
                                      "examples": [f"columns found: {', '.join(cols)}"]} for c in missing])
    if parquet:
        query = f"SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata({db.literal(source)})"
        return cols, int(probe.execute(query).fetchall()[0][0]), None
    table = probe.sql(f"SELECT * FROM {reader}").to_arrow_table()
    return cols, table.num_rows, table


def open_source(con: duckdb.DuckDBPyConnection, ds: Dataset, path: Path, stored: Path | None = None) -> int:
    """Make src_<name> (numbered rows in `_row`) from the file; return its number of data rows.

    Everything is read from the stored copy (`stored`, content-addressed: it cannot change under the run; the
    original `path` only names the file in messages). A Parquet file becomes a view over it, read as it is
    scanned: a 100M-row file is never held in memory. A CSV file is read whole into a temp
    table of text columns, so a bad line late in the file is found here, not halfway through staging.
    Refused here, before any rule: an empty file (0 bytes), a file that cannot be read (broken Parquet, a CSV that
    is not UTF-8 or has a line with more or fewer fields than the header), a missing required column, and a file
    without data rows (header only)."""
    source = stored or path
    if source.stat().st_size == 0:
        raise InputError(str(path), [{"column": None, "rule": "file is not empty",
                                      "examples": ["the file has 0 bytes (no header, no rows)"]}])
    parquet = path.suffix == ".parquet"
    reader = f"read_parquet({db.literal(source)})" if parquet else _csv_reader(path, source)
    # read in a connection of its own: a read error inside the warehouse's open transaction would abort it,
    # and the other files of the run could then not be checked or recorded
    try:
        with duckdb.connect() as probe:
            cols, n, table = _probe(probe, ds, path, source, reader, parquet)
    except duckdb.Error as e:
        raise _read_error(path, e) from e
    if not parquet:  # read by DuckDB, so valid UTF-8 with the header's dialect
        with open(source, encoding="utf-8-sig", newline="") as f:
            ragged = _ragged_rows(path, source, _delimiter(f.readline()), len(cols))
        if ragged:
            raise ragged
    if n == 0:
        raise InputError(str(path), [{"column": None, "rule": "file has at least one data row",
                                      "examples": [f"header only: {', '.join(cols)}"]}])
    extra = "".join(f", NULL AS {c}" for c in ds.column_names if c not in cols)
    if table is None:  # Parquet: a view over the stored file
        numbered = f"* EXCLUDE (file_row_number), file_row_number + 1 AS _row{extra}"
        scan = f"read_parquet({db.literal(source)}, file_row_number = true)"
        con.execute(f"CREATE OR REPLACE TEMP VIEW src_{ds.name} AS SELECT {numbered} FROM {scan}").fetchall()
        return n
    src_file_arrow = table.append_column("_row", pa.array(range(1, n + 1), pa.int64()))  # noqa: F841
    # the Arrow table is found by its variable name (DuckDB's replacement scan); con.register would refuse
    # while the connection still holds a partly fetched result
    con.execute(f"CREATE OR REPLACE TEMP TABLE src_{ds.name} AS SELECT *{extra} FROM src_file_arrow").fetchall()
    return n
