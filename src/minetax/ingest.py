"""Load inputs: file → raw store (as received) → typed staging → validation → core (idempotent merge).

Every input of a run is validated before any is merged. One failure quarantines that file, records
the failed rules, and raises InputError: core and the published snapshot stay exactly as they were.
A file already loaded (same dataset, same sha256) is recorded as `unchanged` and not applied again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from minetax import checks, db, reading_order, segments
from minetax.config import SQL_DIR, Settings
from minetax.datasets import DATASETS, Dataset
from minetax.errors import InputError
from minetax.faults import crashpoint
from minetax.reading_order import Order
from minetax.validate import Report

EXTENSIONS = (".csv", ".parquet")
# formats a user may drop in by mistake: refused by name, never read (inputs are CSV or Parquet only)
UNSUPPORTED = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


@dataclass
class InputFile:
    dataset: str
    path: Path
    sha256: str
    rows: int = 0
    status: str = "pending"  # loaded | unchanged | quarantined | not_loaded
    stored_path: Path | None = None
    kwh: float | None = None  # readings: the file's total kWh, counted in its suite's scan


def find_input(data_dir: Path, ds: Dataset) -> Path | None:
    """<name>.csv or <name>.parquet in data_dir or one of its direct subfolders; more than one is an error."""
    found = [p for ext in EXTENSIONS for p in (*data_dir.glob(f"{ds.name}{ext}"), *data_dir.glob(f"*/{ds.name}{ext}"))]
    if len(found) > 1:
        raise InputError(str(data_dir), [{"column": None, "rule": f"one file for dataset {ds.name}",
                                          "examples": [str(p) for p in found]}])
    return found[0] if found else None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _literal(path: Path) -> str:
    return _quote(str(path))


UTF8_RULE = "file is valid UTF-8 text (not valid UTF-8: save the CSV as UTF-8, e.g. not Windows-1251)"
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


def _ragged_rows(path: Path, delim: str, width: int) -> InputError | None:
    """Rows with more or fewer fields than the header. DuckDB refuses most of them itself, but silently drops an
    extra field that is empty, so a farm name with an unquoted comma on a line ending in an empty
    decommissioned_on would shift every later value one column to the right."""
    bad, count = [], 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = (r for r in csv.reader(f, delimiter=delim) if r)
        next(rows, None)  # the header
        for i, r in enumerate(rows, start=1):
            if len(r) != width:
                count += 1
                if len(bad) < 5:
                    bad.append(f"row {i}: {delim.join(r)} ({len(r)} fields, the header has {width})")
    return InputError(str(path), [{"column": None, "rule": FIELDS_RULE, "unexpected_count": count,
                                   "examples": bad}]) if bad else None


def _csv_reader(path: Path) -> str:
    """read_csv with the dialect fixed by the header line, not guessed: DuckDB's sniffer, given a line with an
    extra field, may pick another delimiter or skip lines and take a data line as the header (a file whose last
    line has an unquoted comma then reads as header-only). The header's names are the columns; the delimiter
    is ',' if the header has one, else ';' or a tab; quotes are '"'. A line with another number of fields fails."""
    with open(path, "rb") as f:
        first = f.readline()
    try:
        header = first.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(str(path), [{"column": None, "rule": UTF8_RULE,
                                      "examples": [f"header line: invalid byte at position {e.start}"]}]) from e
    delim = _delimiter(header)
    names = next(csv.reader([header], delimiter=delim), [])
    columns = "{" + ", ".join(f"{_quote(n)}: 'VARCHAR'" for n in names) + "}"
    return (f"read_csv({_literal(path)}, auto_detect=false, header=true, delim={_quote(delim)}, quote='\"', "
            f"escape='\"', columns={columns})")


def _delimiter(header: str) -> str:
    return next((d for d in (",", ";", "\t") if d in header), ",")


_quote = db.literal


def open_source(con: duckdb.DuckDBPyConnection, ds: Dataset, path: Path, stored: Path | None = None) -> int:
    """Make src_<name> (numbered rows in `_row`) from the file; return its number of data rows.

    A Parquet file becomes a view over the stored copy (`stored`, content-addressed: it cannot change under the
    run), read as it is scanned: a 100M-row file is never held in memory. A CSV file is read whole into a temp
    table of text columns, so a bad line late in the file is found here, not halfway through staging.
    Refused here, before any rule: an empty file (0 bytes), a file that cannot be read (broken Parquet, a CSV that
    is not UTF-8 or has a line with more or fewer fields than the header), a missing required column, and a file
    without data rows (header only)."""
    if path.stat().st_size == 0:
        raise InputError(str(path), [{"column": None, "rule": "file is not empty",
                                      "examples": ["the file has 0 bytes (no header, no rows)"]}])
    source = stored or path
    parquet = path.suffix == ".parquet"
    reader = f"read_parquet({_literal(source)})" if parquet else _csv_reader(path)
    # read in a connection of its own: a read error inside the warehouse's open transaction would abort it,
    # and the other files of the run could then not be checked or recorded
    probe = duckdb.connect()
    try:
        cols = [r[0] for r in probe.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
        missing = [c for c in ds.required_columns if c not in cols]
        if missing:
            raise InputError(str(path), [{"column": c, "rule": "required column is present",
                                          "examples": [f"columns found: {', '.join(cols)}"]} for c in missing])
        if parquet:
            n = probe.execute(f"SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata({_literal(source)})"
                              ).fetchall()[0][0]
        else:
            table = probe.sql(f"SELECT * FROM {reader}").to_arrow_table()
            n = table.num_rows
    except duckdb.Error as e:
        raise _read_error(path, e) from e
    finally:
        probe.close()
    if not parquet:  # read by DuckDB, so valid UTF-8 with the header's dialect
        with open(path, encoding="utf-8-sig", newline="") as f:
            ragged = _ragged_rows(path, _delimiter(f.readline()), len(cols))
        if ragged:
            raise ragged
    if n == 0:
        raise InputError(str(path), [{"column": None, "rule": "file has at least one data row",
                                      "examples": [f"header only: {', '.join(cols)}"]}])
    extra = "".join(f", NULL AS {c}" for c in ds.column_names if c not in cols)
    if parquet:
        con.execute(f"CREATE OR REPLACE TEMP VIEW src_{ds.name} AS SELECT * EXCLUDE (file_row_number), "
                    f"file_row_number + 1 AS _row{extra} FROM read_parquet({_literal(source)}, "
                    "file_row_number = true)").fetchall()
        return n
    src_file_arrow = table.append_column("_row", pa.array(range(1, n + 1), pa.int64()))  # noqa: F841
    # the Arrow table is found by its variable name (DuckDB's replacement scan); con.register would refuse
    # while the connection still holds a partly fetched result
    con.execute(f"CREATE OR REPLACE TEMP TABLE src_{ds.name} AS SELECT *{extra} FROM src_file_arrow").fetchall()
    return n


def _examples(con, ds: Dataset, rows: list[int]) -> list[str]:
    if not rows:
        return []
    cols = ", ".join(ds.column_names)
    df = con.execute(f"SELECT _row, {cols} FROM src_{ds.name} WHERE _row IN ({', '.join(map(str, rows[:5]))})"
                     " ORDER BY _row").df()
    return ["row " + str(r["_row"]) + ": " + ", ".join(f"{c}={r[c]!s}" for c in ds.column_names)
            for r in df.to_dict("records")]


def _store_raw(settings: Settings, f: InputFile) -> Path:
    dest = settings.raw_dir / f.dataset / f"{f.sha256}{f.path.suffix}"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".tmp")
        shutil.copyfile(f.path, tmp)  # a copy, not a link: the user may edit the original in place
        os.replace(tmp, dest)
    return dest


def _already_loaded(con, dataset: str, sha: str) -> bool:
    return con.execute("SELECT count(*) FROM meta.inputs WHERE dataset = ? AND sha256 = ? AND status = 'loaded'",
                       [dataset, sha]).fetchone()[0] > 0


def record_validation(con, run_id: str, report: Report) -> None:
    now = dt.datetime.now()
    con.executemany(
        "INSERT INTO meta.validations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, report.suite, report.target, r["expectation"], r["column"], r["success"], r["element_count"],
          r["unexpected_count"], json.dumps({"rule": r["rule"], "rows": r["example_rows"], "error": r["error"]}),
          now] for r in report.results])


def _record_inputs(con, run_id: str, files: list[InputFile]) -> None:
    now = dt.datetime.now()
    con.executemany("INSERT INTO meta.inputs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[run_id, f.dataset, f.path.name, str(f.path), str(f.stored_path or ""), f.sha256, f.rows,
                      f.status, now] for f in files])


def inbox_files(inbox: Path, ds: Dataset) -> list[Path]:
    """Drop-folder files of a dataset: <name>.csv|parquet or <name>-<anything>.csv|parquet, in name order."""
    if not inbox.is_dir():
        return []
    pattern = re.compile(rf"^{re.escape(ds.name)}([-_.][^/]*)?\.(csv|parquet)$")
    return sorted(p for p in inbox.iterdir() if p.is_file() and pattern.match(p.name))


def unsupported_inputs(settings: Settings) -> list[tuple[Dataset, Path]]:
    """Files named like an input but in a format minetax does not read (Excel, ODS): in the data folder, one
    level of subfolders, or the drop folder. They are refused, so that a dropped energy_readings.xlsx is not
    silently ignored while the run goes on with the old data."""
    found = []
    for ds in DATASETS:
        for ext in UNSUPPORTED:
            found += [(ds, p) for p in (*settings.data_dir.glob(f"{ds.name}{ext}"),
                                        *settings.data_dir.glob(f"*/{ds.name}{ext}")) if p.is_file()]
        if settings.inbox_dir.is_dir():
            pattern = re.compile(rf"^{re.escape(ds.name)}([-_.][^/]*)?({'|'.join(map(re.escape, UNSUPPORTED))})$")
            found += [(ds, p) for p in sorted(settings.inbox_dir.iterdir()) if p.is_file() and pattern.match(p.name)]
    return found


def _unsupported_finding(path: Path) -> dict:
    return {"column": None, "rule": "input files are CSV or Parquet (Excel and other spreadsheet files are not "
                                    "read: save the sheet as CSV, UTF-8)",
            "examples": [f"{path.name}: {path.suffix} is not a supported format"]}


def discover(settings: Settings) -> list[tuple[Dataset, Path]]:
    """The run's input files: one per dataset from the data folder, then any new ones in the drop folder."""
    found = []
    unsupported = unsupported_inputs(settings)
    for ds in DATASETS:
        path = find_input(settings.data_dir, ds)
        drops = inbox_files(settings.inbox_dir, ds)
        if path is None and not drops and not ds.optional:
            raise InputError(str(settings.data_dir / f"{ds.name}.csv"), [{
                "column": None, "rule": "required input file is present",
                "examples": [f"looked for {ds.name}.csv or {ds.name}.parquet in {settings.data_dir} "
                             f"and its subfolders, and in the drop folder {settings.inbox_dir}"]
                + [_unsupported_finding(p)["examples"][0] + " (Excel inputs are not supported: save it as CSV)"
                   for d, p in unsupported if d is ds]}])
        found += [(ds, p) for p in ([path] if path else []) + drops]
    return found


