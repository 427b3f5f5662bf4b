"""Run records: every published figure traces back to a run, its inputs, scheme versions and code."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from minetax import db, version
from minetax.config import Settings
from minetax.errors import MinetaxError
from minetax.publish import runlog
from minetax.tax.schemes import Scenario, str_keys

if TYPE_CHECKING:
    import pandas as pd

PUBLISHED_BEFORE_DYING = "published; the process ended before recording it"
DIED = "the process ended before the run finished; nothing it did was committed after its last completed step"


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def code_version() -> str:
    """Package version plus the commit when known ('0.1.0+gabc123def456', '.dirty' with uncommitted changes): from
    git in a checkout, recorded at build time in a wheel (minetax.version, the source of `minetax --version`)."""
    return str(version.current())


def start(con: duckdb.DuckDBPyConnection, run_id: str, scenario_id: str, data_dir: str, parameters: dict[str, Any],
          flow_run_id: str | None) -> None:
    db.run_file(con, "publish/run_start.sql", {
        "run_id": run_id, "flow_run_id": flow_run_id, "started_at": dt.datetime.now(), "scenario_id": scenario_id,
        "data_dir": data_dir, "code_version": code_version(),
        "parameters": json.dumps(str_keys(parameters), default=str), "pid": os.getpid()})


def summary(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """The run's record for the run log (minetax.publish.runlog): status, times, message and its inputs."""
    df = db.query_file(con, "publish/run_summary.sql", {"run_id": run_id})
    rec = {k: (None if v is None or v != v else v) for k, v in df.iloc[0].to_dict().items()}
    rec["pid"] = os.getpid()
    return rec


def mark_crashed(con: duckdb.DuckDBPyConnection, published_path: Path) -> None:
    """Runs still 'running' or 'publishing' when a new run holds the warehouse died: a live run holds the home's
    run lock from its first step to its last (minetax.runlock), and this run has just taken it. One whose snapshot
    was swapped in before it died did publish: it is marked succeeded; the others crashed."""
    query = "SELECT run_id FROM meta.runs WHERE status IN ('running', 'publishing')"
    dead = [r[0] for r in con.execute(query).fetchall()]
    if not dead:
        return
    published = set()
    if published_path.exists():
        with duckdb.connect(str(published_path), read_only=True) as snap:
            query = "SELECT run_id FROM runs WHERE status = 'succeeded'"
            published = {r[0] for r in snap.execute(query).fetchall()}
    for run_id in dead:
        status, message = ("succeeded", PUBLISHED_BEFORE_DYING) if run_id in published else ("crashed", DIED)
        con.execute("UPDATE meta.runs SET status = ?, message = ? WHERE run_id = ?", [status, message, run_id])


def finish(con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str | None = None) -> None:
    con.execute("UPDATE meta.runs SET status = ?, finished_at = ?, message = ? WHERE run_id = ?",
                [status, dt.datetime.now(), message, run_id])


def set_periods(con: duckdb.DuckDBPyConnection, run_id: str, periods: str) -> None:
    con.execute("UPDATE meta.runs SET periods = ? WHERE run_id = ?", [periods, run_id])


def record_schemes(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario) -> None:
    file_name = scenario.file.name if scenario.file is not None else None  # a scenario made in code has no file
    rows = [[run_id, "scenario", scenario.scenario_id, file_name, scenario.version]]
    rows += [[run_id, "scheme", s.scheme_id, s.file.name, s.version] for s in scenario.schemes]
    query = "INSERT OR REPLACE INTO meta.scheme_versions (run_id, kind, id, file_name, sha256) VALUES (?, ?, ?, ?, ?)"
    con.executemany(query, rows)


def _published_runs(settings: Settings, limit: int) -> pd.DataFrame:
    try:
        con = duckdb.connect(str(settings.published_path), read_only=True)
    except duckdb.Error as e:
        raise MinetaxError(f"the published snapshot {settings.published_path} cannot be read "
                           f"({str(e).splitlines()[0]}); run `minetax run` to publish a new one") from e
    with con:
        return db.query_file(con, "publish/runs_list.sql", {"limit": limit})


def list_runs(settings: Settings, limit: int = 20) -> tuple[pd.DataFrame, str]:
    """Runs with their inputs, newest first, without opening the warehouse (a reader there would stop a run from
    writing it): the published snapshot's runs, plus the run log's records of later runs (failed, refused,
    interrupted, crashed or still running)."""
    import pandas as pd

    frames, sources = [], []
    if settings.published_path.exists():
        frames.append(_published_runs(settings, limit))
        sources.append("published snapshot")
    logged = runlog.read_all(settings)
    if logged:
        known = set(frames[0].run_id) if frames else set()
        frames.insert(0, pd.DataFrame([r for r in logged if r["run_id"] not in known],
                                      columns=frames[0].columns if frames else list(logged[0])))
        sources.append("run log")
    if not frames:
        raise MinetaxError(f"no runs yet under {settings.home}")
    df = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else frames[0]
    df["started_at"] = pd.to_datetime(df["started_at"])
    df["finished_at"] = pd.to_datetime(df["finished_at"])
    return df.sort_values("started_at", ascending=False).head(limit).reset_index(drop=True), " + ".join(sources)
