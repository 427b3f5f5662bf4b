"""The steps of bench/run.py. Each runs in a fresh process (`python bench/run.py --step NAME --work DIR`) and prints
one JSON line: its fee total and what it measured itself. Wall time and peak RSS are added by the parent.

  pipeline     the run without Prefect (minetax.pipeline in one process), stage by stage, on work/data with home
               work/home (also the fixed run on the tiniest data and the new month on the warehouse a run left);
  floor (b)    one hand-written DuckDB query (bench/floor.sql);
  pandas (c)   what an analyst writes with pandas;
  polars (d)   the same in Polars, lazy (scan_parquet → group_by farm and quarter), streaming engine;
  cli          `minetax run` as a user runs it, in its own process (the temporary API, or the Prefect server that
               PREFECT_API_URL names, or a Dask cluster when BENCH_CLUSTER is set);
  compare      `minetax compare kz-baseline kz-fee-10` on the warehouse the cli step left.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MINETAX = str(Path(sys.executable).parent / "minetax")
SCHEME = "kz-mining-fee"
TOTAL_SQL = ("SELECT sum(tax_kzt) FROM estimates WHERE scheme_id = 'kz-mining-fee' "
             "AND scenario_id = coalesce($scenario, scenario_id)")


def fee() -> tuple[list[dict], int | None]:
    """The fee's rate rules and the decimals its average price is rounded to (None: not rounded), as minetax reads
    them from schemes/kz-mining-fee.yaml."""
    sys.path.insert(0, str(ROOT / "src"))
    from minetax.tax.schemes import load_scheme

    scheme = load_scheme(SCHEME)
    rules = [u for u in scheme.rate_rules() if u["kind"] in ("bracket", "override")]
    return rules, getattr(scheme, "price_decimals", 2)


def sample(work: Path, name: str) -> Path:
    return work / "data" / "sample" / name


# ---------------------------------------------------------------------------------------------------- the pipeline


def _validation_timer() -> dict[str, float]:
    """Wrap the validation entry points that exist in this version of minetax with a stopwatch; return the total."""
    import importlib

    spent = {"validate": 0.0}

    def timed(real: Callable) -> Callable:
        def run(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                spent["validate"] += time.perf_counter() - t0

        return run

    # inputs: the suites in DuckDB and the key/overlap pass; outputs: Great Expectations (when used)
    for module, owner, attr in (("minetax.validate.ge_engine", "Validator", "validate"),
                                ("minetax.validate.suite_sql", None, "validate"),
                                ("minetax.load.reading_order", None, "check")):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        target = getattr(mod, owner, None) if owner else mod
        if target is not None and hasattr(target, attr):
            setattr(target, attr, timed(getattr(target, attr)))
    return spent


def run_stages(ctx: Any) -> list[dict]:
    """The stages the run recorded itself (minetax.pipeline.Stage: name, seconds, and whatever else it carries;
    a dict such as estimate's `map` (tasks, run, seconds, task_seconds, rows) flattened to map_tasks, …)."""
    out = []
    for s in getattr(ctx, "stages", []) or []:
        d = dataclasses.asdict(s) if dataclasses.is_dataclass(s) else dict(vars(s))
        flat: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict):
                flat.update({f"{k}_{kk}": vv for kk, vv in v.items() if isinstance(vv, int | float | str)})
            elif isinstance(v, int | float | str | type(None)):
                flat[k] = v
        out.append(flat)
    return out


def step_pipeline(work: Path) -> dict:
    """The run of `minetax run` without Prefect, stage by stage, on work/data with home work/home."""
    t = time.perf_counter()
    sys.path.insert(0, str(ROOT / "src"))
    from minetax import pipeline
    from minetax.config import Settings
    from minetax.validate import checks

    spent = _validation_timer()
    if checks.engine() == "great_expectations":  # its import and context are start-up, not validation
        _ = checks._great_expectations()._gx
    settings = Settings.make(work / "home", work / "data")
    stages = {"startup": time.perf_counter() - t}
    t = time.perf_counter()
    ctx = pipeline.begin(settings, "kz-baseline")
    stages["begin"], t = time.perf_counter() - t, time.perf_counter()
    try:
        v0 = spent["validate"]
        pipeline.ingest(ctx)
        stages["load"], t = time.perf_counter() - t, time.perf_counter()
        stages["validate_inputs"] = spent["validate"] - v0
        v1 = spent["validate"]
        pipeline.estimate(ctx)
        stages["model_tax"], t = time.perf_counter() - t, time.perf_counter()
        stages["validate_outputs"] = spent["validate"] - v1
        path = pipeline.publish(ctx)
    except BaseException as e:
        pipeline.fail(ctx, e)
        raise
    stages["publish"] = time.perf_counter() - t
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    total = con.execute(TOTAL_SQL, {"scenario": "kz-baseline"}).fetchall()[0][0]
    periods = con.execute("SELECT periods FROM runs WHERE run_id = ?", [ctx.run_id]).fetchall()[0][0]
    con.close()
    return {"total": total, "stages": stages, "run_stages": run_stages(ctx), "periods": periods,
            **store_size(work / "home")}