class ScanError(InputError):
    """A file that failed while it was scanned (its footer and schema were readable): the error aborted the
    load's transaction, so no further file can be checked in it."""


def _stage_and_check(con, ds: Dataset, f: InputFile) -> tuple[Report | None, list[dict], Order | None]:
    """Stage one file and run its suite; the findings are empty when it passed."""
    try:
        f.rows = open_source(con, ds, f.path, f.stored_path)
    except InputError as e:
        return None, e.findings, None
    if (SQL_DIR / f"typed_{ds.name}.sql").exists():
        db.run_file(con, f"typed_{ds.name}.sql")
    db.run_file(con, f"stage_{ds.name}.sql")
    crashpoint("ingest:staged")
    order = None
    try:
        if ds.name == "energy_readings":  # keys and overlaps, into readings_flags, before the suite reads them
            order = reading_order.check(con, has_core=_has_readings(con),
                                        parquet=(f.stored_path or f.path) if f.path.suffix == ".parquet" else None)
        report = checks.check_relation(con, f"input.{ds.name}", f"stage_{ds.name}", f.path.name,
                                       totals={"kwh": "sum(kwh)"} if ds.name == "energy_readings" else None)
        f.kwh = report.totals.get("kwh")
    except (duckdb.Error, pa.ArrowException, OSError) as e:  # e.g. a Parquet page that cannot be decoded (DuckDB,
        # or by the Arrow stream of the order check), found while scanning
        raise ScanError(str(f.path), _read_error(f.path, e).findings) from e
    findings = [{"column": r["column"], "rule": r["rule"], "expectation": r["expectation"],
                 "unexpected_count": r["unexpected_count"],
                 "examples": _examples(con, ds, r["example_rows"]) or ([r["error"]] if r["error"] else [])}
                for r in report.failures]
    return report, findings, order


