"""Benchmark: minetax run vs the raw-DuckDB floor vs a pandas baseline, on the same generated readings.

    uv run python bench/run.py --sizes 1M,10M[,100M] [--pandas-max 10M] [--out BENCHMARKS.md]

Data: for each size, farms × 15-min readings over three years, 2022-01..2024-12 (`minetax generate-sample`,
deterministic, streamed to Parquet). Farms are commissioned and decommissioned at different dates, so readings are
not proportional to farms; the farm counts in SIZES are those whose readings come closest to 1M, 10M and 100M.

Each step runs in a fresh process, so its wall time and peak RSS are its own:
  (a)    `minetax run` end to end as a user runs it (Prefect's temporary API; load, validate, model, tax,
         publish), with a fresh minetax home. PREFECT_HOME is shared by every run of the benchmark and created by
         a first run before the sizes (Prefect's database migrations are a one-time cost of an installation;
         that first run's time is reported apart);
  fixed  `minetax run` on the tiniest data with a fresh home: 2 farms × 1 day (the second farm reports hashrate;
         a header-only hashrate file is refused), so every input is loaded and validated as in (a): interpreter
         start, imports, Prefect's API and flow, and every per-run cost that does not grow with rows;
  new month  one new month (2025-01, same farms: same count, same seed) dropped into the inbox of the warehouse
         (a) left, and `minetax run` again: it loads that month and recomputes only its tax periods. The reference
         data in data/reference covers 2025-01 (network_daily to 2025-12-31, fx to 2025-12, fleet efficiency to
         2025-03; country_share ends 2022-01, after which the model uses the scenario's assumed share for every
         month alike), so the month is the one right after the data;
  in process  the same three runs without Prefect: minetax.pipeline in one process, split by stage (load,
         validate, model, tax, publish), with the time in validation measured;
  (b)    the floor: one hand-written DuckDB query computing the same per-farm, per-quarter Kazakhstan fee straight
         from the Parquet files (rates taken from schemes/kz-mining-fee.yaml, not typed in);
  (c)    pandas: what an analyst writes (read_parquet, groupby, merge, the same rules); skipped above --pandas-max;
and checks that the totals of (a), the in-process run, (b) and (c) agree (relative 1e-6; the new month's total is
not compared). Results are appended as markdown tables (results and targets, split by stage, growth from size to
size) to --out.

Targets (issue 6, at 100M readings unless said): (a) ≤ 2 × (b) + 10 s of fixed cost; peak RSS of (a) ≤ 4 GB;
validation (input + output) ≤ 25% of (a); the incremental month ≤ 10% of a full run; (c)/(a) ≥ 10 at 10M.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "2022-01", "2024-12"  # three years of 15-min readings
MONTH = "2025-01"  # the month added to the warehouse by the incremental step
# farms → readings 2022-01..2024-12: 11 → 1,022,400; 109 → 9,986,208; 1093 → 99,987,648
SIZES = {"1M": 11, "10M": 109, "100M": 1093}
RSS_LIMIT_MB = 4096  # 4 GB
MINETAX = str(Path(sys.executable).parent / "minetax")


def child(step: str, work: Path, **env_extra: str) -> dict:
    """Run one step in a fresh process; return its JSON result with wall time and peak RSS (MB: the largest single
    process of the step's tree, e.g. the run and not Prefect's API server beside it)."""
    t0 = time.perf_counter()
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", **env_extra}
    p = subprocess.Popen([sys.executable, __file__, "--step", step, "--work", str(work)], stdout=subprocess.PIPE,
                         text=True, env=env)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0:
        raise SystemExit(f"step {step} failed:\n{out}")
    res = json.loads(out.strip().splitlines()[-1])
    # a step that times a process of its own (cli: `minetax run`) reports that process, not this wrapper
    return {"wall_s": time.perf_counter() - t0, "peak_rss_mb": usage.ru_maxrss / 1024, **res}


def fee_rules():
    sys.path.insert(0, str(ROOT / "src"))
    from minetax.tax.schemes import load_scheme

    return load_scheme("kz-mining-fee").rate_rules()


def step_pipeline(work: Path) -> dict:
    """The run of `minetax run` without Prefect, stage by stage, on work/data with home work/home. Also the
    incremental step (the same run on the warehouse a full run left, with a new month in its inbox) and the fixed
    step (on the tiniest data)."""
    t = time.perf_counter()
    sys.path.insert(0, str(ROOT / "src"))
    from minetax import pipeline
    from minetax.config import Settings
    from minetax.load import reading_order
    from minetax.validate import checks, suite_sql
    from minetax.validate import ge_engine as validate

    spent = {"validate": 0.0}

    def timed(real):
        def run(*a, **k):
            t0 = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                spent["validate"] += time.perf_counter() - t0

        return run

    # validation = time in the expectation suites (inputs: in DuckDB, with the key and overlap pass of
    # reading_order; outputs: Great Expectations)
    validate.Validator.validate = timed(validate.Validator.validate)
    suite_sql.validate = timed(suite_sql.validate)
    reading_order.check = timed(reading_order.check)
    if checks.engine() == "great_expectations":  # its import and context are start-up, not validation
        _ = checks._great_expectations()._gx
    settings = Settings.make(work / "home", work / "data")
    stages = {"startup": time.perf_counter() - t}
    t = time.perf_counter()
    ctx = pipeline.begin(settings, "kz-baseline")
    stages["begin"], t = time.perf_counter() - t, time.perf_counter()
    v0 = spent["validate"]
    pipeline.ingest(ctx)
    stages["load"], t = time.perf_counter() - t, time.perf_counter()
    stages["validate_inputs"] = spent["validate"] - v0
    v1 = spent["validate"]
    pipeline.estimate(ctx)
    stages["model_tax"], t = time.perf_counter() - t, time.perf_counter()
    stages["validate_outputs"] = spent["validate"] - v1
    path = pipeline.publish(ctx)
    stages["publish"] = time.perf_counter() - t
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    total = con.execute("SELECT sum(tax_kzt) FROM estimates WHERE scheme_id = 'kz-mining-fee'").fetchall()[0][0]
    periods = con.execute("SELECT periods FROM runs WHERE run_id = ?", [ctx.run_id]).fetchall()[0][0]
    con.close()
    return {"total": total, "stages": stages, "periods": periods}


FLOOR_SQL = """
WITH r AS (SELECT * FROM read_parquet($readings)),
q AS (
    SELECT farm_id, CAST(date_trunc('quarter', ts_start) AS DATE) AS quarter, sum(kwh) AS kwh,
           round(sum(kwh * price_kzt_per_kwh) / sum(kwh), 2) AS price
    FROM r GROUP BY ALL
),
f AS (SELECT * FROM read_csv($farms)),
x AS (SELECT q.*, f.connection, f.energy_source, f.metered FROM q JOIN f USING (farm_id)),
rules AS (SELECT * FROM rules_in),
o AS (
    SELECT x.farm_id, x.quarter, max(u.rate) AS rate FROM x JOIN rules u
      ON u.kind = 'override' AND x.quarter >= u.valid_from AND (u.valid_to IS NULL OR x.quarter < u.valid_to)
     AND (u.when_connection IS NULL OR list_contains(u.when_connection, x.connection))
     AND (u.when_energy_source IS NULL OR list_contains(u.when_energy_source, x.energy_source))
     AND (u.when_metered IS NULL OR u.when_metered = x.metered)
    GROUP BY ALL
),
b AS (
    SELECT x.farm_id, x.quarter, u.rate FROM x JOIN rules u
      ON u.kind = 'bracket' AND x.quarter >= u.valid_from AND (u.valid_to IS NULL OR x.quarter < u.valid_to)
     AND (u.price_lo IS NULL OR x.price > u.price_lo OR (u.price_lo_inclusive AND x.price = u.price_lo))
     AND (u.price_hi IS NULL OR x.price < u.price_hi OR (u.price_hi_inclusive AND x.price = u.price_hi))
)
SELECT sum(x.kwh * coalesce(o.rate, b.rate, 0)) FROM x LEFT JOIN o USING (farm_id, quarter)
LEFT JOIN b USING (farm_id, quarter)
"""


def step_floor(work: Path) -> dict:
    import duckdb

    cols = {"kind": "VARCHAR", "valid_from": "DATE", "valid_to": "DATE", "when_connection": "VARCHAR[]",
            "when_energy_source": "VARCHAR[]", "when_metered": "BOOLEAN", "price_lo": "DOUBLE",
            "price_lo_inclusive": "BOOLEAN", "price_hi": "DOUBLE", "price_hi_inclusive": "BOOLEAN", "rate": "DOUBLE"}
    con = duckdb.connect()  # no pandas: the floor is DuckDB alone
    con.execute(f"CREATE TABLE rules_in ({', '.join(f'{c} {t}' for c, t in cols.items())})").fetchall()
    con.executemany(f"INSERT INTO rules_in VALUES ({', '.join('?' for _ in cols)})",
                    [[u.get(c) for c in cols] for u in fee_rules()])
    total = con.execute(FLOOR_SQL, {"readings": str(work / "data" / "sample" / "energy_readings.parquet"),
                                    "farms": str(work / "data" / "sample" / "farms.csv")}).fetchall()[0][0]
    return {"total": total}


def step_pandas(work: Path) -> dict:
    import pandas as pd

    r = pd.read_parquet(work / "data" / "sample" / "energy_readings.parquet")
    r["cost"] = r.kwh * r.price_kzt_per_kwh
    r["quarter"] = r.ts_start.dt.to_period("Q").dt.start_time.dt.date
    q = r.groupby(["farm_id", "quarter"], as_index=False)[["kwh", "cost"]].sum()
    q["price"] = (q.cost / q.kwh).round(2)
    farms = pd.read_csv(work / "data" / "sample" / "farms.csv")
    q = q.merge(farms, on="farm_id")
    rules = fee_rules()

    def rate(row):
        live = [u for u in rules if u["valid_from"] <= row.quarter and (u["valid_to"] is None
                                                                          or row.quarter < u["valid_to"])]
        over = [u["rate"] for u in live if u["kind"] == "override"
                and (u["when_connection"] is None or row.connection in u["when_connection"])
                and (u["when_energy_source"] is None or row.energy_source in u["when_energy_source"])
                and (u["when_metered"] is None or u["when_metered"] == bool(row.metered))]
        if over:
            return max(over)
        for u in live:
            if u["kind"] != "bracket":
                continue
            lo, hi, p = u["price_lo"], u["price_hi"], row.price
            if (lo is None or p > lo or (u["price_lo_inclusive"] and p == lo)) and \
                    (hi is None or p < hi or (u["price_hi_inclusive"] and p == hi)):
                return u["rate"]
        return 0.0

    q["rate"] = q.apply(rate, axis=1)
    return {"total": float((q.kwh * q.rate).sum())}


def step_cli(work: Path) -> dict:
    """`minetax run` as a user runs it (Prefect's temporary API, PREFECT_HOME from the environment), on home
    work/home-cli: fresh when BENCH_FRESH=1, else the warehouse a run left (with a new month in its inbox)."""
    home = work / "home-cli"
    if os.environ.get("BENCH_FRESH") == "1":
        shutil.rmtree(home, ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.Popen([MINETAX, "run", "--home", str(home), "--data-dir", str(work / "data")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status:
        raise SystemExit(err)
    import duckdb

    con = duckdb.connect(str(home / "published" / "minetax.duckdb"), read_only=True)
    total, periods = con.execute("SELECT (SELECT sum(tax_kzt) FROM estimates WHERE scheme_id = 'kz-mining-fee'), "
                                 "(SELECT periods FROM runs ORDER BY started_at DESC LIMIT 1)").fetchall()[0]
    con.close()
    return {"total": total, "periods": periods, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


STEPS = {"pipeline": step_pipeline, "incremental": step_pipeline, "floor": step_floor, "pandas": step_pandas,
         "cli": step_cli}


def nominal(size: str) -> float:
    """'1M' → 1e6, '500K' → 5e5."""
    return float(size[:-1]) * {"K": 1e3, "M": 1e6}[size[-1].upper()]


def generate(farms: int, start: str, end: str, out: Path) -> float:
    """Generate a sample with `minetax generate-sample` (15-min readings); return the seconds it took."""
    t = time.perf_counter()
    subprocess.run([MINETAX, "generate-sample", "--farms", str(farms), "--start", start, "--end", end, "--interval",
                    "15min", "--out", str(out)], check=True, capture_output=True)
    return time.perf_counter() - t


def readings(sample: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(sample / "energy_readings.parquet").metadata.num_rows


def data_dir(work: Path) -> Path:
    """A fresh work folder with the reference data copied into work/data/reference."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "data").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "reference", work / "data" / "reference")
    return work / "data"


def inbox(work: Path, home: str) -> Path:
    sys.path.insert(0, str(ROOT / "src"))
    from minetax.config import Settings

    return Settings.make(work / home, work / "data").inbox_dir


def measure(size: str, work: Path, tiny: Path, pandas_max: float, prefect: dict) -> dict:
    farms = SIZES[size]
    data = data_dir(work)
    gen = generate(farms, START, END, data / "sample")
    res = {}
    shutil.rmtree(tiny / "home", ignore_errors=True)
    res["fixed"] = child("pipeline", tiny)
    res["cli_fixed"] = child("cli", tiny, BENCH_FRESH="1", **prefect)
    res["cli"] = child("cli", work, BENCH_FRESH="1", **prefect)
    res["pipeline"] = child("pipeline", work)
    month_gen = generate(farms, MONTH, MONTH, work / "month")  # same farms: same count, same seed
    for home in ("home", "home-cli"):
        drop = inbox(work, home)
        drop.mkdir(parents=True, exist_ok=True)
        for name in ("energy_readings", "farm_hashrate"):
            shutil.copy(work / "month" / f"{name}.parquet", drop / f"{name}-{MONTH}.parquet")
    res["cli_incremental"] = child("cli", work, **prefect)
    res["incremental"] = child("incremental", work)
    res["floor"] = child("floor", work)
    res["pandas"] = child("pandas", work) if nominal(size) <= pandas_max else None
    tot = [res[s]["total"] for s in ("cli", "pipeline", "floor", "pandas") if res[s]]
    agree = max(tot) - min(tot) <= 1e-6 * max(abs(x) for x in tot)
    print(size, {k: (round(v["wall_s"], 1), round(v["peak_rss_mb"])) for k, v in res.items() if v}, "agree", agree,
          flush=True)
    return {"size": size, "n": readings(data / "sample"), "gen": gen, "month_n": readings(work / "month"),
            "month_gen": month_gen, "res": res, "agree": agree}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1M,10M", help=f"comma-separated, of {', '.join(SIZES)}")
    ap.add_argument("--pandas-max", default="10M", help="largest size pandas (c) is run at (memory)")
    ap.add_argument("--work", default="/tmp/minetax-bench")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    ap.add_argument("--step")
    a = ap.parse_args()
    if a.step:
        print(json.dumps(STEPS[a.step](Path(a.work)), default=str))
        return
    sizes = a.sizes.split(",")
    if unknown := [s for s in sizes if s not in SIZES]:
        ap.error(f"unknown size {', '.join(unknown)} (one of {', '.join(SIZES)})")
    tiny = Path(a.work) / "tiny"  # 2 farms × 1 day: the fixed cost
    generate(2, "2023-01-01", "2023-01-01", data_dir(tiny) / "sample")
    # Prefect's state for every `minetax run` of the benchmark: created once by a first run (its database
    # migrations are a one-time cost of a new installation, reported apart), then shared, as on a user's machine
    prefect = {"PREFECT_HOME": str(Path(a.work) / "prefect-home")}
    shutil.rmtree(prefect["PREFECT_HOME"], ignore_errors=True)
    first = child("cli", tiny, BENCH_FRESH="1", **prefect)
    rows = [measure(s, Path(a.work) / s, tiny, nominal(a.pandas_max), prefect) for s in sizes]
    write(rows, Path(a.out), a.pandas_max, first)


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def write(rows: list[dict], out: Path, pandas_max: str, first: dict) -> None:
    lines = [f"\n## Run of {dt.datetime.now():%Y-%m-%d %H:%M} (commit {commit()}) — {platform.machine()}, "
             f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
             f"Python {platform.python_version()}\n",
             f"Readings: farms × 15 min, {START}..{END}. (a) is `minetax run` through Prefect's temporary API, with "
             "Prefect's database already created (the first run of a new installation creates it: "
             f"{first['wall_s']:.1f} s on 2 farms × 1 day, once). Fixed: `minetax run` on 2 farms × 1 day. New month: "
             f"{MONTH} dropped into the inbox of the warehouse (a) left, then `minetax run` again. Validation: the "
             "time in the suites and the key/overlap pass, measured in the in-process run. Targets at 100M: "
             "a ≤ 2b + 10 s, peak RSS ≤ 4 GB, validation ≤ 25% of a, new month ≤ 10% of a; c/a ≥ 10 at 10M. "
             f"pandas is skipped above {pandas_max}. Peak RSS is the largest process (the run; Prefect's API server "
             "beside it is not added).\n",
             "| readings | generate s | (a) `minetax run` s | (a) peak MB | fixed s | (b) s | (b) peak MB | (c) s "
             "| (c) peak MB | a/b | target 2b+10 s | a ≤ 2b+10 | RSS ≤ 4 GB | validation s | validation / a | ≤ 25% "
             "| new month s | new month / a | ≤ 10% | c/a | totals agree |",
             "|" + "---|" * 21]
    for w in rows:
        r = w["res"]
        a, b, c, inc, pipe = r["cli"], r["floor"], r["pandas"], r["cli_incremental"], r["pipeline"]
        target = 2 * b["wall_s"] + 10
        v = pipe["stages"]["validate_inputs"] + pipe["stages"]["validate_outputs"]
        share, inc_share = v / a["wall_s"], inc["wall_s"] / a["wall_s"]
        cs = f"{c['wall_s']:.1f} | {c['peak_rss_mb']:.0f}" if c else "skipped (memory) | skipped (memory)"
        ca = f"{c['wall_s'] / a['wall_s']:.2f}" if c else "—"
        lines.append(
            f"| {w['n']:,} ({w['size']}) | {w['gen']:.1f} | {a['wall_s']:.1f} | {a['peak_rss_mb']:.0f} | "
            f"{r['cli_fixed']['wall_s']:.1f} | {b['wall_s']:.1f} | {b['peak_rss_mb']:.0f} | {cs} | "
            f"{a['wall_s'] / b['wall_s']:.1f} | {target:.1f} | {yes(a['wall_s'] <= target)} | "
            f"{yes(a['peak_rss_mb'] <= RSS_LIMIT_MB)} | {v:.1f} | {share:.0%} | {yes(share <= 0.25)} | "
            f"{inc['wall_s']:.1f} | {inc_share:.0%} | {yes(inc_share <= 0.10)} | {ca} | {yes(w['agree'])} |")
    lines += ["", "The same runs without Prefect: the pipeline in one process (`minetax.pipeline`), split by stage, "
              "seconds. Process = the step's wall time; startup = the imports; validation is the time in the "
              "expectation suites and, for readings, the key and overlap pass, inside load and model+tax; the rest "
              "(process − stages) is the interpreter's start and reading the total back. Orchestration = `minetax "
              "run` − this process.", "",
              "| readings | run | process | peak MB | startup | begin | load (incl. input validation) | input "
              "validation | model+tax (incl. output validation) | output validation | publish | rest | `minetax run` "
              "s | orchestration s | periods computed |",
              "|" + "---|" * 15]
    for w in rows:
        for key, cli, label in (("fixed", "cli_fixed", "fixed (2 farms × 1 day)"), ("pipeline", "cli", "full"),
                                ("incremental", "cli_incremental",
                                 f"new month (+{w['month_n']:,} readings of {MONTH}, generated in "
                                 f"{w['month_gen']:.1f} s)")):
            r, c = w["res"][key], w["res"][cli]
            s = r["stages"]
            rest = r["wall_s"] - sum(v for k, v in s.items() if not k.startswith("validate_"))
            lines.append(f"| {w['n']:,} ({w['size']}) | {label} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | "
                         f"{s['startup']:.1f} | {s['begin']:.1f} | {s['load']:.1f} | {s['validate_inputs']:.1f} | "
                         f"{s['model_tax']:.1f} | {s['validate_outputs']:.1f} | {s['publish']:.1f} | {rest:.1f} | "
                         f"{c['wall_s']:.1f} | {c['wall_s'] - r['wall_s']:.1f} | {r['periods']} |")
    lines += ["", "Growth: seconds, and × the previous size. (a) − fixed is the part of `minetax run` that grows with "
              "the data.", "",
              "| readings | × readings | (a) s | × | (a) − fixed s | × | in process s | × | (b) s | × | (c) s | × |",
              "|" + "---|" * 12]
    prev = None
    for w in rows:
        r = w["res"]
        now = {"n": w["n"], "a": r["cli"]["wall_s"], "a-fixed": r["cli"]["wall_s"] - r["cli_fixed"]["wall_s"],
               "p": r["pipeline"]["wall_s"], "b": r["floor"]["wall_s"],
               "c": r["pandas"]["wall_s"] if r["pandas"] else None}

        def cell(k, now=now, prev=prev):
            if now[k] is None:
                return "skipped | —" if k == "c" else "— | —"
            x = f"{now[k] / prev[k]:.1f}" if prev and prev[k] and prev[k] > 0 else "—"
            return f"{now[k]:.1f} | {x}"

        ratio = f"{w['n'] / prev['n']:.1f}" if prev else "—"
        lines.append(f"| {w['n']:,} ({w['size']}) | {ratio} | {cell('a')} | {cell('a-fixed')} | {cell('p')} | "
                     f"{cell('b')} | {cell('c')} |")
        prev = now
    text = out.read_text() if out.exists() else ""
    out.write_text(text + "\n".join(lines) + "\n")


def commit() -> str:
    r = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return r.stdout.strip() or "unknown"

if __name__ == "__main__":
    main()
