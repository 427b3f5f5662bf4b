"""The measured inputs of docs/scale-out.md and its model, from one benchmark run (bench/run.py).

Model (docs/scale-out.md states it): for N readings on W workers × T threads,
    time   = fixed + reduce(N) + ceil(tasks / (W·T)) × ((N / tasks) × c + o) + N × b / (W × bandwidth)
    memory = per worker: T × DuckDB's memory_limit per task + the worker process itself
with c the core-seconds per reading of a map task, o what a task costs on the cluster beyond its own work, tasks
by minetax's rules (partitions of farm buckets × months, grouped into tasks within a month), b the bytes per reading
in the readings store, and reduce(N) = r0 + r1 × N (r0 the reduce of 2 farms × 1 day; its input is the partials,
farms × days, which grow with N at a fixed span).
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import sizes

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- bench:scale-out:begin -->", "<!-- bench:scale-out:end -->"
MONTHS = 36  # three years
THREADS = 2  # threads per worker in the table (a 2-core worker like the benchmark's machine)
BANDWIDTH_MB_S = 100.0  # per worker from the object store: an assumption, not measured here
TARGETS = (1e10, 1e11)
WORKERS = (4, 16, 64)


def rules() -> dict[str, int]:
    """minetax's constants: partitions of about TARGET_ROWS readings, at most MAX_BUCKETS buckets; map tasks of at
    most TASK_ROWS readings (one month's partitions in bucket order), at most MONTH_TASKS a month; the values of
    issue 15 where not importable (MONTH_TASKS 0: not in that version)."""
    sys.path.insert(0, str(ROOT / "src"))
    out = {"TARGET_ROWS": 4_000_000, "MAX_BUCKETS": 256, "TASK_ROWS": 8_000_000, "MONTH_TASKS": 0}
    for module, names in (("minetax.load.partitions", ("TARGET_ROWS", "MAX_BUCKETS")),
                          ("minetax.model.partials", ("TASK_ROWS", "MONTH_TASKS"))):
        try:
            mod = __import__(module, fromlist=["_"])
        except ImportError:
            continue
        out.update({k: int(getattr(mod, k)) for k in names if hasattr(mod, k)})
    return out


def layout_for(n: float) -> dict[str, float]:
    """Buckets, partitions and map tasks for n readings over MONTHS months, by minetax's rules."""
    r = rules()
    per_month = n / MONTHS
    buckets = 1 if per_month <= r["TARGET_ROWS"] else min(r["MAX_BUCKETS"],
                                                           2 ** math.ceil(math.log2(per_month / r["TARGET_ROWS"])))
    per_partition = per_month / buckets
    per_task = max(1, int(r["TASK_ROWS"] // per_partition))  # partitions a task takes (at least one)
    if r["MONTH_TASKS"]:  # and at least buckets / MONTH_TASKS (a month is at most MONTH_TASKS tasks)
        per_task = max(per_task, math.ceil(buckets / r["MONTH_TASKS"]))
    return {"buckets": buckets, "partitions": buckets * MONTHS, "per_partition": per_partition,
            "tasks": math.ceil(buckets / per_task) * MONTHS}


def partitions_for(n: float) -> int:
    return int(layout_for(n)["partitions"])


def stage(run: dict | None, name: str) -> dict | None:
    """The stage `name` the run recorded (minetax.pipeline.Stage as a flat dict), seconds summed over repeats."""
    found = [x for x in (run or {}).get("run_stages", []) if x.get("name") == name]
    if not found:
        return None
    return {**found[0], "seconds": sum(x["seconds"] for x in found)}


def map_reduce(run: dict) -> tuple[dict | None, float | None]:
    """The map as the run recorded it (estimate's map: tasks, run, seconds, task_seconds, rows), and the reduce:
    the rest of estimate (the model on the partials, the tax, the output suites) plus publish."""
    est, pub = stage(run, "estimate"), stage(run, "publish")
    if est and est.get("map_seconds") is not None:
        mp = {"seconds": est["map_seconds"], "task_seconds": est.get("map_task_seconds"),
              "tasks": est.get("map_tasks"), "run": est.get("map_run"), "rows": est.get("map_rows")}
        return mp, est["seconds"] - est["map_seconds"] + (pub["seconds"] if pub else 0.0)
    mp, rd = stage(run, "map"), stage(run, "reduce")  # a run that records them as stages of their own
    return mp, rd and rd["seconds"]


def task_limits() -> tuple[float, int]:
    """DuckDB's memory limit per map task (MB) and the threads of a task in one process, as minetax sets them
    (minetax.model.partials.limits: MINETAX_TASK_MEMORY, MINETAX_TASK_THREADS); 1 GB and the cores otherwise."""
    sys.path.insert(0, str(ROOT / "src"))
    memory, threads = "1GB", os.cpu_count() or 1
    try:
        from minetax.model import partials

        memory, threads = partials.limits()
    except (ImportError, AttributeError):
        pass
    units = {"KB": 1 / 1024, "MB": 1, "GB": 1024, "TB": 1024**2, "KIB": 1 / 1024, "MIB": 1, "GIB": 1024}
    text = str(memory).strip().upper()
    unit = next((u for u in sorted(units, key=len, reverse=True) if text.endswith(u)), "MB")
    return float(text[: -len(unit)] if text.endswith(unit) else text) * units[unit], int(threads)


def inputs(res: dict) -> dict:
    """The measured figures the model needs (None where this run did not measure them)."""
    fixed, server = res["fixed"], res["server"]
    limit_mb, threads = task_limits()
    fixed_map, fixed_reduce = map_reduce(fixed.get("pipeline") or {})
    out: dict = {"threads": threads, "task_limit_mb": limit_mb, "fixed_reduce_s": fixed_reduce,
                 "fixed_temp_s": (fixed.get("cli") or {}).get("wall_s"),
                 "fixed_server_s": (server.get("fixed") or {}).get("wall_s"), "sizes": [],
                 "worker_peaks": [c["worker_peak_mb"] for c in server.get("cluster", {}).values()]}
    for w in (w for w in res["rows"] if "pipeline" in w["res"]):
        p = w["res"]["pipeline"]
        mp, reduce_s = map_reduce(p)
        c = None
        if mp and mp.get("rows"):  # the tasks' own time, each on `threads` threads, per reading
            c = (mp.get("task_seconds") or mp["seconds"]) * threads / mp["rows"]
        store = p.get("store_bytes")
        row = {"size": w["size"], "n": w["n"], "map_s": mp and mp["seconds"], "reduce_s": reduce_s,
               "partitions": p.get("store_partitions"), "tasks": mp and mp.get("tasks"), "c": c,
               "bytes_per_reading": store / w["n"] if store else None, "peak_mb": p["peak_rss_mb"],
               "files": p.get("store_files"), "partials": p.get("partial_files")}
        cl = server.get("cluster", {}).get(w["size"])
        if cl:
            busy = cl["wall_s"] - (out["fixed_server_s"] or 0.0) - (reduce_s or 0.0)
            row.update(cluster_s=cl["wall_s"], task_runs=cl["task_runs"], workers=cl["workers"],
                       worker_peak_mb=cl["worker_peak_mb"], cluster_c=busy * cl["workers"] / w["n"])
            if c is not None and mp and mp.get("run"):  # what a task costs on the cluster beyond its own work
                row["task_overhead_s"] = max(busy * cl["workers"] - c * w["n"], 0.0) / mp["run"]
        out["sizes"].append(row)
    return out


def best(m: dict) -> dict | None:
    """The largest size with a map cost."""
    have = [r for r in m["sizes"] if r["c"]]
    return max(have, key=lambda r: r["n"]) if have else None


def reduce_for(m: dict, n: float) -> float | None:
    """reduce(n) = r0 + r1 × n: r0 the reduce of the fixed run (2 farms × 1 day), r1 from the largest size."""
    red = [r for r in m["sizes"] if r["reduce_s"] is not None]
    if not red:
        return None
    top = max(red, key=lambda r: r["n"])
    r0 = m["fixed_reduce_s"] or 0.0
    return r0 + max(top["reduce_s"] - r0, 0.0) * n / top["n"]


def task_peak(m: dict) -> float | None:
    """The largest Dask worker process of the cluster runs (a worker running map tasks), MB."""
    peaks = [x for x in m["worker_peaks"] if x]
    return max(peaks) if peaks else None


def task_overhead(m: dict) -> float | None:
    """Seconds a map task costs on the cluster beyond its own work (Prefect's states, Dask, the worker reading
    the store), from the largest size run on the cluster: ((time − fixed − reduce) × workers − c × readings) / tasks."""
    have = [r for r in m["sizes"] if r.get("task_overhead_s") is not None]
    return max(have, key=lambda r: r["n"])["task_overhead_s"] if have else None


def model(m: dict, n: float, workers: int) -> dict | None:
    """Expected time and memory for n readings on `workers` × THREADS (None without the inputs)."""
    top = best(m)
    if top is None:
        return None
    lay = layout_for(n)
    p, tasks = int(lay["partitions"]), int(lay["tasks"])
    over = task_overhead(m)
    map_s = math.ceil(tasks / (workers * THREADS)) * ((n / tasks) * top["c"] + (over or 0.0))
    b = top["bytes_per_reading"]
    transfer_s = n * b / (workers * BANDWIDTH_MB_S * 1e6) if b else None
    reduce_s = reduce_for(m, n)
    fixed = m["fixed_server_s"] or m["fixed_temp_s"] or 0.0
    total = fixed + (reduce_s or 0.0) + map_s + (transfer_s or 0.0)
    base = task_peak(m)
    return {"partitions": p, "tasks": tasks, "map_s": map_s, "transfer_s": transfer_s, "reduce_s": reduce_s,
            "total_s": total, "worker_mb": THREADS * m["task_limit_mb"] + (base or 0.0),
            "store_gb": n * b / 1e9 if b else None, "farms": n / per_farm(),
            "complete": reduce_s is not None and b is not None and base is not None and over is not None}


def per_farm() -> float:
    n = sizes.SIZES["1B"]
    return sizes.readings(n) / n


def fmt(x: float | None, unit: str = "", digits: int = 1) -> str:
    return "not measured" if x is None else f"{x:,.{digits}f}{unit}"


def block(res: dict) -> str:
    m = inputs(res)
    top = best(m)
    rows = [("fixed_server_s", "fixed cost, `minetax run` on 2 farms × 1 day against a running Prefect server",
             fmt(m["fixed_server_s"], " s", 2)),
            ("fixed_temp_s", "the same on the temporary API", fmt(m["fixed_temp_s"], " s", 2)),
            ("reduce_fixed_s", "reduce of that run in one process (r0)", fmt(m["fixed_reduce_s"], " s", 2))]
    for r in m["sizes"]:
        sz = r["size"]
        rows += [(f"partitions_{sz}", f"{sz}: partitions of the readings store (bucket × month folders)",
                  str(r["partitions"] or "not recorded")),
                 (f"tasks_{sz}", f"{sz}: map tasks of the run", str(r["tasks"] or "not recorded")),
                 (f"map_s_{sz}", f"{sz}: map, wall in one process", fmt(r["map_s"], " s", 2)),
                 (f"reduce_s_{sz}", f"{sz}: reduce in one process (the model on the partials, the tax, the output "
                  "suites, publish)", fmt(r["reduce_s"], " s", 2)),
                 (f"peak_mb_{sz}", f"{sz}: peak RSS of the run in one process", f"{r['peak_mb']:.0f} MB"),
                 (f"store_{sz}", f"{sz}: readings store after one run: reading files, bytes a reading, partials",
                  f"{r['files'] or '—'}, {fmt(r['bytes_per_reading'], '', 2)}, {r['partials'] or '—'}")]
        if "cluster_s" in r:
            rows += [(f"cluster_s_{sz}", f"{sz}: `minetax run --cluster`, {r['workers']} workers × 1 thread (its map "
                      f"cost per million readings, (time − fixed − reduce) × workers: {r['cluster_c'] * 1e6:.2f} "
                      "core-s)", f"{r['cluster_s']:.1f} s"),
                     (f"task_runs_{sz}", f"{sz}: task runs the Prefect server recorded for that run",
                      str(r["task_runs"]))]
    if top:
        rows += [("c_per_1M", f"map cost per million readings, core-seconds: the tasks' own time × their "
                  f"{m['threads']} threads / readings, at {top['size']}", fmt(top["c"] * 1e6, " s", 3)),
                 ("per_partition_s", f"cost per partition, core-seconds, at {top['size']}",
                  fmt(top["c"] * top["n"] / top["partitions"], " s", 3) if top["partitions"] else "not measured"),
                 ("bytes_per_reading", f"store bytes a reading, at {top['size']}",
                  fmt(top["bytes_per_reading"], "", 2)),
                 ("task_overhead_s", "what a map task costs on the cluster beyond its own work, seconds: ((time − "
                  "fixed − reduce) × workers − c × readings) / tasks, at the largest size run there",
                  fmt(task_overhead(m), " s", 2))]
    rows += [("task_memory_mb", "DuckDB memory_limit per map task (MINETAX_TASK_MEMORY)",
              f"{m['task_limit_mb']:.0f} MB"),
             ("task_peak_mb", "largest Dask worker process of the cluster run", fmt(task_peak(m), " MB", 0))]
    lines = [BEGIN, "", "| name | input | value |", "|---|---|---|",
             *[f"| `<<{k}>>` | {what} | {v} |" for k, what, v in rows], "",
             f"Expected by the model, 15-min readings over three years (≈{per_farm():,.0f} readings a farm), "
             f"workers of {THREADS} threads, {BANDWIDTH_MB_S:.0f} MB/s per worker from the object store (assumed); "
             f"memory per worker = {THREADS} × `<<task_memory_mb>>` + `<<task_peak_mb>>`:", "",
             "| readings | farms | partitions | map tasks | workers | map s | transfer s | reduce s | total "
             "| memory per worker | store |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in TARGETS:
        for wk in WORKERS:
            e = model(m, n, wk)
            lay = layout_for(n)
            head = f"| {n / 1e9:,.0f}B | {n / per_farm():,.0f} | {lay['partitions']:,} | {lay['tasks']:,} | {wk} | "
            if e is None:
                lines.append(head + "not measured | | | | | |")
                continue
            total = f"{e['total_s'] / 60:,.1f} min" + ("" if e["complete"] else " (without what is not measured)")
            lines.append(head + f"{e['map_s']:,.0f} | {fmt(e['transfer_s'], '', 0)} | {fmt(e['reduce_s'], '', 0)} | "
                         f"{total} | {e['worker_mb'] / 1024:.1f} GB | {fmt(e['store_gb'], ' GB', 0)} |")
    lines += ["", END]
    return "\n".join(lines)


def fill(path: Path, text: str) -> None:
    """Replace the block between the markers of docs/scale-out.md with text (which carries the markers)."""
    doc = path.read_text()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{path}: no {BEGIN} … {END} block to fill")
    head, rest = doc.split(BEGIN, 1)
    path.write_text(head + text + rest.split(END, 1)[1])
    print(f"wrote the measured block into {path}")
