"""Shared test helpers: small data folders built from case files, and isolated MINETAX_HOMEs."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from minetax.config import DEFAULT_DATA_DIR, Settings

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = DEFAULT_DATA_DIR / "reference"
FARM_HEADER = ["farm_id", "name", "region", "energy_source", "connection", "metered", "licensed",
               "capacity_mw", "commissioned_on", "decommissioned_on"]

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# a file is taken once it has not changed for this long (minetax.load.intake); tests write their files just before a
# run, so they wait less than an operator's drop folder does (tests/test_intake.py checks the wait itself)
os.environ.setdefault("MINETAX_SETTLE_SECONDS", "0.2")


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def month_reading(farm: str, month: str, kwh, price, extra: str | None = None) -> list:
    """A reading covering a whole month, or from/to a day ("from YYYY-MM-DD" / "to YYYY-MM-DD")."""
    y, m = map(int, month.split("-"))
    start = dt.datetime(y, m, 1)
    end = dt.datetime(y + m // 12, m % 12 + 1, 1)
    if extra and extra.startswith("from "):
        start = dt.datetime.fromisoformat(extra[5:])
    elif extra and extra.startswith("to "):
        end = dt.datetime.fromisoformat(extra[3:]) + dt.timedelta(days=1)
    return [farm, start.isoformat(sep=" "), end.isoformat(sep=" "), kwh, price]


def make_data_dir(folder: Path, farms: dict, readings: list[list], hashrate: list[list] | None = None) -> Path:
    """A data folder: farms.csv and energy_readings.csv from a case, plus the embedded reference figures.

    farms: {farm_id: [energy_source, connection, metered, commissioned_on, decommissioned_on(, capacity_mw)]}
    readings: [farm, YYYY-MM, kWh, price(, "from …" | "to …")]
    """
    rows = [[fid, f"Farm {fid}", "Test region", f[0], f[1], str(f[2]).lower(), "true",
             f[5] if len(f) > 5 else 1.0, str(f[3]), str(f[4] or "")] for fid, f in farms.items()]
    write_csv(folder / "farms.csv", FARM_HEADER, rows)
    write_csv(folder / "energy_readings.csv", ["farm_id", "ts_start", "ts_end", "kwh", "price_kzt_per_kwh"],
              [month_reading(*r) for r in readings])
    if hashrate:
        write_csv(folder / "farm_hashrate.csv", ["farm_id", "date", "hashrate_ths"], hashrate)
    ref = folder / "reference"
    ref.mkdir(exist_ok=True)
    for p in REFERENCE.glob("*.csv"):
        shutil.copy(p, ref / p.name)
    return folder


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture(scope="session")
def embedded_run(tmp_path_factory):
    """One run of the whole pipeline (no Prefect) on the embedded data; shared by read-only tests."""
    from minetax import pipeline

    settings = Settings.make(tmp_path_factory.mktemp("embedded") / "home")
    ctx, path = pipeline.run(settings, "kz-baseline")
    return settings, ctx, path
