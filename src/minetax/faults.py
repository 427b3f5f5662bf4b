"""Named points for the crash-safety and concurrency tests. With MINETAX_CRASH_AT=<point> the process kills itself
(SIGKILL, no cleanup) when it reaches that point. With MINETAX_PAUSE_AT=<point> and MINETAX_PAUSE_FILE=<path> it
writes <path>.paused there and waits (up to 120 s) until <path> exists. Unset, crashpoint() does nothing."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

POINTS = ("begin:recorded", "ingest:hashed", "ingest:staged", "ingest:validated", "ingest:merged",
          "ingest:merged-all", "estimate:modelled", "estimate:taxed", "estimate:checked", "run:committed",
          "publish:tables", "publish:views", "publish:renamed", "map:task")


def crashpoint(name: str) -> None:
    if os.environ.get("MINETAX_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("MINETAX_PAUSE_AT") == name:
        release = Path(os.environ["MINETAX_PAUSE_FILE"])
        Path(f"{release}.paused").write_text(str(os.getpid()))
        deadline = time.monotonic() + 120
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