def store_size(home: Path) -> dict:
    """What a run leaves as Parquet in its readings store (minetax's default place for it, home/core/energy_readings):
    the readings (bucket=B/ym=YYYYMM/ folders: files, bytes, partitions) and the map's partials (_partials/); and
    every Parquet file under the home but the inputs (their raw copies, the inbox)."""
    inputs = (home / "raw", home / "inbox")
    files = [p for p in home.rglob("*.parquet") if p.is_file() and not any(p.is_relative_to(d) for d in inputs)]
    store = home / "core" / "energy_readings"
    readings = [p for p in files if p.is_relative_to(store) and p.parent.name.startswith("ym=")]
    partials = [p for p in files if p.is_relative_to(store / "_partials")]
    return {"parquet_files": len(files), "parquet_bytes": sum(p.stat().st_size for p in files),
            "store_files": len(readings), "store_bytes": sum(p.stat().st_size for p in readings),
            "store_partitions": len({p.parent for p in readings}), "partial_files": len(partials),
            "partial_bytes": sum(p.stat().st_size for p in partials)}


# ---------------------------------------------------------------------------------------------------- baselines


def step_floor(work: Path) -> dict:
    import duckdb

    rules, decimals = fee()
    cols = {"kind": "VARCHAR", "valid_from": "DATE", "valid_to": "DATE", "when_connection": "VARCHAR[]",
            "when_energy_source": "VARCHAR[]", "when_metered": "BOOLEAN", "price_lo": "DOUBLE",
            "price_lo_inclusive": "BOOLEAN", "price_hi": "DOUBLE", "price_hi_inclusive": "BOOLEAN", "rate": "DOUBLE",
            "combine": "VARCHAR"}
    con = duckdb.connect()  # no pandas: the floor is DuckDB alone
    con.execute(f"CREATE TABLE rules_in ({', '.join(f'{c} {t}' for c, t in cols.items())})").fetchall()
    con.executemany(f"INSERT INTO rules_in VALUES ({', '.join('?' for _ in cols)})",
                    [[u.get(c) for c in cols] for u in rules])
    sql = (Path(__file__).parent / "floor.sql").read_text()
    t = time.perf_counter()
    total = con.execute(sql, {"readings": str(sample(work, "energy_readings.parquet")),
                              "farms": str(sample(work, "farms.csv")), "decimals": decimals}).fetchall()[0][0]
    return {"total": total, "query_s": time.perf_counter() - t}


def step_write_once(work: Path) -> dict:
    """The least a run that stores its readings must do beyond reading them: write them once, as one Parquet file
    (DuckDB COPY, zstd; no partitions, no validation, insertion order not kept). Its own process, like the floor."""
    import duckdb

    readings, out = sample(work, "energy_readings.parquet"), work / "write-once.parquet"
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false").fetchall()
    t = time.perf_counter()
    rows = con.execute(f"COPY (SELECT * FROM read_parquet('{readings}')) TO '{out}' (FORMAT parquet, "
                       "COMPRESSION zstd)").fetchall()[0][0]
    seconds = time.perf_counter() - t
    out.unlink(missing_ok=True)
    return {"rows": rows, "copy_s": seconds}


def rate_of(rules: list[dict], quarter: Any, connection: str, energy_source: str, metered: bool,
            price: float) -> float:
    """The fee's rate for one farm and quarter, by the rules as the floor applies them: the highest matching
    override (unless it is marked combine 'highest' and is below the bracket rate), else the price bracket."""
    live = [u for u in rules if u["valid_from"] <= quarter and (u["valid_to"] is None or quarter < u["valid_to"])]
    over = [u for u in live if u["kind"] == "override"
            and (u["when_connection"] is None or connection in u["when_connection"])
            and (u["when_energy_source"] is None or energy_source in u["when_energy_source"])
            and (u["when_metered"] is None or u["when_metered"] == bool(metered))]
    bracket = None
    for u in live:
        lo, hi = u.get("price_lo"), u.get("price_hi")
        if u["kind"] == "bracket" and (lo is None or price > lo or (u["price_lo_inclusive"] and price == lo)) and \
                (hi is None or price < hi or (u["price_hi_inclusive"] and price == hi)):
            bracket = u["rate"]
            break
    if over:
        top = max(over, key=lambda u: u["rate"])
        if top.get("combine") != "highest" or bracket is None or top["rate"] >= bracket:
            return float(top["rate"])
    return float(bracket or 0.0)


