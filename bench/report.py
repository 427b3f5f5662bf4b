"""The markdown bench/run.py appends to BENCHMARKS.md (targets of issue 15, results, stages, growth) and the block of
measured inputs for docs/scale-out.md (bench/scale_out.py)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from pathlib import Path

import scale_out
import sizes

ROOT = Path(__file__).resolve().parents[1]
RSS_LIMIT_MB = 4096  # 4 GB
RUNS = ("cli", "compare", "pipeline", "cli_month", "month")  # the steps that are minetax itself


def yes(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def s(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def sm(r: dict | None) -> str:
    """'seconds (peak MB)' of a step."""
    return "—" if not r else f"{r['wall_s']:.1f} ({r['peak_rss_mb']:.0f})"


def commit() -> str:
    r = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def derived(w: dict, fixed: dict) -> dict:
    """The figures of one size that the targets read: growing parts, ratios, totals' agreement, peak RSS."""
    r, fp = w["res"], fixed.get("pipeline")
    out: dict = {}
    if "pipeline" in r and fp:
        out["grow"] = r["pipeline"]["wall_s"] - fp["wall_s"]
        if "floor" in r:
            out["grow_floor"] = out["grow"] / r["floor"]["wall_s"]
        if "month" in r:
            out["month_grow"] = r["month"]["wall_s"] - fp["wall_s"]
            out["month_share"] = out["month_grow"] / out["grow"] if out["grow"] > 0 else None
    totals = {k: r[k]["total"] for k in ("cli", "pipeline", "floor", "pandas", "polars") if k in r}
    ref = totals.get("floor", next(iter(totals.values()), None))
    out["totals"] = totals
    out["disagree"] = [k for k, v in totals.items() if ref is None or v is None or abs(v - ref) > 1e-6 * abs(ref)]
    out["peak_mb"] = max((r[k]["peak_rss_mb"] for k in RUNS if k in r), default=None)
    return out


def agree(total: float | None, ref: float | None) -> bool | None:
    if total is None or ref is None:
        return None
    return abs(total - ref) <= 1e-6 * abs(ref)


