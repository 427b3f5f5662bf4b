"""Run records: every published figure traces back to a run, its inputs, scheme versions and code."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import uuid

from minetax import __version__
from minetax.config import PROJECT_ROOT
from minetax.schemes import str_keys


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def code_version() -> str:
    """Package version plus the git commit (and '+dirty' with uncommitted changes) when run from a checkout."""
    try:
        sha = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha, dirty = "", ""
    return __version__ + (f"+g{sha}" if sha else "") + (".dirty" if dirty else "")


def start(con, run_id: str, scenario_id: str, data_dir: str, parameters: dict, flow_run_id: str | None) -> None:
    con.execute("INSERT INTO meta.runs (run_id, flow_run_id, started_at, status, scenario_id, data_dir, code_version, "
                "parameters) VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
                [run_id, flow_run_id, dt.datetime.now(), scenario_id, data_dir, code_version(),
                 json.dumps(str_keys(parameters), default=str)])


def mark_crashed(con, published_path) -> None:
    """Runs still 'running' or 'publishing' when a new run holds the warehouse (one writer at a time) died. One
    whose snapshot was swapped in before it died did publish: it is marked succeeded; the others crashed."""
    dead = [r[0] for r in con.execute("SELECT run_id FROM meta.runs WHERE status IN ('running', 'publishing')"
                                      ).fetchall()]
    if not dead:
        return
    published = set()
    if published_path.exists():
        import duckdb

        snap = duckdb.connect(str(published_path), read_only=True)
        try:
            published = {r[0] for r in snap.execute("SELECT run_id FROM runs WHERE status = 'succeeded'").fetchall()}
        finally:
            snap.close()
    for run_id in dead:
        if run_id in published:
            con.execute("UPDATE meta.runs SET status = 'succeeded', message = 'published; the process ended before "
                        "recording it' WHERE run_id = ?", [run_id])
        else:
            con.execute("UPDATE meta.runs SET status = 'crashed', message = 'the process ended before the run "
                        "finished; nothing it did was committed after its last completed step' WHERE run_id = ?",
                        [run_id])


def finish(con, run_id: str, status: str, message: str | None = None) -> None:
    con.execute("UPDATE meta.runs SET status = ?, finished_at = ?, message = ? WHERE run_id = ?",
                [status, dt.datetime.now(), message, run_id])


def set_periods(con, run_id: str, periods: str) -> None:
    con.execute("UPDATE meta.runs SET periods = ? WHERE run_id = ?", [periods, run_id])


def record_schemes(con, run_id: str, scenario) -> None:
    rows = [[run_id, "scenario", scenario.scenario_id, scenario.file.name, scenario.version]]
    rows += [[run_id, "scheme", s.scheme_id, s.file.name, s.version] for s in scenario.schemes]
    con.executemany("INSERT OR REPLACE INTO meta.scheme_versions VALUES (?, ?, ?, ?, ?)", rows)


def list_runs(settings, limit: int = 20):
    """Runs with their inputs, newest first: from the warehouse (every run, failed ones too), or from the
    published snapshot while a run holds the warehouse."""
    import duckdb

    from minetax import db
    from minetax.errors import MinetaxError

    sql = db.sql_text("list_runs.sql")
    for path, source in ((settings.warehouse_path, "warehouse"), (settings.published_path, "published snapshot")):
        if not path.exists():
            continue
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:  # a run is writing the warehouse: fall back to the snapshot
            continue
        try:
            schema = "meta." if source == "warehouse" else ""
            return con.execute(sql.replace("{schema}", schema), [limit]).df(), source
        finally:
            con.close()
    raise MinetaxError(f"no runs yet under {settings.home}")
