"""Forecast speed (issue 18): 2,000 runs × 5 years for every scheme of kz-baseline (target <= 3 s), the reform
compare, the tornado, and the rolling-origin backtest (target <= 60 s), on a warehouse's history.

    uv run python bench/forecast_speed.py                       # a fresh home from the embedded data
    uv run python bench/forecast_speed.py --home /tmp/longhome  # e.g. the 2016+ history (bench/forecast_history.py)

Each step is timed `--repeat` times after one warm-up run (imports, the rate model's first scratch database); the
table gives the fastest and the median wall time, and the load average before and after (the machine is shared:
read the figures beside it). Short: about a minute of CPU in all.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts), statistics.median(ts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="a home a run has loaded (default: a fresh one, embedded data)")
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backtest-runs", type=int, default=1000)
    a = ap.parse_args(argv)

    from minetax import pipeline
    from minetax.config import Settings
    from minetax.forecast import engine
    from minetax.forecast.history import read_only
    from minetax.forecast.rolling import rolling_backtest
    from minetax.forecast.tornado import tornado

    load0 = os.getloadavg()
    if a.home is None:
        home = Path(tempfile.mkdtemp(prefix="forecast-speed-")) / "home"
        pipeline.run(Settings.make(home), "kz-baseline")
    else:
        home = a.home
    rows = []
    with read_only(Settings.make(home)) as h:
        last = h.data().network["date"].iloc[-1]
        first = last.year + 1
        to = first + 4
        steps: list[tuple[str, Callable[[], Any], int]] = [
            (f"kz-baseline, {a.runs} runs x 5 years ({first}-{to}), all schemes",
             lambda: engine.run("kz-baseline", to, a.runs, 7, history=h), a.repeat),
            (f"kz-naive (constant growth), {a.runs} runs x 5 years",
             lambda: engine.run("kz-naive", to, a.runs, 7, history=h), a.repeat),
            (f"kz-fee-10 minus kz-baseline per draw, {a.runs} runs x 5 years",
             lambda: engine.compare("kz-fee-10", "kz-baseline", to, a.runs, 7, history=h), a.repeat),
            (f"tornado (11 forecasts), {a.runs} runs",
             lambda: tornado("kz-baseline", first, a.runs, 7, to, history=h), 1),
            (f"backtest, origins 2018-2024 x horizons 1-3, 4 models, {a.backtest_runs} runs",
             lambda: rolling_backtest(h, runs=a.backtest_runs, seed=7), 1),
        ]
        for name, fn, rep in steps:
            best, med = _time(fn, rep)
            rows.append((name, best, med, rep))
            print(f"{name}: fastest {best:.2f} s, median {med:.2f} s ({rep} timed)", flush=True)
    load1 = os.getloadavg()
    print(f"\nhistory: {home} (network days up to {last.date()}); cores: {os.cpu_count()}; load average "
          f"(1/5/15 min) before {load0[0]:.2f}/{load0[1]:.2f}/{load0[2]:.2f}, after "
          f"{load1[0]:.2f}/{load1[1]:.2f}/{load1[2]:.2f}")
    print("\n| step | fastest s | median s | timed |\n|---|---|---|---|")
    for name, best, med, rep in rows:
        print(f"| {name} | {best:.2f} | {med:.2f} | {rep} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
