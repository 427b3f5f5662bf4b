"""Load inputs: file → raw store (as received) → typed staging → validation → core (idempotent merge).

Every input of a run is validated before any is merged. One failure quarantines that file, records
the failed rules, and raises InputError: core and the published snapshot stay exactly as they were.
A file already loaded (same dataset, same sha256) is recorded as `unchanged` and not applied again.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from minetax import db
from minetax.config import SQL_DIR, Settings
from minetax.errors import InputError, MinetaxError
from minetax.faults import crashpoint
from minetax.load import intake, reading_order, segments
from minetax.load.reading_order import Order
from minetax.load.staging import _read_error, open_source
from minetax.sources.datasets import DATASETS, Dataset
from minetax.validate import checks
from minetax.validate.suites import Report

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
    origin: str = "data"  # data: the data folder (one file per dataset) | inbox: the drop folder


def find_input(data_dir: Path, ds: Dataset) -> Path | None:
    """<name>.csv or <name>.parquet in data_dir or one of its direct subfolders (whatever it is: a directory or a
    pipe of that name is refused by name later, never skipped); more than one is an error."""
    found = [p for ext in EXTENSIONS for p in (*data_dir.glob(f"{ds.name}{ext}"), *data_dir.glob(f"*/{ds.name}{ext}"))
             if p.parent == data_dir or p.parent.is_dir()]
    if len(found) > 1:
        raise InputError(str(data_dir), [{"column": None, "rule": f"one file for dataset {ds.name}",
                                          "examples": [str(p) for p in found]}])
    return found[0] if found else None


def _examples(con: duckdb.DuckDBPyConnection, ds: Dataset, rows: list[int],
              details: dict[int, str] | None = None) -> list[str]:
    """The offending rows as the file has them, each followed by what the rule found there (`details`: the other
    id of a probable duplicate, the readings a changed farm would leave out)."""
    if not rows:
        return []
    cols = ", ".join(ds.column_names)
    df = con.execute(f"SELECT _row, {cols} FROM src_{ds.name} WHERE _row IN ({', '.join(map(str, rows[:5]))})"
                     " ORDER BY _row").df()
    details = details or {}
    return ["row " + str(r["_row"]) + ": " + ", ".join(f"{c}={r[c]!s}" for c in ds.column_names)
            + (f" ({details[int(r['_row'])]})" if int(r["_row"]) in details else "")
            for r in df.to_dict("records")]


def record_validation(con: duckdb.DuckDBPyConnection, run_id: str, report: Report) -> None:
    now = dt.datetime.now()
    con.executemany(
        db.statement("publish/record_validations.sql"),
        [[run_id, report.suite, report.target, r["expectation"], r["column"], r["success"], r["element_count"],
          r["unexpected_count"], json.dumps({"rule": r["rule"], "rows": r["example_rows"], "error": r["error"]}),
          now] for r in report.results])


def record_inputs(con: duckdb.DuckDBPyConnection, run_id: str, files: list[InputFile]) -> None:
    if not files:
        return
    now = dt.datetime.now()
    con.executemany(db.statement("publish/record_inputs.sql"),
                    [[run_id, f.dataset, f.path.name, str(f.path), str(f.stored_path or ""), f.sha256, f.rows,
                      f.status, now, f.origin] for f in files])


def inbox_files(inbox: Path, ds: Dataset) -> list[Path]:
    """Drop-folder files of a dataset: <name>.csv|parquet or <name>-<anything>.csv|parquet, in name order."""
    if not inbox.is_dir():
        return []
    pattern = re.compile(rf"^{re.escape(ds.name)}([-_.][^/]*)?\.(csv|parquet)$")
    return sorted(p for p in inbox.iterdir() if pattern.match(p.name))


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


def _unsupported_finding(path: Path) -> dict[str, Any]:
    return {"column": None, "rule": "input files are CSV or Parquet (Excel and other spreadsheet files are not "
                                    "read: save the sheet as CSV, UTF-8)",
            "examples": [f"{path.name}: {path.suffix} is not a supported format"]}


def discover(settings: Settings) -> list[tuple[Dataset, Path]]:
    """The run's input files: one per dataset from the data folder, then any new ones in the drop folder.
    Every required dataset without a file is named in one InputError, one finding per dataset."""
    found: list[tuple[Dataset, Path]] = []
    missing: list[dict[str, Any]] = []
    unsupported = unsupported_inputs(settings)
    for ds in DATASETS:
        path = find_input(settings.data_dir, ds)
        drops = inbox_files(settings.inbox_dir, ds)
        if path is None and not drops and not ds.optional:
            missing.append(_missing_finding(settings, ds, [p for d, p in unsupported if d is ds]))
        found += [(ds, p) for p in ([path] if path else []) + drops]
    if len(missing) == 1:
        raise InputError(str(settings.data_dir / f"{missing[0]['dataset']}.csv"), missing)
    if missing:
        raise InputError(f"{settings.data_dir}: {len(missing)} required datasets have no file "
                         f"({', '.join(f['dataset'] for f in missing)}; `minetax init DIR` writes a complete data "
                         "folder)", missing)
    return found


def _missing_finding(settings: Settings, ds: Dataset, unsupported: list[Path]) -> dict[str, Any]:
    return {"column": None, "dataset": ds.name, "rule": f"required input file is present (dataset {ds.name})",
            "examples": [f"looked for {ds.name}.csv or {ds.name}.parquet in {settings.data_dir} "
                         f"and its subfolders, and in the drop folder {settings.inbox_dir}"]
            + [_unsupported_finding(p)["examples"][0] + " (Excel inputs are not supported: save it as CSV)"
               for p in unsupported]}


Rejected = tuple[InputFile, list[dict[str, Any]]]  # a refused file and its findings


class ScanError(InputError):
    """A file that failed while it was scanned (its footer and schema were readable): the error aborted the
    load's transaction, so no further file can be checked in it."""


