"""Deterministic synthetic sample of Kazakh mining farms: farms, meter readings, reported hashrate.

The 14 template farms cover the cases the law distinguishes (grid, energy pool, own generation,
own renewables, off-grid, unmetered, commissioning and decommissioning mid-quarter, a grid farm
whose average price climbs through every price bracket). More farms are variations of these.
Readings are streamed to Parquet one farm at a time, so any size fits in memory.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# farm_id, name, region, energy_source, connection, metered, licensed, MW, commissioned, decommissioned,
# price profile, reports hashrate
TEMPLATES = [
    ("KZ-F01", "Ekibastuz North", "Pavlodar", "coal", "grid", True, True, 40, "2020-06-01", None, "ramp", False),
    ("KZ-F02", "Temirtau Steelside", "Karaganda", "coal", "grid", True, True, 25, "2019-11-01", None, "grid", True),
    ("KZ-F03", "Irtysh Hydro Hall", "East Kazakhstan", "hydro", "own_generation", True, True, 15, "2021-03-01",
     None, "own_renewable", False),
    ("KZ-F04", "Zhanaozen Gas Works", "Mangystau", "gas", "own_generation", True, True, 30, "2021-01-01", None,
     "own_fossil", True),
    ("KZ-F05", "Kokshetau Pool", "Akmola", "mixed", "energy_pool", True, True, 50, "2020-01-01", None, "pool",
     True),
    ("KZ-F06", "Rudny Yard", "Kostanay", "coal", "grid", False, True, 10, "2021-06-01", None, "grid", False),
    ("KZ-F07", "Kordai Wind", "Zhambyl", "wind", "off_grid", True, True, 8, "2022-04-01", None, "own_renewable",
     False),
    ("KZ-F08", "Kapshagay Solar", "Almaty", "solar", "off_grid", True, True, 5, "2022-09-15", None,
     "own_renewable", False),
    ("KZ-F09", "Semey Depot", "Abai", "coal", "grid", True, False, 20, "2021-01-01", "2022-02-15", "grid", False),
    ("KZ-F10", "Shymkent South", "Turkestan", "gas", "grid", True, True, 12, "2021-02-01", None, "grid", False),
    ("KZ-F11", "Aktobe Flare Gas", "Aktobe", "gas", "own_generation", True, True, 18, "2022-01-10", None,
     "own_fossil", False),
    ("KZ-F12", "Petropavl Pool", "North Kazakhstan", "coal", "energy_pool", True, True, 35, "2021-05-01", None,
     "pool", True),
    ("KZ-F13", "Atyrau Refinery Row", "Atyrau", "gas", "grid", True, True, 6, "2023-02-20", None, "grid", False),
    ("KZ-F14", "Zhezkazgan Copper", "Ulytau", "coal", "grid", True, True, 22, "2021-09-01", "2024-06-30", "grid",
     False),
]

INTERVALS = {"15min": 15, "30min": 30, "1h": 60, "1d": 1440}
GRID_CUT = (np.datetime64("2022-01-24"), np.datetime64("2022-02-01"))  # KEGOC cut supply to miners for a week
POOL_START = np.datetime64("2023-07-01")  # energy pool: power bought in auctions, within quotas


@dataclass(frozen=True)
class Farm:
    farm_id: str
    name: str
    region: str
    energy_source: str
    connection: str
    metered: bool
    licensed: bool
    capacity_mw: float
    commissioned_on: str
    decommissioned_on: str | None
    profile: str
    reports_hashrate: bool


def make_farms(n: int, seed: int) -> list[Farm]:
    farms = [Farm(*t) for t in TEMPLATES[: min(n, len(TEMPLATES))]]
    rng = np.random.default_rng(seed)
    for i in range(len(TEMPLATES), n):
        template = Farm(*TEMPLATES[i % len(TEMPLATES)])
        farms.append(dataclasses.replace(
            template, farm_id=f"KZ-F{i + 1:05d}", name=f"{template.name} {i // len(TEMPLATES) + 1}",
            capacity_mw=round(float(template.capacity_mw) * rng.uniform(0.3, 2.0), 1)))
    return farms


def _monthly_tariff(months: np.ndarray, profile: str, rng: np.random.Generator) -> np.ndarray:
    """Base price by month (KZT/kWh) for a price profile; months as datetime64[M]."""
    t = (months - np.datetime64("2021-01", "M")).astype(int)  # months since 2021-01
    if profile == "ramp":  # 8 → 14 KZT/kWh in 2021-22, then 9 → 25 through 2023 (crossing the 2023 brackets)
        return np.where(t < 24, 8.0 + 6.0 * t / 23.0, np.interp(t, [24, 35, 47], [9.0, 25.0, 28.0]))
    if profile in ("grid", "pool"):
        level = np.interp(t, [0, 12, 24, 36, 47], [9.5, 13.0, 19.0, 25.0, 29.0])
        return level * rng.uniform(0.9, 1.1) + rng.normal(0, 0.3, len(t))
    if profile == "own_fossil":
        return np.full(len(t), rng.uniform(6.0, 8.0))
    return np.full(len(t), rng.uniform(3.5, 5.5))  # own renewables: running cost only


def farm_readings(farm: Farm, start: np.datetime64, end: np.datetime64, minutes: int, seed: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrays of ts_start, ts_end, kWh, price for one farm over [start, end)."""
    rng = np.random.default_rng([seed, int(farm.farm_id.split("F")[-1])])
    first = max(start, np.datetime64(farm.commissioned_on, "m"))
    last = end if farm.decommissioned_on is None else min(end, np.datetime64(farm.decommissioned_on, "m")
                                                          + np.timedelta64(1, "D"))
    step = np.timedelta64(minutes, "m")
    first = start + ((first - start + step - np.timedelta64(1, "m")) // step) * step  # align to the grid
    ts = np.arange(first, last, step) if last > first else np.array([], dtype="datetime64[m]")
    n = len(ts)
    hours = minutes / 60.0
    load = np.clip(rng.normal(0.92, 0.04, n), 0.5, 1.0)
    if not farm.metered:  # no meter: the authority's estimate, a flat 90% of capacity
        load = np.full(n, 0.9)
    months = ts.astype("datetime64[M]")
    on_grid = farm.connection in ("grid", "energy_pool")
    if on_grid:
        load[(ts >= GRID_CUT[0]) & (ts < GRID_CUT[1])] = 0.0
    umonths, inverse = np.unique(months, return_inverse=True)
    if farm.connection == "energy_pool":  # quota uptake per month (mean ~29%, 8%..66%)
        quota = np.where(umonths >= POOL_START.astype("datetime64[M]"),
                         np.clip(rng.beta(2.2, 5.3, len(umonths)), 0.084, 0.662), 1.0)
        load = load * quota[inverse]
    kwh = np.round(farm.capacity_mw * 1000.0 * hours * load, 1)
    tariff = _monthly_tariff(umonths, farm.profile, rng)[inverse]
    hour = (ts - ts.astype("datetime64[D]")).astype(int) // 60
    if on_grid:  # two-zone tariff: day 07-23 dearer than night
        tariff = tariff * np.where((hour >= 7) & (hour < 23), 1.08, 0.84)
    if farm.connection == "energy_pool":  # day-ahead auction prices after the pool opened
        auction = rng.normal(0, 1.2, n) + 2.0 * np.sin(hour / 24 * 2 * np.pi)
        tariff = np.where(ts >= POOL_START, tariff + auction, tariff)
    price = np.round(np.maximum(tariff, 0.5), 2)
    return ts, ts + step, kwh, price


def farm_hashrate(farm: Farm, ts: np.ndarray, kwh: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily reported hashrate (TH/s) from energy, the farm's own efficiency and noise."""
    rng = np.random.default_rng([seed, 7, int(farm.farm_id.split("F")[-1])])
    days, inverse = np.unique(ts.astype("datetime64[D]"), return_inverse=True)
    day_kwh = np.bincount(inverse, weights=kwh, minlength=len(days))
    years = (days - np.datetime64("2021-01-01")).astype(int) / 365.25
    j_per_th = np.interp(years, [0, 1, 2, 3, 4], [38.0, 34.0, 31.0, 28.0, 25.0]) * 1.08  # incl. cooling
    ths = day_kwh * 1000.0 / 24.0 / j_per_th * rng.normal(1.0, 0.03, len(days))
    keep = day_kwh > 0
    return days[keep], np.round(ths[keep], 1)


READING_SCHEMA = pa.schema([
    ("farm_id", pa.string()), ("ts_start", pa.timestamp("us")), ("ts_end", pa.timestamp("us")),
    ("kwh", pa.float64()), ("price_kzt_per_kwh", pa.float64()),
])
HASHRATE_SCHEMA = pa.schema([("farm_id", pa.string()), ("date", pa.date32()), ("hashrate_ths", pa.float64())])


def generate(out: Path, farms: int, start: str, end: str, interval: str, seed: int,
             progress: Callable[[int], object] | None = None) -> dict[str, int]:
    """Write farms.csv, energy_readings.parquet, farm_hashrate.parquet to `out`. `end` is inclusive (a day
    or a month YYYY-MM). Returns counts."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    out.mkdir(parents=True, exist_ok=True)
    s = np.datetime64(dt.date.fromisoformat(_first_day(start)), "m")
    e = np.datetime64(_day_after(end), "m")
    fl = make_farms(farms, seed)
    with open(out / "farms.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["farm_id", "name", "region", "energy_source", "connection", "metered", "licensed",
                    "capacity_mw", "commissioned_on", "decommissioned_on"])
        for fm in fl:
            w.writerow([fm.farm_id, fm.name, fm.region, fm.energy_source, fm.connection,
                        str(fm.metered).lower(), str(fm.licensed).lower(), fm.capacity_mw,
                        fm.commissioned_on, fm.decommissioned_on or ""])
    n_read = n_hash = 0
    opts = {"compression": "zstd", "compression_level": 9, "use_dictionary": ["farm_id", "price_kzt_per_kwh"],
            "column_encoding": {"ts_start": "DELTA_BINARY_PACKED", "ts_end": "DELTA_BINARY_PACKED",
                                "kwh": "BYTE_STREAM_SPLIT"}}
    hopts = {"compression": "zstd", "compression_level": 9, "use_dictionary": ["farm_id"]}
    with pq.ParquetWriter(out / "energy_readings.parquet", READING_SCHEMA, **opts) as rw, \
            pq.ParquetWriter(out / "farm_hashrate.parquet", HASHRATE_SCHEMA, **hopts) as hw:
        for fm in fl:
            ts, te, kwh, price = farm_readings(fm, s, e, INTERVALS[interval], seed)
            if len(ts):
                rw.write_table(pa.table([pa.array([fm.farm_id] * len(ts)), ts.astype("datetime64[us]"),
                                         te.astype("datetime64[us]"), kwh, price], schema=READING_SCHEMA))
                n_read += len(ts)
                if fm.reports_hashrate:
                    days, ths = farm_hashrate(fm, ts, kwh, seed)
                    hw.write_table(pa.table([pa.array([fm.farm_id] * len(days)), days, ths],
                                            schema=HASHRATE_SCHEMA))
                    n_hash += len(days)
            if progress:
                progress(len(ts))
    return {"farms": len(fl), "readings": n_read, "hashrate_days": n_hash}


def _first_day(s: str) -> str:
    return s if len(s) == 10 else s + "-01"


def _day_after(s: str) -> dt.date:
    if len(s) == 10:
        return dt.date.fromisoformat(s) + dt.timedelta(days=1)
    y, m = map(int, s.split("-"))
    return dt.date(y + m // 12, m % 12 + 1, 1)
