"""Benchmark of issue 15: `minetax run` (temporary API, a running Prefect server, a Dask cluster), the same run in one
process, and three baselines on the same generated readings, side by side in one run.

    uv run python bench/run.py --sizes 1M,10M,100M,1B [--steps ...] [--data-dir /work/bench-data] [--out BENCHMARKS.md]

Data: for each size, farms × 15-min readings over three years, 2022-01..2024-12 (`minetax generate-sample`,
deterministic, streamed to Parquet; bench/sizes.py gives the farm counts: 11, 109, 1,093 and 10,933 farms for
1,022,400, 9,986,208, 99,987,648 and 1,000,017,312 readings). --data-dir keeps generated sets to reuse
(bench/samples.py).

Each step runs in a fresh process, so its wall time and peak RSS are its own (bench/steps.py):
  fixed      on 2 farms × 1 day, repeated --repeat times (median): the run in one process; `minetax run` on the
             temporary API; `minetax compare kz-baseline kz-fee-10` after that run; `minetax run` against a
             running Prefect server (started here: `prefect server start`, stopped at the end);
  cli        (a) `minetax run` end to end on a fresh home, Prefect's temporary API (PREFECT_HOME shared by every
             run of the benchmark, its database created by a first run reported apart);
  compare    the reform on the loaded warehouse: `minetax compare kz-baseline kz-fee-10` after (a);
  pipeline   the same run in one process (minetax.pipeline), by stage; growing part = this − the fixed one;
  month      one new month (2025-01, same farms) dropped into the inbox of the warehouses (a) and the in-process
             run left, and each run again;
  floor      (b) one hand-written DuckDB query (bench/floor.sql); pandas (c), skipped above --pandas-max; polars
             (d) lazy, streaming engine, skipped above --polars-max;
  server     `minetax run` on 2 farms × 1 day against the running Prefect server (PREFECT_API_URL);
  cluster    `minetax run --cluster tcp://…` on a Dask scheduler with 2 workers × 1 thread started here, against
             the running Prefect server (skipped, with the reason, when `minetax run --help` has no --cluster).
At 1B (sizes above --one-process-above) only pipeline, floor and polars run: one process each.

The fee totals of every step agree with the floor's (relative 1e-6) or the benchmark says which do not. Results are
appended as markdown to --out (bench/report.py), with a block of measured inputs for docs/scale-out.md printed
(and written into the doc with --fill-doc).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procs  # noqa: E402
import report  # noqa: E402
import samples  # noqa: E402
import sizes  # noqa: E402
import steps  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("cli", "compare", "pipeline", "month", "floor", "pandas", "polars", "server", "cluster")
ONE_PROCESS = ("pipeline", "floor", "polars")  # the steps run at 1B


def median(runs: list[dict]) -> dict | None:
    """The run with the median wall time (of an odd count; the lower middle of an even one), with every time."""
    if not runs:
        return None
    mid = sorted(runs, key=lambda r: r["wall_s"])[(len(runs) - 1) // 2]
    return {**mid, "all_s": [r["wall_s"] for r in runs]}


FAILED: dict[str, str] = {}  # "<where>: <step>" → why, for the report


def attempt(where: str, step: str, work: Path, server: bool = False, **extra: str) -> dict | None:
    """procs.child, but a step that fails is recorded (FAILED, shown in the report) and the benchmark goes on."""
    try:
        return procs.child(step, work, server, **extra)
    except procs.StepFailed as e:
        label = f"{where}: {step}" + (" --cluster" if "BENCH_CLUSTER" in extra else "")
        FAILED[label] = e.reason
        print(f"FAILED {label}: {e.reason}", flush=True)
        return None


def fixed_costs(tiny: Path, todo: set[str], repeat: int, pref: dict) -> dict:
    """The fixed costs on 2 farms × 1 day: in process, `minetax run` (temporary API) and the compare after it."""
    res: dict = {"first": None}
    if todo & {"cli", "compare", "month", "server", "cluster"}:  # Prefect's database: created once, reported apart
        res["first"] = attempt("fixed", "cli", tiny, BENCH_FRESH="1", **pref)
    runs: dict[str, list[dict]] = {"pipeline": [], "cli": [], "compare": []}
    for _ in range(repeat):
        if "pipeline" in todo:
            shutil.rmtree(tiny / "home", ignore_errors=True)
            runs["pipeline"].append(attempt("fixed", "pipeline", tiny))
        if todo & {"cli", "compare"}:
            runs["cli"].append(cli := attempt("fixed", "cli", tiny, BENCH_FRESH="1", **pref))
            if "compare" in todo and cli:
                runs["compare"].append(attempt("fixed", "compare", tiny, **pref))
    res.update({k: median([r for r in v if r]) for k, v in runs.items()})
    print("fixed", {k: v["all_s"] for k, v in res.items() if v and "all_s" in v}, flush=True)
    return res


def new_month(w: Path, d: dict, homes: list[str]) -> None:
    """Copy the month's files into the inbox of each home (the next run loads them)."""
    sys.path.insert(0, str(ROOT / "src"))
    from minetax.config import Settings

    for home in homes:
        drop = Settings.make(w / home, w / "data").inbox_dir
        drop.mkdir(parents=True, exist_ok=True)
        for name in ("energy_readings", "farm_hashrate"):
            samples.link(d["month"] / f"{name}.parquet", drop / f"{name}-{sizes.MONTH}.parquet")