def _has_readings(con) -> bool:
    return con.execute("SELECT count(*) FROM core.energy_reading_segments").fetchall()[0][0] > 0


def _record_changes(con, ds: Dataset, run_id: str, order: Order | None = None) -> None:
    """What the staged file changes, before it is merged: months for readings, hashrate and network data;
    'any month' for farms and the other figures; nothing for collections (used only by the tax gap view).
    Readings in order with nothing in core near them change exactly the months they cover (known already)."""
    if order is not None and order.ordered and not order.near_core:
        con.executemany("INSERT INTO meta.changes (run_id, dataset, month) VALUES (?, ?, ?)",
                        [[run_id, ds.name, m] for m in sorted(order.months)])
    elif (SQL_DIR / f"changes_{ds.name}.sql").exists():
        db.run_file(con, f"changes_{ds.name}.sql", {"run_id": run_id})
    elif ds.name != "collections":
        con.execute("INSERT INTO meta.changes (run_id, dataset, month) VALUES (?, ?, NULL)", [run_id, ds.name])


def _merge(con, settings: Settings, ds: Dataset, f: InputFile, run_id: str, order: Order | None) -> None:
    if ds.name == "energy_readings":
        segments.add(con, settings.home, f.sha256, f.stored_path, f.rows, run_id,
                     replaces=order is not None and order.near_core, kwh=f.kwh,
                     untrimmed=order.untrimmed if order is not None else None)
    else:
        db.run_file(con, f"merge_{ds.name}.sql")


