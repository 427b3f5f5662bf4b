"""The `init` command: a data folder ready for one's own data.

`minetax init DIR` writes what `minetax run --data-dir DIR` reads (a data folder replaces every input, see the
README's "State (MINETAX_HOME) and inputs (--data-dir)"):
- a template per dataset one supplies oneself (farms, energy_readings): the header and the one example row of
  minetax.sources.datasets, so the folder runs as written and shows the format by example;
- templates of the optional datasets (farm_hashrate, collections) under a name the loader does not read
  (`<dataset>.example.csv`): an example row must not become data by accident;
- the public reference datasets of the embedded run (network, fx, country share, fleet efficiency) and their
  attribution, copied from the embedded data/reference.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from minetax.cli.common import console, err
from minetax.config import DEFAULT_DATA_DIR
from minetax.errors import InputError, MinetaxError
from minetax.sources.datasets import DATASETS, Dataset

# what every user replaces (the reference data covers the rest), and what with
OWN_DATA = {"farms": "your farms", "energy_readings": "your readings"}


@dataclass(frozen=True)
class Written:
    path: Path  # relative to the data folder
    what: str


def _write_template(folder: Path, ds: Dataset, name: str) -> None:
    with open(folder / name, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(ds.column_names)
        out.writerow([ds.example.get(c, "") for c in ds.column_names])


def _coverage(path: Path, ds: Dataset) -> str:
    """'N rows, FIRST to LAST' of a reference CSV, by its date key column (as text: ISO dates sort as dates)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    dates = [c.name for c in ds.columns if c.name in ds.key and c.type == "DATE"]
    values = sorted(r[dates[0]] for r in rows if r.get(dates[0])) if dates else []
    return f"{len(rows):,} rows" + (f", {values[0]} to {values[-1]}" if values else "")


def write_data_folder(folder: Path) -> list[Written]:
    """Write the templates and copy the reference data into `folder`; what was written, in the order written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for ds in DATASETS:
        if ds.name in OWN_DATA:
            _write_template(folder, ds, f"{ds.name}.csv")
            what = f"template, 1 example row: replace with {OWN_DATA[ds.name]}"
            written.append(Written(Path(f"{ds.name}.csv"), what))
        elif ds.optional:
            _write_template(folder, ds, f"{ds.name}.example.csv")
            written.append(Written(Path(f"{ds.name}.example.csv"), f"optional, not read until renamed {ds.name}.csv"))
    source = DEFAULT_DATA_DIR / "reference"
    (folder / "reference").mkdir(exist_ok=True)
    by_file = {f"{ds.name}.csv": ds for ds in DATASETS}
    for path in sorted((p for p in source.iterdir() if p.is_file()), key=lambda p: (p.name not in by_file, p.name)):
        shutil.copyfile(path, folder / "reference" / path.name)
        reference = by_file.get(path.name)
        what = _coverage(path, reference) if reference is not None else "their sources and licences"
        written.append(Written(Path("reference") / path.name, what))
    return written


def conflicts(folder: Path) -> list[str]:
    """Files already in `folder` that a run would refuse beside the ones written (two files for one dataset)."""
    from minetax.load.ingest import find_input

    found = []
    for ds in DATASETS:
        try:
            find_input(folder, ds)
        except InputError as e:
            found += [f"{ds.name}: {', '.join(e.findings[0]['examples'])}"]
    return found


def _listing(written: list[Written]) -> list[str]:
    """One line per file, the reference files indented under one `reference/` line (80 columns wide)."""
    names = [("  " + w.path.name if w.path.parent.name else str(w.path), w.what) for w in written]
    first = next(i for i, w in enumerate(written) if w.path.parent.name)
    names.insert(first, ("reference/", "public reference data, as the embedded run reads it:"))
    width = max(len(n) for n, _ in names) + 2
    return [f"{n:<{width}}{what}" for n, what in names]


def init(folder: Annotated[Path, typer.Argument(help="the data folder to write (new or empty)", show_default=False)],
         force: Annotated[bool, typer.Option("--force", help="write into a folder that is not empty, replacing the "
                                             "files of the same names")] = False) -> None:
    """Write a data folder ready for your own data: templates for farms and readings, the public reference data."""
    if folder.exists() and not folder.is_dir():
        raise MinetaxError(f"{folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise MinetaxError(f"{folder} is not empty: minetax init writes a new data folder (choose another folder, "
                           "or add --force to write into this one, replacing files of the same names)")
    written = write_data_folder(folder)
    lines = [f"wrote the data folder {folder}:", *_listing(written), "",
             f"Replace {' and '.join(f'{n}.csv' for n in OWN_DATA)} with your own data (CSV or",
             "Parquet, columns as in the README's \"Input formats\"), then run:",
             f"  minetax run --data-dir {folder}",
             "As written, the folder runs on its example rows: one farm, one hour of readings."]
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)
    for c in conflicts(folder):
        err.print(f"warning: two files for one dataset, a run will refuse them until one is removed: {c}",
                  soft_wrap=True, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
