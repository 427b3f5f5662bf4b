"""The long history for the forecast's backtest: daily network (2016-01-01 .. 2025-12-31), monthly world fleet
efficiency (2016-01 ..) and USD/KZT (2016 ..), derived from the shared reference data (../shared/reference-data,
each folder's PROVENANCE.txt: sources, licences) the same way scripts/derive_reference.py derives the embedded
files (its functions, with earlier start dates and the 2016 halving added), written as CSV files into a folder.

Nothing is copied into the repository: point --out at a home's drop folder (<home>/inbox) and `minetax run
--home <home>` validates and merges them into the warehouse, where the forecast reads its history:

    uv run python bench/forecast_history.py --out /tmp/longhome/inbox
    uv run minetax run --home /tmp/longhome
    uv run minetax forecast backtest --home /tmp/longhome

The embedded data (data/reference/, scripts/derive_reference.py) now start 2016-01 too, so the embedded run already
has this history; this script stays for a home whose data folder lacks it (e.g. a data folder from before the
change, or --data-dir pointing elsewhere). Every origin 2018-2024 has at least 36 months before it.
Same licence caveats as data/reference/ATTRIBUTION.md (Coin Metrics CC BY-NC 4.0; Glassnode fees and CBECI
efficiency without a licence: validation use).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START = date(2016, 1, 1)


def _derive_module():  # noqa: ANN202 (a module loaded from a path)
    spec = importlib.util.spec_from_file_location("derive_reference", ROOT / "scripts" / "derive_reference.py")
    if spec is None or spec.loader is None:
        raise SystemExit("scripts/derive_reference.py not found")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    # earlier starts; the 2016 halving (block 420,000 on 2016-07-09: 25 -> 12.5 BTC), a protocol fact
    mod.NETWORK_START, mod.EFFICIENCY_START, mod.FX_FIRST_YEAR = START, START, START.year
    mod.INITIAL_SUBSIDY_BTC = 25.0
    mod.HALVINGS = ((date(2016, 7, 9), 12.5), *mod.HALVINGS)
    return mod


def write(ref: Path, out: Path) -> list[Path]:
    mod = _derive_module()
    out.mkdir(parents=True, exist_ok=True)
    network, missing = mod.derive_network_daily(ref)
    frames = {"network_daily.csv": network, "fleet_efficiency.csv": mod.derive_fleet_efficiency(ref),
              "fx.csv": mod.derive_fx(ref)}
    paths = []
    for name, df in frames.items():
        p = out / name
        p.write_bytes(mod._to_csv_bytes(df))
        paths.append(p)
    print(f"network_daily: {len(network)} days {network['date'].iloc[0]} .. {network['date'].iloc[-1]}"
          f" ({len(missing)} days absent upstream)")
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref-dir", type=Path, default=ROOT.parent / "shared" / "reference-data")
    ap.add_argument("--out", type=Path, required=True, help="folder to write into (e.g. <home>/inbox)")
    a = ap.parse_args(argv)
    for p in write(a.ref_dir, a.out):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