def _stage_and_check(con: duckdb.DuckDBPyConnection, ds: Dataset, f: InputFile
                     ) -> tuple[Report | None, list[dict[str, Any]], Order | None]:
    """Stage one file and run its suite; the findings are empty when it passed."""
    try:
        f.rows = open_source(con, ds, f.path, f.stored_path)
    except InputError as e:
        return None, e.findings, None
    if (SQL_DIR / f"staging/typed_{ds.name}.sql").exists():
        db.run_file(con, f"staging/typed_{ds.name}.sql")
    db.run_file(con, f"staging/stage_{ds.name}.sql")
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
                 "examples": _examples(con, ds, r["example_rows"], checks.row_details(
                     con, f"input.{ds.name}", f"stage_{ds.name}", r)) or ([r["error"]] if r["error"] else [])}
                for r in report.failures]
    return report, findings, order


def _has_readings(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM core.energy_reading_segments").fetchall()[0][0] > 0)


def _record_changes(con: duckdb.DuckDBPyConnection, ds: Dataset, run_id: str, order: Order | None = None) -> None:
    """What the staged file changes, before it is merged: months for readings, hashrate and network data;
    'any month' for farms and the other figures; nothing for collections (used only by the tax gap view).
    Readings in order with nothing in core near them change exactly the months they cover (known already)."""
    if order is not None and order.ordered and not order.near_core:
        con.executemany("INSERT INTO meta.changes (run_id, dataset, month) VALUES (?, ?, ?)",
                        [[run_id, ds.name, m] for m in sorted(order.months)])
    elif (SQL_DIR / f"staging/changes_{ds.name}.sql").exists():
        db.run_file(con, f"staging/changes_{ds.name}.sql", {"run_id": run_id})
    elif ds.name != "collections":
        con.execute("INSERT INTO meta.changes (run_id, dataset, month) VALUES (?, ?, NULL)", [run_id, ds.name])


def _merge(con: duckdb.DuckDBPyConnection, settings: Settings, ds: Dataset, f: InputFile, run_id: str,
           order: Order | None) -> None:
    if ds.name == "energy_readings":
        if f.stored_path is None:  # every file that reaches a merge was taken into raw/ (_take)
            raise MinetaxError(f"{f.path}: no raw copy to merge from")
        segments.add(con, settings.home, f.sha256, f.stored_path, f.rows, run_id,
                     replaces=order is not None and order.near_core, kwh=f.kwh,
                     untrimmed=order.untrimmed if order is not None else None,
                     store=getattr(settings, "readings_store", None))
    else:
        db.run_file(con, f"core/{ds.name}.sql")


class Refused(InputError):
    """Input files were refused: the run's transaction must be rolled back. Carries what the run took (`files`),
    the validation reports, and the refused files with their findings (`rejected`), to be recorded after the
    rollback (minetax.pipeline.fail)."""

    def __init__(self, files: list[InputFile], reports: list[Report], rejected: list[Rejected]) -> None:
        f, findings = rejected[0]
        super().__init__(str(f.path), findings)
        if len(rejected) > 1:
            self.args = (str(self) + "\n" + "\n".join(str(InputError(str(g.path), fs)) for g, fs in rejected[1:]),)
        self.files, self.reports, self.rejected = files, reports, rejected


def _take(settings: Settings, ds: Dataset, path: Path, inbox: bool) -> InputFile:
    """The raw copy of one discovered file (refused by name if it is not a regular file in its folder)."""
    intake.refuse_kind(path, settings.inbox_dir if inbox else path.parent)
    try:
        sha, stored = intake.take(path, settings.raw_dir, ds.name)
    except intake.StillWriting:
        if inbox:
            return InputFile(ds.name, path, "", status="not_taken", origin="inbox")
        raise intake.still_writing(path) from None
    return InputFile(ds.name, path, sha, stored_path=stored, origin="inbox" if inbox else "data")


def _check_one(con: duckdb.DuckDBPyConnection, settings: Settings, ds: Dataset, f: InputFile, run_id: str,
               state: dict[str, Any]) -> None:
    """Validate one taken file and, while nothing has been refused, merge it (within the run's transaction)."""
    try:
        report, findings, order = _stage_and_check(con, ds, f)
    except ScanError as e:  # the transaction is aborted: refuse the batch with this file named
        f.status = "quarantined"
        state["rejected"].append((f, e.findings))
        raise Refused(state["files"], state["reports"], state["rejected"]) from None
    crashpoint("ingest:validated")
    if report:
        state["reports"].append(report)
    if findings:
        f.status = "quarantined"
        state["rejected"].append((f, findings))
        return
    f.status = "loaded"
    if not state["rejected"]:  # once a file failed nothing will be kept: stop merging, keep checking
        _record_changes(con, ds, run_id, order)
        _merge(con, settings, ds, f, run_id, order)
        crashpoint("ingest:merged")


def load_inputs(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str,
                progress: Callable[[str], None] | None = None) -> tuple[list[InputFile], list[Report]]:
    """Stage, validate and merge every input file inside the caller's transaction; raise Refused if any fails
    (the caller rolls back). Returns the files taken and the validation reports.

    Files are taken in dataset order (farms first), so a later file is checked against what the earlier
    ones put into core (a new month of readings against the readings already there). A file is `unchanged` when
    the last file loaded from the same path had the same content (so a corrected file put back is applied
    again); two files of the same content in one run are applied once (the second is a `duplicate`)."""
    state: dict[str, Any] = {"files": [], "reports": [], "rejected": []}
    files, rejected = state["files"], state["rejected"]
    # later stages look farms up in stage_farms ∪ core.farms; empty unless a new farms file is staged
    con.execute("CREATE OR REPLACE TEMP TABLE stage_farms AS SELECT * FROM core.farms WHERE false").fetchall()
    db.run_file(con, "staging/farm_id_macros.sql")  # the farm-id macros the stage files use
    inputs = discover(settings)
    for ds, path in unsupported_inputs(settings):  # never read: refused by its format
        f = _take(settings, ds, path, path.parent == settings.inbox_dir)
        f.status = "quarantined"
        files.append(f)
        rejected.append((f, [_unsupported_finding(path)]))
    seen: set[tuple[str, str]] = set()
    for ds, path in inputs:
        if progress:
            progress(f"validating {path.name}")
        try:
            f = _take(settings, ds, path, path.parent == settings.inbox_dir)
        except InputError as e:
            rejected.append((InputFile(ds.name, path, "", status="quarantined"), e.findings))
            continue
        files.append(f)
        crashpoint("ingest:hashed")
        if f.status == "not_taken":
            continue
        if (ds.name, f.sha256) in seen:
            f.status = "duplicate"
            continue
        seen.add((ds.name, f.sha256))
        if _unchanged(con, ds.name, f):
            continue
        _check_one(con, settings, ds, f, run_id, state)
    if rejected:
        raise Refused(files, state["reports"], rejected)
    return files, state["reports"]


def last_loaded(con: duckdb.DuckDBPyConnection, dataset: str, origin: str, path: Path) -> tuple[str, int] | None:
    """(sha256, rows) of the last file loaded from the same place, or None. The same place: the data folder's file
    of the dataset (wherever the folder is), or the drop-folder file of the same name. Only committed loads count
    (a run that did not commit left no `loaded` record)."""
    last = con.execute(db.statement("staging/last_loaded.sql"), {
        "dataset": dataset, "origin": origin, "file_name": path.name, "source_path": str(path)}).fetchall()
    return (last[0][0], last[0][1]) if last else None


def _unchanged(con: duckdb.DuckDBPyConnection, dataset: str, f: InputFile) -> bool:
    """The last file loaded from the same place had this content: core holds it already."""
    last = last_loaded(con, dataset, f.origin, f.path)
    if not last or last[0] != f.sha256:
        return False
    f.status, f.rows = "unchanged", last[1]
    return True


def record_quarantine(con: duckdb.DuckDBPyConnection, run_id: str, rejected: list[Rejected]) -> None:
    """Each refused file with its failed rules and example rows (after the run's transaction was rolled back)."""
    now = dt.datetime.now()
    for f, findings in rejected:
        db.run_file(con, "publish/record_quarantine.sql", {
            "run_id": run_id, "dataset": f.dataset, "file_name": f.path.name, "sha256": f.sha256,
            "stored_path": str(f.stored_path or ""), "failed_rules": json.dumps(findings), "quarantined_at": now})
