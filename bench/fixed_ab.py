"""The fixed cost of `minetax run` (2 farms × 1 day) of two code trees side by side: runs interleaved one by one, so
a shared machine's load falls on both alike. Wall time and CPU (the command and its children: the temporary API).

  git worktree add --detach /tmp/before <commit>
  uv run python bench/fixed_ab.py --before /tmp/before --repeat 3 --modes temp,server [--server-url URL]

`temp`: Prefect's temporary API; `server`: the Prefect server at --server-url (or one started here on a free port
and stopped at the end). Prefect's database is created by a first run of each tree, not counted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import procs
import samples

ROOT = Path(__file__).resolve().parents[1]


def run(tree: Path, work: Path, env: dict[str, str]) -> tuple[float, float]:
    home = work / f"home-{tree.name}"
    shutil.rmtree(home, ignore_errors=True)
    env = {**env, "PYTHONPATH": f"{tree / 'src'}:{tree}"}
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "minetax.cli", "run", "--home", str(home), "--data-dir",
                        str(work / "tiny" / "data")], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise SystemExit(f"{tree}: minetax run failed:\n{p.stderr[-3000:]}")
    return wall, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="the other code tree (a worktree of the commit to compare)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", default="temp,server")
    ap.add_argument("--server-url", help="a running Prefect server's API URL (default: start one)")
    ap.add_argument("--work", default="/tmp/minetax-fixed-ab")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "tiny" / "data" / "sample" / "farms.csv").exists():
        samples.tiny(work / "tiny")
    trees = {"before": Path(a.before).resolve(), "after": ROOT}
    base = procs.env({"PREFECT_HOME": str(work / "prefect-home")})
    svc = None
    if "server" in a.modes.split(",") and not a.server_url:
        svc, a.server_url = procs.prefect_server(work)
    res: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        for mode in a.modes.split(","):
            env = {**base, "PREFECT_API_URL": a.server_url} if mode == "server" else base
            for tree in trees.values():
                run(tree, work, env)  # Prefect's database, the flow's first record: not counted
            for i in range(a.repeat):
                for name in (("before", "after") if i % 2 == 0 else ("after", "before")):
                    res.setdefault((mode, name), []).append(run(trees[name], work, env))
    finally:
        if svc is not None:
            svc.stop()
    print(f"load average {os.getloadavg()[0]:.1f}")
    for (mode, name), runs in res.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{mode:6} {name:6} median {statistics.median(walls):.2f} s  runs {', '.join(f'{w:.2f}' for w in walls)}"
              f"  CPU median {statistics.median(cpus):.2f} s")


if __name__ == "__main__":
    main()