def target_rows(res: dict) -> list[str]:
    fixed, server, rows = res["fixed"], res["server"], res["rows"]
    normal = [w for w in rows if not w["big"]]
    at = next((w for w in normal if w["size"] == "100M"), normal[-1] if normal else None)
    lines = []
    where = f"at {at['size']}" + ("" if at and at["size"] == "100M" else " (the target is stated at 100M)") \
        if at else "—"
    if at:
        d = derived(at, fixed)
        r = at["res"]
        if "grow" in d and "floor" in r:
            lines.append(f"| growing part in one process ≤ 2.0 × floor (b), {where} | in process "
                         f"{s(r['pipeline']['wall_s'])} s − fixed {s(fixed['pipeline']['wall_s'])} s = "
                         f"{s(d['grow'])} s; floor {s(r['floor']['wall_s'])} s; ratio {s(d['grow_floor'], 2)} | "
                         f"{yes(d['grow_floor'] <= 2.0)} |")
        if "write_once" in r:
            w1 = r["write_once"]
            lines.append(f"| (bound) writing the readings once, one plain COPY to Parquet in its own process, "
                         f"{where} | step {s(w1['wall_s'])} s (the COPY {s(w1['copy_s'])} s) vs the floor step "
                         f"{s(r['floor']['wall_s'])} s (its query {s(r['floor'].get('query_s'))} s): "
                         f"{s(w1['wall_s'] / r['floor']['wall_s'], 2)} ×; a run that stores its readings (point 1) "
                         f"grows by at least this | — |")
    if fixed.get("cli"):
        f = fixed["cli"]
        lines.append(f"| fixed cost of `minetax run` (2 farms × 1 day), temporary API ≤ 5 s | median "
                     f"{s(f['wall_s'])} s of {', '.join(s(x) for x in f['all_s'])} | {yes(f['wall_s'] <= 5.0)} |")
    if server.get("fixed"):
        f = server["fixed"]
        lines.append(f"| fixed cost of `minetax run`, against a running Prefect server ≤ 3 s | median "
                     f"{s(f['wall_s'])} s of {', '.join(s(x) for x in f['all_s'])} | {yes(f['wall_s'] <= 3.0)} |")
    if at and "compare" in at["res"] and fixed.get("compare"):
        c, f = at["res"]["compare"]["wall_s"], fixed["compare"]["wall_s"]
        lines.append(f"| reform on a loaded warehouse: `minetax compare kz-baseline kz-fee-10` after the baseline "
                     f"≤ its fixed cost + 1 s, {where} | {s(c)} s against {s(f)} + 1 = {s(f + 1)} s (fixed: the same "
                     f"compare on 2 farms × 1 day, median of {', '.join(s(x) for x in fixed['compare']['all_s'])}) | "
                     f"{yes(c <= f + 1)} |")
    if at:
        d = derived(at, fixed)
        if d.get("month_share") is not None:
            lines.append(f"| one new month on the 3-year warehouse: its growing part ≤ 10% of a full run's, {where} | "
                         f"in process {s(at['res']['month']['wall_s'])} s − fixed = {s(d['month_grow'])} s against "
                         f"{s(d['grow'])} s: {d['month_share']:.0%} | {yes(d['month_share'] <= 0.10)} |")
        if d["peak_mb"] is not None:
            lines.append(f"| peak RSS ≤ 4 GB, {where} | {d['peak_mb']:.0f} MB (the largest of `minetax run`, compare, "
                         f"in process, new month) | {yes(d['peak_mb'] <= RSS_LIMIT_MB)} |")
    for w in (w for w in rows if w["big"]):
        d = derived(w, fixed)
        r = w["res"]
        if "pipeline" in r and "floor" in r and "grow" in d:
            ok = r["pipeline"]["peak_rss_mb"] <= RSS_LIMIT_MB and d["grow_floor"] <= 2.5
            lines.append(f"| {w['n']:,} readings ({w['size']}, {w['farms']:,} farms) in one process: completes, peak "
                         f"RSS ≤ 4 GB, growing part ≤ 2.5 × floor | completed in {s(r['pipeline']['wall_s'])} s, "
                         f"{r['pipeline']['peak_rss_mb']:.0f} MB; growing {s(d['grow'])} s, floor "
                         f"{s(r['floor']['wall_s'])} s: {s(d['grow_floor'], 2)} × | {yes(ok)} |")
            if "write_once" in r:
                w1 = r["write_once"]
                lines.append(f"| (bound) writing the {w['size']} readings once, one plain COPY to Parquet | step "
                             f"{s(w1['wall_s'])} s: {s(w1['wall_s'] / r['floor']['wall_s'], 2)} × the floor step "
                             "| — |")
    for size, c in server.get("cluster", {}).items():
        w = next(x for x in rows if x["size"] == size)
        ref = w["res"].get("floor", w["res"].get("pipeline", {})).get("total")
        inproc = w["res"].get("pipeline")
        lines.append(f"| Dask, {c['workers']} local workers × 1 thread, {size}: same totals, time beside the "
                     f"in-process run | `minetax run --cluster` {s(c['wall_s'])} s (client {c['peak_rss_mb']:.0f} MB, "
                     f"largest worker process {c['worker_peak_mb']:.0f} MB, {c['task_runs']} task runs); in process "
                     f"{sm(inproc)}; `minetax run` on the temporary API {sm(w['res'].get('cli'))} | "
                     f"{yes(agree(c['total'], ref))} |")
    for why in server.get("skipped", {}).values():
        lines.append(f"| Dask, 2 local workers at 100M | not run: {why} | **not measured** |")
    for where, why in res.get("failed", {}).items():
        lines.append(f"| step {where} | failed: {why} | **failed** |")
    bad = [f"{w['size']}: {', '.join(derived(w, fixed)['disagree'])}" for w in rows if derived(w, fixed)["disagree"]]
    lines.append(f"| fee totals of every step agree with the floor (relative 1e-6) | "
                 f"{'; '.join(bad) if bad else 'yes, every size and step'} | {yes(not bad)} |")
    return lines


def markdown(res: dict) -> str:
    fixed, server, rows, a = res["fixed"], res["server"], res["rows"], res["args"]
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    out = [f"\n## Issue 15: run of {dt.datetime.now():%Y-%m-%d %H:%M} (commit {commit()}) — {platform.machine()}, "
           f"{os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}\n",
           f"`uv run python bench/run.py --sizes {a['sizes']} --steps {a['steps']} --repeat {a['repeat']}"
           f"{' --data-dir ' + a['data_dir'] if a.get('data_dir') else ''}` ({res['seconds'] / 60:.0f} min). "
           f"Readings: farms × 15 min, {sizes.START}..{sizes.END} (bench/sizes.py). Fixed: 2 farms × 1 day, "
           f"median of {a['repeat']} runs. Growing part = the in-process run − the in-process fixed run. Peak RSS is "
           "the largest single process of a step (Prefect's API server beside `minetax run` is not added). "
           f"Prefect's database of the temporary API was created by a first run "
           f"({s((fixed.get('first') or {}).get('wall_s'))} s, once).\n",
           "| target (issue 15) | measured | met |", "|---|---|---|", *target_rows(res), ""]
    out += ["Results: seconds (peak RSS MB). (a) `minetax run`, temporary API; reform = `minetax compare kz-baseline "
            f"kz-fee-10` after (a); (b) the DuckDB floor; (c) pandas (skipped above {a['pandas_max']}); (d) Polars "
            "lazy, streaming engine. New month: 2025-01 into the warehouse each run left.", "",
            "| readings | farms | generated s | (a) `minetax run` | reform | in process | growing s | (b) floor | "
            "growing / (b) | (c) pandas | (d) polars | new month (a) | new month in process | month growing / full "
            "growing | totals agree |", "|" + "---|" * 15]
    for w in rows:
        r, d = w["res"], derived(w, fixed)
        share = "—" if d.get("month_share") is None else f"{d['month_share']:.0%}"
        gen = "reused" if w["gen"] is None else s(w["gen"])
        skip = "— (one process)" if w["big"] else "skipped"
        out.append(f"| {w['n']:,} ({w['size']}) | {w['farms']:,} | {gen} | {sm(r.get('cli')) if 'cli' in r else skip}"
                   f" | {sm(r.get('compare'))} | {sm(r.get('pipeline'))} | {s(d.get('grow'))} | {sm(r.get('floor'))} "
                   f"| {s(d.get('grow_floor'), 2)} | {sm(r['pandas']) if 'pandas' in r else 'skipped'} | "
                   f"{sm(r['polars']) if 'polars' in r else 'skipped'} | {sm(r.get('cli_month'))} | "
                   f"{sm(r.get('month'))} | {share} | {yes(not d['disagree'])} |")
    out += fixed_table(fixed, server)
    out += stage_table(rows, fixed)
    out += growth_table(rows)
    out += ["", scale_out.block(res), ""]
    return "\n".join(out) + "\n"


