"""Load inputs: file → raw store (as received) → typed staging → validation → core (idempotent merge).

Every input of a run is validated before any is merged. One failure quarantines that file, records
the failed rules, and raises InputError: core and the published snapshot stay exactly as they were.
A file already loaded (same dataset, same sha256) is recorded as `unchanged` and not applied again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from minetax import db
from minetax.config import SQL_DIR, Settings
from minetax.datasets import DATASETS, Dataset
from minetax.errors import InputError
from minetax.validate import Report, Validator

EXTENSIONS = (".csv", ".parquet")


@dataclass
class InputFile:
    dataset: str
    path: Path
    sha256: str
    rows: int = 0
    status: str = "pending"  # loaded | unchanged | quarantined | not_loaded
    stored_path: Path | None = None


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
    return "'" + str(path).replace("'", "''") + "'"


def open_source(con: duckdb.DuckDBPyConnection, ds: Dataset, path: Path) -> int:
    """Create temp view src_<name> over the file (all text for CSV), numbered rows in `_row`."""
    reader = (f"read_csv({_literal(path)}, all_varchar=true, header=true)" if path.suffix == ".csv"
              else f"read_parquet({_literal(path)})")
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as e:
        raise InputError(str(path), [{"column": None, "rule": "readable CSV or Parquet file",
                                      "examples": [str(e).splitlines()[0]]}]) from e
    missing = [c for c in ds.required_columns if c not in cols]
    if missing:
        raise InputError(str(path), [{"column": c, "rule": "required column is present",
                                      "examples": [f"columns found: {', '.join(cols)}"]} for c in missing])
    extra = ", ".join(f"NULL AS {c}" for c in ds.column_names if c not in cols)
    con.execute(f"CREATE OR REPLACE TEMP VIEW src_{ds.name} AS SELECT *, {extra + ', ' if extra else ''}"
                f"row_number() OVER () AS _row FROM {reader}").fetchall()
    return con.execute(f"SELECT count(*) FROM src_{ds.name}").fetchone()[0]


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


def discover(settings: Settings) -> list[tuple[Dataset, Path]]:
    """The run's input files: one per dataset from the data folder, then any new ones in the drop folder."""
    found = []
    for ds in DATASETS:
        path = find_input(settings.data_dir, ds)
        drops = inbox_files(settings.inbox_dir, ds)
        if path is None and not drops and not ds.optional:
            raise InputError(str(settings.data_dir / f"{ds.name}.csv"), [{
                "column": None, "rule": "required input file is present",
                "examples": [f"looked for {ds.name}.csv or {ds.name}.parquet in {settings.data_dir} "
                             f"and its subfolders, and in the drop folder {settings.inbox_dir}"]}])
        found += [(ds, p) for p in ([path] if path else []) + drops]
    return found


def _stage_and_check(con, ds: Dataset, f: InputFile, run_id: str, validator: Validator) -> tuple[Report | None,
                                                                                                  list[dict]]:
    """Stage one file and run its suite; the findings are empty when it passed."""
    try:
        f.rows = open_source(con, ds, f.path)
    except InputError as e:
        return None, e.findings
    db.run_file(con, f"stage_{ds.name}.sql")
    report = validator.validate(f"input.{ds.name}", con.execute(f"SELECT * FROM stage_{ds.name}").df(), f.path.name)
    findings = [{"column": r["column"], "rule": r["rule"], "expectation": r["expectation"],
                 "unexpected_count": r["unexpected_count"],
                 "examples": _examples(con, ds, r["example_rows"]) or ([r["error"]] if r["error"] else [])}
                for r in report.failures]
    return report, findings


def _record_changes(con, ds: Dataset, run_id: str) -> None:
    """What the staged file changes, before it is merged: months for readings, hashrate and network data;
    'any month' for farms and the other figures; nothing for collections (used only by the tax gap view)."""
    if (SQL_DIR / f"changes_{ds.name}.sql").exists():
        db.run_file(con, f"changes_{ds.name}.sql", {"run_id": run_id})
    elif ds.name != "collections":
        con.execute("INSERT INTO meta.changes (run_id, dataset, month) VALUES (?, ?, NULL)", [run_id, ds.name])


def load_inputs(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, validator: Validator,
                progress=None) -> list[InputFile]:
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
        for ds, path in discover(settings):
            f = InputFile(ds.name, path, sha256_file(path))
            f.stored_path = _store_raw(settings, f)
            files.append(f)
            if progress:
                progress(f"validating {path.name}")
            if _already_loaded(con, ds.name, f.sha256):
                f.status = "unchanged"
                f.rows = con.execute("SELECT max(rows) FROM meta.inputs WHERE dataset = ? AND sha256 = ?",
                                     [ds.name, f.sha256]).fetchone()[0]
                continue
            report, findings = _stage_and_check(con, ds, f, run_id, validator)
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
                _record_changes(con, ds, run_id)
                db.run_file(con, f"merge_{ds.name}.sql")
        if not rejected:
            _record_inputs(con, run_id, files)
            for r in reports:
                record_validation(con, run_id, r)
            con.execute("COMMIT")
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
