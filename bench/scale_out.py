"""The measured inputs of docs/scale-out.md and its model, from one benchmark run (bench/run.py).

Model (docs/scale-out.md states it): for N readings on W workers × T threads,
    time   = fixed + reduce(N) + ceil(P / (W·T)) × (N / P) × c + N × b / (W × bandwidth)
    memory = per worker: T × (what one map task holds) ; the reduce: one DuckDB process, spilling beyond its limit
with c the core-seconds per reading of the map, P the partitions (farm buckets × months, by minetax's rule), b the
bytes per reading in the readings store, and reduce(N) scaled from the largest size measured by N (its input is the
partials, farms × days, which grow with farms at a fixed span of three years).
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


def layout_rule() -> tuple[int, int]:
    """(TARGET_ROWS, MAX_BUCKETS) of minetax's partition rule, or the values of issue 15's first version."""
    sys.path.insert(0, str(ROOT / "src"))
    try:
        from minetax.load import partitions

        return int(partitions.TARGET_ROWS), int(partitions.MAX_BUCKETS)
    except (ImportError, AttributeError):
        return 4_000_000, 256


def partitions_for(n: float) -> int:
    target, most = layout_rule()
    per_month = n / MONTHS
    buckets = 1 if per_month <= target else min(most, 2 ** math.ceil(math.log2(per_month / target)))
    return buckets * MONTHS


def stage(run: dict | None, name: str) -> dict | None:
    """The stage `name` the run recorded (minetax.pipeline.Stage as a dict), seconds summed over repeats."""
    found = [x for x in (run or {}).get("run_stages", []) if x.get("name") == name]
    if not found:
        return None
    return {**found[0], "seconds": sum(x["seconds"] for x in found)}


def count_of(st: dict | None) -> int | None:
    for k in ("partitions", "tasks", "n_partitions", "groups"):
        if st and isinstance(st.get(k), int) and st[k] > 0:
            return int(st[k])
    return None


def inputs(res: dict) -> dict:
    """The measured figures the model needs (None where this run did not measure them)."""
    cores = os.cpu_count() or 1
    fixed, server = res["fixed"], res["server"]
    rows = [w for w in res["rows"] if "pipeline" in w["res"]]
    out: dict = {"cores": cores, "fixed_temp_s": (fixed.get("cli") or {}).get("wall_s"),
                 "fixed_server_s": (server.get("fixed") or {}).get("wall_s"),
                 "fixed_inproc_s": (fixed.get("pipeline") or {}).get("wall_s"), "sizes": []}
    for w in rows:
        p = w["res"]["pipeline"]
        mp, rd = stage(p, "map"), stage(p, "reduce")
        parts = count_of(mp) or None
        grow = p["wall_s"] - out["fixed_inproc_s"] if out["fixed_inproc_s"] is not None else None
        if mp:
            c, source = mp["seconds"] * cores / w["n"], "map stage"
        elif grow is not None:
            c, source = grow * cores / w["n"], "growing part (no map stage recorded)"
        else:
            c, source = None, "—"
        store = p.get("store_bytes") or p.get("parquet_bytes")
        row = {"size": w["size"], "n": w["n"], "farms": w["farms"], "map_s": mp and mp["seconds"],
               "reduce_s": rd and rd["seconds"], "partitions": parts, "c": c, "c_source": source,
               "per_partition_s": c * (w["n"] / parts) if c and parts else None,
               "bytes_per_reading": store / w["n"] if store else None, "peak_mb": p["peak_rss_mb"],
               "files": p.get("store_files") or p.get("parquet_files")}
        cl = server.get("cluster", {}).get(w["size"])
        if cl:
            fx = out["fixed_server_s"] or 0.0
            busy = cl["wall_s"] - fx - (row["reduce_s"] or 0.0)
            row.update(cluster_s=cl["wall_s"], cluster_c=busy * cl["workers"] / w["n"], task_runs=cl["task_runs"],
                       worker_peak_mb=cl["worker_peak_mb"], workers=cl["workers"])
        out["sizes"].append(row)
    return out


def model(m: dict, n: float, workers: int) -> dict | None:
    """Expected time and memory for n readings on `workers` × THREADS (None without the inputs)."""
    have = [r for r in m["sizes"] if r["c"]]
    if not have:
        return None
    top = max(have, key=lambda r: r["n"])
    c = top.get("cluster_c") or top["c"]
    p = partitions_for(n)
    slots = workers * THREADS
    map_s = math.ceil(p / slots) * (n / p) * c
    b = top["bytes_per_reading"] or 2.5
    transfer_s = n * b / (workers * BANDWIDTH_MB_S * 1e6)
    red = [r for r in have if r["reduce_s"] is not None]
    reduce_s = max(red, key=lambda r: r["n"])["reduce_s"] * n / max(red, key=lambda r: r["n"])["n"] if red else None
    fixed = m["fixed_server_s"] or m["fixed_temp_s"] or 0.0
    total = fixed + (reduce_s or 0.0) + map_s + transfer_s
    per_task_mb = (top.get("worker_peak_mb") or top["peak_mb"])
    return {"partitions": p, "map_s": map_s, "transfer_s": transfer_s, "reduce_s": reduce_s, "total_s": total,
            "worker_mb": per_task_mb * THREADS, "store_gb": n * b / 1e9, "farms": n / per_farm()}


def per_farm() -> float:
    n = sizes.SIZES["1B"]
    return sizes.readings(n) / n


def fmt(x: float | None, unit: str = "", digits: int = 1) -> str:
    return "not measured" if x is None else f"{x:,.{digits}f}{unit}"


def block(res: dict) -> str:
    m = inputs(res)
    lines = [BEGIN, "", f"Measured by `bench/run.py` (commit and machine: the BENCHMARKS.md section of the same run; "
             f"{m['cores']} cores).", "",
             "| input | value |", "|---|---|",
             f"| fixed cost, `minetax run` against a running Prefect server (`<<fixed_server_s>>`) | "
             f"{fmt(m['fixed_server_s'], ' s', 2)} |",
             f"| fixed cost, temporary API (`<<fixed_temp_s>>`) | {fmt(m['fixed_temp_s'], ' s', 2)} |"]
    for r in m["sizes"]:
        sz = r["size"]
        lines += [
            f"| {sz}: partitions of the readings store (`<<partitions_{sz}>>`) | {r['partitions'] or 'not recorded'} |",
            f"| {sz}: map, wall in one process (`<<map_s_{sz}>>`) | {fmt(r['map_s'], ' s', 2)} |",
            f"| {sz}: cost per partition, core-seconds (`<<per_partition_s>>` at {sz}) | "
            f"{fmt(r['per_partition_s'], ' s', 3)} |",
            f"| {sz}: map cost per million readings, core-seconds (`<<c_per_1M>>` at {sz}; from the "
            f"{r['c_source']}) | {fmt(r['c'] and r['c'] * 1e6, ' s', 3)} |",
            f"| {sz}: reduce (`<<reduce_s_{sz}>>`) | {fmt(r['reduce_s'], ' s', 2)} |",
            f"| {sz}: store bytes per reading (`<<bytes_per_reading>>` at {sz}) | "
            f"{fmt(r['bytes_per_reading'], '', 2)} |",
            f"| {sz}: Parquet files of the readings store after one run | {r['files'] if r['files'] else '—'} |",
            f"| {sz}: peak RSS in one process | {r['peak_mb']:.0f} MB |"]
        if "cluster_s" in r:
            lines += [f"| {sz}: `minetax run --cluster`, {r['workers']} workers × 1 thread | {r['cluster_s']:.1f} s, "
                      f"{r['task_runs']} task runs on the server, largest worker process "
                      f"{r['worker_peak_mb']:.0f} MB |",
                      f"| {sz}: map cost per million readings on the cluster, core-seconds (cluster − fixed − reduce, "
                      f"× workers) | {fmt(r['cluster_c'] * 1e6, ' s', 3)} |"]
    lines += ["", f"Expected, by the model above, for 15-min readings over three years (≈{per_farm():,.0f} readings a "
              f"farm), workers of {THREADS} threads, {BANDWIDTH_MB_S:.0f} MB/s per worker from the object store "
              "(assumed), the map cost of the largest size measured (on the cluster where measured):", "",
              "| readings | farms | partitions | workers | map s | transfer s | reduce s | total | memory per worker "
              "| store |", "|---|---|---|---|---|---|---|---|---|---|"]
    for n in TARGETS:
        for wk in WORKERS:
            e = model(m, n, wk)
            if e is None:
                lines.append(f"| {n:.0e} | — | — | {wk} | <<map_s>> | <<transfer_s>> | <<reduce_s>> | <<total>> | "
                             "<<memory>> | <<store>> |")
                continue
            lines.append(f"| {n / 1e9:,.0f}B | {e['farms']:,.0f} | {e['partitions']:,} | {wk} | {e['map_s']:,.0f} | "
                         f"{e['transfer_s']:,.0f} | {fmt(e['reduce_s'], '', 0)} | {e['total_s'] / 60:,.1f} min | "
                         f"{e['worker_mb'] / 1024:.1f} GB | {e['store_gb']:,.0f} GB |")
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
