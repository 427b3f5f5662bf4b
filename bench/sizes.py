"""The benchmark's sizes: how many farms give ≈1M, 10M, 100M and 1B readings, counted without generating.

Readings are farms × 15-min readings over three years, 2022-01..2024-12, from `minetax generate-sample`. Farms are
commissioned and decommissioned at different dates (minetax.sources.sample: the 14 templates, repeated), so
readings are not proportional to farms. `readings(n)` counts the readings the generator writes for n farms by the
same rules (`farm_readings`: the first 15-min step on or after max(start, commissioned), up to min(end, the day after
decommissioning)), without making them; `closest(target)` is the farm count whose readings come closest.

    uv run python bench/sizes.py            # prints the table of SIZES with their readings
"""

from __future__ import annotations

import datetime as dt
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "2022-01", "2024-12"  # three years of 15-min readings
MONTH = "2025-01"  # the month added to the warehouse by the new-month step
STEP_MIN = 15
# farms → readings 2022-01..2024-12 (checked by `python bench/sizes.py`, equal to the generated files at 1M..100M):
# 11 → 1,022,400; 109 → 9,986,208; 1,093 → 99,987,648; 10,933 → 1,000,017,312
SIZES = {"1M": 11, "10M": 109, "100M": 1093, "1B": 10933}


def nominal(size: str) -> float:
    """'1M' → 1e6, '500K' → 5e5, '1B' → 1e9."""
    return float(size[:-1]) * {"K": 1e3, "M": 1e6, "B": 1e9}[size[-1].upper()]


@cache
def _template_counts(start: str = START, end: str = END) -> tuple[int, ...]:
    """Readings of each of the 14 templates over [start, end] (farm i is a copy of template i mod 14 with another
    capacity: the same dates, so the same count)."""
    sys.path.insert(0, str(ROOT / "src"))
    from minetax.sources.sample import TEMPLATES, Farm, _day_after, _first_day

    s = dt.datetime.fromisoformat(_first_day(start))
    e = dt.datetime.combine(_day_after(end), dt.time())
    step = dt.timedelta(minutes=STEP_MIN)
    counts = []
    for t in TEMPLATES:
        f = Farm(*t)
        first = max(s, dt.datetime.fromisoformat(f.commissioned_on))
        last = e if f.decommissioned_on is None else min(e, dt.datetime.fromisoformat(f.decommissioned_on)
                                                         + dt.timedelta(days=1))
        first = s + -(-(first - s) // step) * step  # the first step of the grid on or after `first`
        counts.append(max(0, -(-(last - first) // step)))
    return tuple(counts)


def readings(farms: int, start: str = START, end: str = END) -> int:
    c = _template_counts(start, end)
    full, rest = divmod(farms, len(c))
    return full * sum(c) + sum(c[:rest])


def closest(target: float, start: str = START, end: str = END) -> int:
    """The farm count whose readings come closest to target."""
    per = sum(_template_counts(start, end)) / len(_template_counts(start, end))
    guess = max(1, round(target / per))
    return min(range(max(1, guess - 30), guess + 30), key=lambda n: abs(readings(n, start, end) - target))


if __name__ == "__main__":
    for size, n in SIZES.items():
        print(f"{size}: {n:,} farms → {readings(n):,} readings (closest to {nominal(size):,.0f}: "
              f"{closest(nominal(size)):,} farms)")