def measure(size: str, work: Path, store: Path | None, todo: set[str], a: argparse.Namespace, pref: dict) -> dict:
    w = work / size
    d = samples.prepare(size, w, store)
    big = sizes.nominal(size) > sizes.nominal(a.one_process_above)
    run = todo & set(ONE_PROCESS) if big else set(todo)
    res: dict = {}

    def step(key: str, name: str, **extra: str) -> None:
        if (r := attempt(size, name, w, **extra)) is not None:
            res[key] = r

    if "cli" in run or "compare" in run:
        step("cli", "cli", BENCH_FRESH="1", **pref)
        if "compare" in run and "cli" in res:
            step("compare", "compare", **pref)
    if "pipeline" in run:
        shutil.rmtree(w / "home", ignore_errors=True)
        step("pipeline", "pipeline")
    if "month" in run:
        homes = [h for h, key in (("home-cli", "cli"), ("home", "pipeline")) if key in res]
        new_month(w, d, homes)
        if "cli" in res:
            step("cli_month", "cli", **pref)
        if "pipeline" in res:
            step("month", "pipeline")
    if "floor" in run:
        step("floor", "floor")
        step("write_once", "write_once")  # beside it: the cost of storing the readings at all
    if "pandas" in run and sizes.nominal(size) <= sizes.nominal(a.pandas_max):
        step("pandas", "pandas")
    if "polars" in run and sizes.nominal(size) <= sizes.nominal(a.polars_max):
        step("polars", "polars")
    print(size, {k: (round(v["wall_s"], 1), round(v["peak_rss_mb"])) for k, v in res.items()}, flush=True)
    return {"size": size, **{k: v for k, v in d.items() if k != "month"}, "res": res, "big": big,
            "ran": sorted(run), "work": w}


def cluster_option() -> str | None:
    """None when `minetax run` takes --cluster, else why the cluster step is skipped."""
    out = subprocess.run([steps.MINETAX, "run", "--help"], capture_output=True, text=True,
                         env=procs.env({"COLUMNS": "200"}))
    return None if "--cluster" in out.stdout else "`minetax run --help` shows no --cluster option (not built yet)"


def server_steps(work: Path, tiny: Path, rows: list[dict], todo: set[str], repeat: int, pref: dict,
                 a: argparse.Namespace) -> dict:
    """Start a Prefect server; the fixed cost against it; each size's run on a Dask cluster; stop everything."""
    out: dict = {"skipped": {}, "cluster": {}}
    why = cluster_option() if "cluster" in todo else None
    if why:
        out["skipped"]["cluster"] = why
        print("cluster: skipped:", why, flush=True)
    if not ("server" in todo or ("cluster" in todo and not why)):
        return out
    svc, url = procs.prefect_server(work)
    srv = {**pref, "PREFECT_API_URL": url}
    try:
        if "server" in todo:
            out["first"] = attempt("server", "cli", tiny, True, BENCH_FRESH="1", **srv)  # the flow's first record
            runs = []
            for _ in range(repeat):
                before = procs.count(url, "task_runs"), procs.count(url, "flow_runs")
                if (r := attempt("server", "cli", tiny, True, BENCH_FRESH="1", **srv)) is not None:
                    after = procs.count(url, "task_runs"), procs.count(url, "flow_runs")
                    runs.append({**r, "task_runs": after[0] - before[0], "flow_runs": after[1] - before[1]})
            out["fixed"] = median(runs)
            print("fixed on a running server", out["fixed"] and out["fixed"]["all_s"], flush=True)
        for w in rows:
            if "cluster" in todo and not why and not w["big"]:
                if (c := cluster_run(work, w["work"], srv, url, a.workers, a.worker_memory)) is not None:
                    out["cluster"][w["size"]] = c
        out["server_peak_mb"] = max(svc.peaks().values(), default=0.0)
    finally:
        svc.stop()
    return out


