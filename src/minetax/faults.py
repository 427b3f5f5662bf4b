"""Named crash points for the crash-safety tests: with MINETAX_CRASH_AT=<point> the process kills itself
(SIGKILL, no cleanup) when it reaches that point. Unset, crashpoint() does nothing."""

from __future__ import annotations

import os
import signal

POINTS = ("begin:recorded", "ingest:hashed", "ingest:staged", "ingest:validated", "ingest:merged",
          "ingest:committed", "estimate:modelled", "estimate:taxed", "estimate:checked", "estimate:committed",
          "publish:tables", "publish:views", "publish:renamed")


def crashpoint(name: str) -> None:
    if os.environ.get("MINETAX_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