def fixed_table(fixed: dict, server: dict) -> list[str]:
    out = ["", "Fixed costs on 2 farms × 1 day: median, every run, peak RSS.", "",
           "| step | median s | runs s | peak MB |", "|---|---|---|---|"]
    for label, r in (("in process (minetax.pipeline)", fixed.get("pipeline")),
                     ("`minetax run`, temporary API", fixed.get("cli")),
                     ("`minetax compare kz-baseline kz-fee-10` after it", fixed.get("compare")),
                     ("`minetax run`, running Prefect server", server.get("fixed"))):
        if r:
            out.append(f"| {label} | {r['wall_s']:.2f} | {', '.join(f'{x:.2f}' for x in r['all_s'])} | "
                       f"{r['peak_rss_mb']:.0f} |")
    if server.get("first"):
        f = server["first"]
        out.append(f"| first run against the new server (reported apart) | {f['wall_s']:.2f} | — | "
                   f"{f['peak_rss_mb']:.0f} |")
    if server.get("fixed", {}).get("task_runs") is not None:
        out.append(f"\nAgainst the server one run of 2 farms × 1 day records {server['fixed']['flow_runs']} flow "
                   f"run(s) and {server['fixed']['task_runs']} task runs; the server's largest process peaked at "
                   f"{server.get('server_peak_mb', 0):.0f} MB.")
    return out


def stage_table(rows: list[dict], fixed: dict) -> list[str]:
    """The in-process runs by stage: the benchmark's own stopwatch, and the stages the run recorded itself."""
    out = ["", "The in-process runs by stage, seconds (the benchmark's stopwatch: load includes input validation, "
           "model+tax includes output validation; run stages: what minetax.pipeline recorded, e.g. map and reduce).",
           "", "| readings | run | process | peak MB | startup | begin | load | input validation | model+tax | "
           "output validation | publish | run stages | Parquet files under the home | Parquet MB |",
           "|" + "---|" * 14]
    for w in rows:
        for key, label in (("fixed", "fixed (2 farms × 1 day)"), ("pipeline", "full"), ("month", "new month")):
            r = fixed.get("pipeline") if key == "fixed" else w["res"].get(key)
            if not r or "stages" not in r:
                continue
            st = r["stages"]
            rs = ", ".join(f"{x['name']} {x['seconds']:.2f}" + "".join(f" {k}={v}" for k, v in x.items()
                                                                      if k not in ("name", "seconds") and v is not None)
                           for x in r.get("run_stages", []))
            out.append(f"| {w['n']:,} ({w['size']}) | {label} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | "
                       f"{st['startup']:.1f} | {st['begin']:.1f} | {st['load']:.1f} | {st['validate_inputs']:.1f} | "
                       f"{st['model_tax']:.1f} | {st['validate_outputs']:.1f} | {st['publish']:.1f} | {rs or '—'} | "
                       f"{r.get('parquet_files', '—')} | {r.get('parquet_bytes', 0) / 2**20:.0f} |")
    return out


def growth_table(rows: list[dict]) -> list[str]:
    out = ["", "Growth: seconds, and × the previous size.", "",
           "| readings | × readings | in process s | × | (b) s | × | (d) s | × |", "|" + "---|" * 8]
    prev: dict | None = None
    for w in rows:
        now = {"n": w["n"], **{k: w["res"][k]["wall_s"] for k in ("pipeline", "floor", "polars") if k in w["res"]}}

        def cell(k: str, now: dict = now, prev: dict | None = prev) -> str:
            if k not in now:
                return "— | —"
            x = f"{now[k] / prev[k]:.1f}" if prev and prev.get(k) else "—"
            return f"{now[k]:.1f} | {x}"

        ratio = f"{w['n'] / prev['n']:.1f}" if prev else "—"
        out.append(f"| {w['n']:,} ({w['size']}) | {ratio} | {cell('pipeline')} | {cell('floor')} | {cell('polars')} |")
        prev = now
    return out


def scale_out_block(res: dict) -> str:
    return scale_out.block(res)


def fill_doc(path: Path, block: str) -> None:
    scale_out.fill(path, block)