def rounded(price: Any, decimals: int | None) -> Any:
    return price if decimals is None else price.round(decimals)


def step_pandas(work: Path) -> dict:
    import pandas as pd

    r = pd.read_parquet(sample(work, "energy_readings.parquet"))
    r["cost"] = r.kwh * r.price_kzt_per_kwh
    r["quarter"] = r.ts_start.dt.to_period("Q").dt.start_time.dt.date
    q = r.groupby(["farm_id", "quarter"], as_index=False)[["kwh", "cost"]].sum()
    rules, decimals = fee()
    q["price"] = rounded(q.cost / q.kwh, decimals)
    q = q.merge(pd.read_csv(sample(work, "farms.csv")), on="farm_id")
    q["rate"] = [rate_of(rules, x.quarter, x.connection, x.energy_source, x.metered, x.price)
                 for x in q.itertuples()]
    return {"total": float((q.kwh * q.rate).sum())}


def step_polars(work: Path) -> dict:
    """Polars, lazy: scan_parquet → group_by farm and quarter (the work that grows), collected with the streaming
    engine (bounded memory at any size); the rates of the few thousand farm-quarters as in the floor."""
    import polars as pl

    rules, decimals = fee()
    avg = pl.col("cost") / pl.col("kwh")
    q = (pl.scan_parquet(sample(work, "energy_readings.parquet"))
         .with_columns(quarter=pl.col("ts_start").dt.truncate("1q").dt.date(),
                       cost=pl.col("kwh") * pl.col("price_kzt_per_kwh"))
         .group_by("farm_id", "quarter").agg(pl.col("kwh").sum(), pl.col("cost").sum())
         .with_columns(price=avg if decimals is None else avg.round(decimals, mode="half_away_from_zero"))
         .join(pl.scan_csv(sample(work, "farms.csv"), schema_overrides={"metered": pl.Boolean}), on="farm_id")
         .select("quarter", "connection", "energy_source", "metered", "price", "kwh")
         .collect(engine="streaming"))
    rate = [rate_of(rules, *row) for row in q.select("quarter", "connection", "energy_source", "metered",
                                                     "price").iter_rows()]
    return {"total": float((q["kwh"] * pl.Series(rate)).sum())}


# ---------------------------------------------------------------------------------------------------- the command


def _timed_command(argv: list[str]) -> tuple[float, float]:
    """Run a command; return its wall time and peak RSS (MB, the largest process of its tree that it waited for)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read() if p.stderr else ""
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status:
        raise SystemExit(f"{' '.join(argv)} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024


def _published(home: Path, scenario: str) -> dict:
    import duckdb

    con = duckdb.connect(str(home / "published" / "minetax.duckdb"), read_only=True)
    total = con.execute(TOTAL_SQL, {"scenario": scenario}).fetchall()[0][0]
    periods = con.execute("SELECT periods FROM runs WHERE scenario_id = ? ORDER BY started_at DESC LIMIT 1",
                          [scenario]).fetchall()[0][0]
    con.close()
    return {"total": total, "periods": periods}


def step_cli(work: Path) -> dict:
    """`minetax run` on home work/<BENCH_HOME> (fresh when BENCH_FRESH=1, else the warehouse a run left, with a new
    month in its inbox); on a Dask cluster when BENCH_CLUSTER is set (PREFECT_API_URL must name a server)."""
    home = work / os.environ.get("BENCH_HOME", "home-cli")
    if os.environ.get("BENCH_FRESH") == "1":
        shutil.rmtree(home, ignore_errors=True)
    argv = [MINETAX, "run", "--home", str(home), "--data-dir", str(work / "data")]
    if os.environ.get("BENCH_CLUSTER"):
        argv += ["--cluster", os.environ["BENCH_CLUSTER"]]
    wall, rss = _timed_command(argv)
    return {**_published(home, "kz-baseline"), "wall_s": wall, "peak_rss_mb": rss, **store_size(home)}


def step_compare(work: Path) -> dict:
    """`minetax compare kz-baseline kz-fee-10` on the warehouse the cli step left (its baseline is up to date)."""
    home = work / os.environ.get("BENCH_HOME", "home-cli")
    wall, rss = _timed_command([MINETAX, "compare", "kz-baseline", "kz-fee-10", "--home", str(home),
                                "--data-dir", str(work / "data")])
    return {**_published(home, "kz-fee-10"), "wall_s": wall, "peak_rss_mb": rss}


STEPS: dict[str, Callable[[Path], dict]] = {
    "pipeline": step_pipeline, "floor": step_floor, "write_once": step_write_once, "pandas": step_pandas,
    "polars": step_polars, "cli": step_cli, "compare": step_compare}


def main(step: str, work: Path) -> None:
    print(json.dumps(STEPS[step](work), default=str))