def cluster_run(work: Path, w: Path, srv: dict, url: str, workers: int, memory: str) -> dict | None:
    svcs, addr = procs.dask_cluster(work, url, workers, memory)
    try:
        before = procs.count(url, "task_runs"), procs.count(url, "flow_runs")
        res = attempt(w.name, "cli", w, True, BENCH_FRESH="1", BENCH_HOME="home-cluster",
                      BENCH_CLUSTER=addr, **srv)
        if res is None:
            return None
        after = procs.count(url, "task_runs"), procs.count(url, "flow_runs")
        res.update(task_runs=after[0] - before[0], flow_runs=after[1] - before[1], address=addr, workers=workers,
                   worker_memory=memory)
        peaks = svcs[1].peaks()  # the `dask worker` command, its nannies and the worker processes
        res["worker_peak_mb"] = max(peaks.values(), default=0.0)
        res["workers_sum_mb"] = sum(peaks.values())
        res["worker_processes"] = len(peaks)
    finally:
        for s in reversed(svcs):
            s.stop()
    print("cluster", w.name, round(res["wall_s"], 1), "s", res["task_runs"], "task runs", flush=True)
    return res


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1M,10M", help=f"comma-separated, of {', '.join(sizes.SIZES)}")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated, of {', '.join(STEPS)}")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each fixed-cost step (the median is used)")
    ap.add_argument("--pandas-max", default="10M", help="largest size pandas (c) is run at (memory)")
    ap.add_argument("--polars-max", default="1B", help="largest size Polars (d) is run at")
    ap.add_argument("--one-process-above", default="100M", help="above this size only pipeline, floor, polars run")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers (1 thread each) of the cluster step")
    ap.add_argument("--worker-memory", default="3GB", help="--memory-limit of each Dask worker (README's example)")
    ap.add_argument("--data-dir", help="keep generated data here (<dir>/<size>/sample, month) and reuse it")
    ap.add_argument("--work", default="/tmp/minetax-bench", help="work folder (homes, logs; emptied per size)")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"), help="markdown file the results are appended to")
    ap.add_argument("--fill-doc", help="write the measured block into this docs/scale-out.md")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if not a.step:
        for opt, given, known in (("--sizes", a.sizes, sizes.SIZES), ("--steps", a.steps, STEPS)):
            if unknown := [s for s in given.split(",") if s not in known]:
                ap.error(f"{opt}: unknown {', '.join(unknown)} (one of {', '.join(known)})")
    return a


def main() -> None:
    a = parse()
    if a.step:
        steps.main(a.step, Path(a.work))
        return
    t0 = time.perf_counter()
    work, todo = Path(a.work), set(a.steps.split(","))
    store = Path(a.data_dir).resolve() if a.data_dir else None
    work.mkdir(parents=True, exist_ok=True)
    tiny = samples.tiny(work / "tiny")
    # Prefect's state for every `minetax run` of the benchmark: created once by a first run (its database migrations
    # are a one-time cost of a new installation, reported apart), then shared, as on a user's machine
    pref = {"PREFECT_HOME": str(work / "prefect-home")}
    shutil.rmtree(pref["PREFECT_HOME"], ignore_errors=True)
    shutil.rmtree(work / "prefect-server", ignore_errors=True)
    fixed = fixed_costs(tiny, todo, a.repeat, pref)
    rows = [measure(s, work, store, todo, a, pref) for s in a.sizes.split(",")]
    server = server_steps(work, tiny, rows, todo, a.repeat, pref, a)
    results = {"fixed": fixed, "rows": rows, "server": server, "args": vars(a), "failed": FAILED,
               "seconds": time.perf_counter() - t0}
    if a.json:
        Path(a.json).write_text(json.dumps(results, default=str, indent=1))
    text = report.markdown(results)
    out = Path(a.out)
    out.write_text((out.read_text() if out.exists() else "") + text)
    block = report.scale_out_block(results)
    print("\n--- measured inputs for docs/scale-out.md (paste between the bench markers, or use --fill-doc) ---")
    print(block)
    if a.fill_doc:
        report.fill_doc(Path(a.fill_doc), block)
    print(f"appended to {out}; {time.perf_counter() - t0:.0f} s in all")


if __name__ == "__main__":
    main()
