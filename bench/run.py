"""Benchmark: minetax run vs the raw-DuckDB floor vs a pandas baseline, on the same generated readings.

    uv run python bench/run.py --sizes 1M,10M [--out BENCHMARKS.md]

For each size it generates farms × 15-min readings for 2023 (deterministic, streamed to Parquet), then, each in a
fresh process so peak memory is its own, measures wall time and peak RSS of:
  (a) the minetax pipeline end to end on that data (load, validate, model, tax, publish; no Prefect), with the
      split by stage, and `minetax run` through Prefect once;
  (b) the floor: one hand-written DuckDB query computing the same per-farm, per-quarter Kazakhstan fee straight
      from the Parquet files (rates taken from schemes/kz-mining-fee.yaml, not typed in);
  (c) pandas: what an analyst writes (read_parquet, groupby, merge, the same rules);
and checks that the three totals agree. Results are appended as a markdown table.
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
SIZES = {"1M": 29, "10M": 286, "100M": 2855}  # farms × 35,040 readings (15-min, 2023) ≈ the size


def child(step: str, work: Path) -> dict:
    """Run one step in a fresh process; return its JSON result with wall time and peak RSS (MB)."""
    t0 = time.perf_counter()
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    p = subprocess.Popen([sys.executable, __file__, "--step", step, "--work", str(work)], stdout=subprocess.PIPE,
                         text=True, env=env)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0:
        raise SystemExit(f"step {step} failed:\n{out}")
    res = json.loads(out.strip().splitlines()[-1])
    res.update(wall_s=time.perf_counter() - t0, peak_rss_mb=usage.ru_maxrss / 1024)
    return res


def fee_rules():
    sys.path.insert(0, str(ROOT / "src"))
    from minetax.schemes import load_scheme

    return load_scheme("kz-mining-fee").rate_rules()


def step_pipeline(work: Path) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from minetax import pipeline, validate
    from minetax.config import Settings

    spent = {"validate": 0.0}
    real = validate.Validator.validate

    def timed(self, *a, **k):
        t = time.perf_counter()
        try:
            return real(self, *a, **k)
        finally:
            spent["validate"] += time.perf_counter() - t

    validate.Validator.validate = timed
    _ = pipeline._validator._gx  # the Great Expectations import and context are start-up, not validation
    settings = Settings.make(work / "home", work / "data")
    stages, t = {}, time.perf_counter()
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
    con.close()
    return {"total": total, "stages": stages}


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
    import pandas as pd

    rules = pd.DataFrame(fee_rules())
    con = duckdb.connect()
    con.register("rules_df", rules)
    con.execute("CREATE TABLE rules_in AS SELECT * FROM rules_df")
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
    home = work / "home-cli"
    shutil.rmtree(home, ignore_errors=True)
    r = subprocess.run([str(Path(sys.executable).parent / "minetax"), "run", "--home", str(home), "--data-dir",
                        str(work / "data")], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    return {"total": None}


STEPS = {"pipeline": step_pipeline, "floor": step_floor, "pandas": step_pandas, "cli": step_cli}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1M,10M")
    ap.add_argument("--work", default="/tmp/minetax-bench")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    ap.add_argument("--step")
    a = ap.parse_args()
    if a.step:
        print(json.dumps(STEPS[a.step](Path(a.work)), default=str))
        return
    rows = []
    for size in a.sizes.split(","):
        work = Path(a.work) / size
        shutil.rmtree(work, ignore_errors=True)
        (work / "data").mkdir(parents=True)
        shutil.copytree(ROOT / "data" / "reference", work / "data" / "reference")
        t = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "minetax"), "generate-sample", "--farms",
                        str(SIZES[size]), "--start", "2023-01", "--end", "2023-12", "--interval", "15min",
                        "--out", str(work / "data" / "sample")], check=True, capture_output=True)
        gen = time.perf_counter() - t
        import duckdb

        readings = work / "data" / "sample" / "energy_readings.parquet"
        n = duckdb.sql(f"SELECT count(*) FROM '{readings}'").fetchall()[0][0]
        res = {s: child(s, work) for s in ("pipeline", "floor", "pandas", "cli")}
        tot = [res[s]["total"] for s in ("pipeline", "floor", "pandas")]
        agree = max(tot) - min(tot) <= 1e-6 * max(abs(x) for x in tot)
        rows.append((size, n, gen, res, agree))
        print(size, n, {k: (round(v["wall_s"], 1), round(v["peak_rss_mb"])) for k, v in res.items()}, "agree", agree)
    write(rows, Path(a.out))


def write(rows, out: Path) -> None:
    lines = [f"\n## Run of {dt.datetime.now():%Y-%m-%d %H:%M} — {platform.machine()}, {os.cpu_count()} cores, "
             f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, Python "
             f"{platform.python_version()}\n",
             "| readings | generate s | (a) pipeline s | (a) peak MB | `minetax run` s | (b) floor s | (b) peak MB "
             "| (c) pandas s | (c) peak MB | a/b | c/a | totals agree |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for size, n, gen, r, agree in rows:
        a, b, c = (r[s] for s in ("pipeline", "floor", "pandas"))
        lines.append(f"| {n:,} ({size}) | {gen:.1f} | {a['wall_s']:.1f} | {a['peak_rss_mb']:.0f} | "
                     f"{r['cli']['wall_s']:.1f} | {b['wall_s']:.1f} | {b['peak_rss_mb']:.0f} | {c['wall_s']:.1f} | "
                     f"{c['peak_rss_mb']:.0f} | {a['wall_s'] / b['wall_s']:.1f} | {c['wall_s'] / a['wall_s']:.2f} | "
                     f"{'yes' if agree else 'NO'} |")
    lines += ["", "Split of (a) by stage, seconds (validation is Great Expectations time, inside load and model/tax):",
              "", "| readings | begin | load (incl. input validation) | input validation | model+tax (incl. output "
              "validation) | output validation | publish |", "|---|---|---|---|---|---|---|"]
    for size, n, _, r, _ in rows:
        s = r["pipeline"]["stages"]
        lines.append(f"| {n:,} ({size}) | {s['begin']:.1f} | {s['load']:.1f} | {s['validate_inputs']:.1f} | "
                     f"{s['model_tax']:.1f} | {s['validate_outputs']:.1f} | {s['publish']:.1f} |")
    text = out.read_text() if out.exists() else ""
    out.write_text(text + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