def load_inputs(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, progress=None) -> list[InputFile]:
    """Stage, validate and merge every input file in one transaction: all of them, or none.

    Files are taken in dataset order (farms first), so a later file is checked against what the earlier
    ones put into core (a new month of readings against the readings already there)."""
    files: list[InputFile] = []
    reports: list[Report] = []
    rejected: list[tuple[InputFile, list[dict]]] = []
    con.execute("BEGIN TRANSACTION")
    try:
        # later stages look farms up in stage_farms ∪ core.farms; empty unless a new farms file is staged
        con.execute("CREATE OR REPLACE TEMP TABLE stage_farms AS SELECT * FROM core.farms WHERE false")
        inputs = discover(settings)
        for ds, path in unsupported_inputs(settings):  # never read: refused by its format
            f = InputFile(ds.name, path, sha256_file(path), status="quarantined")
            f.stored_path = _store_raw(settings, f)
            files.append(f)
            rejected.append((f, [_unsupported_finding(path)]))
        for ds, path in inputs:
            f = InputFile(ds.name, path, sha256_file(path))
            f.stored_path = _store_raw(settings, f)
            files.append(f)
            crashpoint("ingest:hashed")
            if progress:
                progress(f"validating {path.name}")
            if _already_loaded(con, ds.name, f.sha256):
                f.status = "unchanged"
                f.rows = con.execute("SELECT max(rows) FROM meta.inputs WHERE dataset = ? AND sha256 = ?",
                                     [ds.name, f.sha256]).fetchone()[0]
                continue
            try:
                report, findings, order = _stage_and_check(con, ds, f)
            except ScanError as e:  # the transaction is aborted: refuse the batch with this file named
                f.status = "quarantined"
                rejected.append((f, e.findings))
                break
            crashpoint("ingest:validated")
            if report:
                reports.append(report)
            if findings:
                f.status = "quarantined"
                rejected.append((f, findings))
                continue
            f.status = "loaded"
            if not rejected:  # once a file failed nothing will be kept: stop merging, keep checking
                if progress:
                    progress(f"merging {path.name}")
                _record_changes(con, ds, run_id, order)
                _merge(con, settings, ds, f, run_id, order)
                crashpoint("ingest:merged")
        if not rejected:
            _record_inputs(con, run_id, files)
            for r in reports:
                record_validation(con, run_id, r)
            con.execute("COMMIT")
            crashpoint("ingest:committed")
            return files
        con.execute("ROLLBACK")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    # refused: record what happened (outside the rolled-back transaction) and raise
    for f in files:
        if f.status == "loaded":
            f.status = "not_loaded"  # valid, but its batch was refused
    _record_inputs(con, run_id, files)
    for r in reports:
        record_validation(con, run_id, r)
    now = dt.datetime.now()
    for f, findings in rejected:
        con.execute("INSERT INTO meta.quarantine VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [run_id, f.dataset, f.path.name, f.sha256, str(f.stored_path), json.dumps(findings), now])
    f, findings = rejected[0]
    err = InputError(str(f.path), findings)
    if len(rejected) > 1:
        err.args = (str(err) + "\n" + "\n".join(str(InputError(str(g.path), fs)) for g, fs in rejected[1:]),)
    raise err
