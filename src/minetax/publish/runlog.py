"""The run log: one small JSON file per run under MINETAX_HOME/runs/, for `minetax runs`.

The warehouse holds the authoritative run records (meta.runs), but a read-only command must never open the
warehouse: a reader holding it, even read-only, stops a run from writing it. So each run also writes its record
here, aside and renamed (a reader sees the old or the new file, never half of one), when it starts and when it
ends. A record still `running` whose process is gone is shown as crashed.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from minetax.config import Settings


def folder(settings: Settings) -> Path:
    return settings.home / "runs"


def write(settings: Settings, record: dict) -> None:
    """Write a run's record (best effort: a full disk must not hide the run's own error)."""
    with contextlib.suppress(OSError):
        d = folder(settings)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".{record['run_id']}.json.tmp"
        tmp.write_text(json.dumps(record, default=str, ensure_ascii=False, indent=1))
        os.replace(tmp, d / f"{record['run_id']}.json")


def _alive(pid: Any) -> bool:  # as read from a JSON record: anything
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


def read_all(settings: Settings) -> list[dict]:
    """Every readable record, newest first; a running record whose process is gone is marked crashed."""
    records = []
    d = folder(settings)
    for p in d.glob("*.json") if d.is_dir() else []:
        try:
            rec = json.loads(p.read_text())
        except (OSError, ValueError):
            continue  # written by another version, or damaged: the warehouse still has the run
        if not isinstance(rec, dict) or "run_id" not in rec:
            continue
        if rec.get("status") in ("running", "publishing") and not _alive(rec.get("pid")):
            rec["status"] = "crashed"
            rec["message"] = "the process ended before the run finished; nothing it did was committed"
        records.append(rec)
    return sorted(records, key=lambda r: str(r.get("started_at") or ""), reverse=True)
