"""Derive the small public reference figures shipped in ``data/reference/``.

The raw public data sets live READ-ONLY in ``../shared/reference-data`` (beside the repo) and are
never copied into the repository. This script reads them and writes small derived tables with
attribution (see the generated ``ATTRIBUTION.md``):

    network_daily.csv     day: hashrate, difficulty, blocks, subsidy, fees, price
    fx.csv                USD/KZT by month (World Bank annual average)
    country_share.csv     Kazakhstan share of global hashrate by month (CBECI mining map)
    fleet_efficiency.csv  CBECI efficiency bounds, monthly means (J/TH)
    ATTRIBUTION.md        sources, licence status, formulas, input checksums

Run from the repo root:

    uv run python scripts/derive_reference.py [--ref-dir DIR] [--out DIR]

The output is deterministic: rerunning on the same inputs gives the same bytes.
Only pandas and the standard library are used.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REF_DIR = ROOT.parent / "shared" / "reference-data"
DEFAULT_OUT = ROOT / "data" / "reference"

REGENERATE = "uv run python scripts/derive_reference.py"

# --- estimation constants (see /work/shared/POLICY.md "Estimation constants") -------------------
NETWORK_START = date(2016, 1, 1)  # the forecast estimates its network model from 2016 on (issue 18)
NETWORK_END = date(2025, 12, 31)  # hashrate source runs to 2026-02-12; we stop at year end 2025
INITIAL_SUBSIDY_BTC = 25.0
# (first UTC day wholly at the new subsidy, subsidy in BTC). Protocol fact: block 420,000 was
# mined on 2016-07-09, block 630,000 on 2020-05-11 and block 840,000 on 2024-04-20; the halving
# day is treated wholly at the new subsidy (a simplification: the real halving day mixes both).
HALVINGS = ((date(2016, 7, 9), 12.5), (date(2020, 5, 11), 6.25), (date(2024, 4, 20), 3.125))
# Fees' share of miner revenue, ~6 % (2024 average, status "reported" in POLICY.md).
# fees = share * (subsidy + fees)  =>  fees = subsidy * share / (1 - share)
FEE_SHARE_OF_REVENUE = 0.06
HASHES_PER_DIFFICULTY_1 = 2**32

FX_FIRST_YEAR, FX_LAST_YEAR = 2016, 2025
EFFICIENCY_START = date(2016, 1, 1)

FLOAT_FORMAT = "%.10g"  # ~10 significant digits for every float column ...
DIFFICULTY_FORMAT = "%.16g"  # ... except difficulty (~1e14): keep it exact

# --- input files, relative to the reference-data folder ------------------------------------------
HASHRATE = "btc_hashrate_difficulty_daily/hashrate.csv"
DIFFICULTY = "btc_hashrate_difficulty_daily/difficulty.csv"
PRICE = "btc_price_daily/btc_price_volume.csv"
# (fees_source label, file, date column, value column); the pieces must not overlap
FEE_PIECES = (
    ("glassnode", "btc_fees_daily/glassnode_btc_total_fees_2016-01_2022-09.csv", "t", "total_fees"),
    (
        "blockchain.com",
        "btc_fees_daily/blockchaincom_transaction_fees_btc_2024-02_2025-02.csv",
        "date",
        "transaction_fees_btc",
    ),
    ("coinmetrics", "btc_fees_daily/coinmetrics_fees_btc_2025-11_2026-02.csv", "date", "fees_btc"),
)
FEES_ESTIMATED = "estimated"
WORLD_BANK_FX = "kzt_exchange_rate/worldbank_PA.NUS.FCRF_central_asia_1990-2024.csv"
MINING_MAP = "cbeci_mining_map_countries/cbeci_mining_countries_2019-09_2022-01.csv"
EFFICIENCY = "cbeci_network_efficiency_daily/cbeci_efficiency_j_per_th.csv"

OUTPUT_FILES = (
    "network_daily.csv",
    "fx.csv",
    "country_share.csv",
    "fleet_efficiency.csv",
    "ATTRIBUTION.md",
)

NETWORK_COLUMNS = [
    "date",
    "hashrate_ths",
    "difficulty",
    "blocks",
    "subsidy_btc",
    "fees_btc",
    "fees_source",
    "price_usd",
]
COUNTRY_SHARE_SOURCE = "CCAF CBECI mining map"
EFFICIENCY_SOURCE = "CCAF CBECI mining equipment efficiency (monthly mean of daily values)"


# --- helpers -------------------------------------------------------------------------------------
def _read_daily(path: Path, date_col: str, value_col: str, encoding: str = "utf-8") -> pd.Series:
    """Read a daily CSV into a float Series indexed by ISO date string; reject duplicate days."""
    df = pd.read_csv(path, usecols=[date_col, value_col], encoding=encoding, dtype={date_col: str})
    days = pd.to_datetime(df[date_col].str.strip(), format="%Y-%m-%d").dt.strftime("%Y-%m-%d")
    s = pd.Series(df[value_col].astype(float).to_numpy(), index=days.to_numpy(), name=value_col)
    dup = s.index[s.index.duplicated()]
    if len(dup):
        raise ValueError(f"{path}: duplicate days {sorted(set(dup))[:5]}")
    return s.sort_index()


def subsidy_per_block(day: str) -> float:
    d = date.fromisoformat(day)
    subsidy = INITIAL_SUBSIDY_BTC
    for start, value in HALVINGS:
        if d >= start:
            subsidy = value
    return subsidy


def _to_csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format=FLOAT_FORMAT, lineterminator="\n", date_format="%Y-%m-%d")
    return buf.getvalue().encode("utf-8")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- derivations ---------------------------------------------------------------------------------
def derive_network_daily(ref: Path) -> tuple[pd.DataFrame, list[str]]:
    """Return the daily network table and the list of in-range days missing from the hashrate file."""
    start, end = NETWORK_START.isoformat(), NETWORK_END.isoformat()
    hashrate = _read_daily(ref / HASHRATE, "date", "hashrate")
    difficulty = _read_daily(ref / DIFFICULTY, "date", "difficulty")
    price = _read_daily(ref / PRICE, "date", "price")

    hashrate = hashrate[(hashrate.index >= start) & (hashrate.index <= end)]
    all_days = pd.date_range(start, end, freq="D").strftime("%Y-%m-%d")
    missing_days = sorted(set(all_days) - set(hashrate.index))

    df = pd.DataFrame({"date": hashrate.index, "hashrate_ths": hashrate.to_numpy()})
    df["difficulty"] = difficulty.reindex(df["date"]).to_numpy()
    df["price_usd"] = price.reindex(df["date"]).to_numpy()
    for col in ("hashrate_ths", "difficulty", "price_usd"):
        bad = df.loc[~(df[col] > 0), "date"].tolist()  # catches NaN (missing) and zero/negative
        if bad:
            raise ValueError(f"{col}: missing or non-positive on {len(bad)} days, e.g. {bad[:5]}")

    # blocks found that day = hashes done / hashes per block; not rounded
    df["blocks"] = df["hashrate_ths"] * 1e12 * 86400 / (df["difficulty"] * HASHES_PER_DIFFICULTY_1)
    df["subsidy_btc"] = df["blocks"] * df["date"].map(subsidy_per_block)

    fees = pd.Series(float("nan"), index=df["date"].to_numpy())
    source = pd.Series(FEES_ESTIMATED, index=df["date"].to_numpy(), dtype=object)
    covered: set[str] = set()
    for label, rel, date_col, value_col in FEE_PIECES:
        piece = _read_daily(ref / rel, date_col, value_col)
        overlap = covered & set(piece.index)
        if overlap:
            raise ValueError(f"fee pieces overlap on {sorted(overlap)[:5]}")
        covered |= set(piece.index)
        if (piece <= 0).any() or piece.isna().any():
            raise ValueError(f"{rel}: missing or non-positive fee values")
        hit = piece.index.intersection(fees.index)
        fees[hit] = piece[hit]
        source[hit] = label
    gap = (source == FEES_ESTIMATED).to_numpy()
    subsidy = df["subsidy_btc"].to_numpy()
    fees_values = fees.to_numpy(copy=True)
    fees_values[gap] = subsidy[gap] * FEE_SHARE_OF_REVENUE / (1 - FEE_SHARE_OF_REVENUE)
    df["fees_btc"] = fees_values
    df["fees_source"] = source.to_numpy()

    df = df[NETWORK_COLUMNS].sort_values("date", kind="mergesort").reset_index(drop=True)
    df["difficulty"] = df["difficulty"].map(lambda x: DIFFICULTY_FORMAT % x)
    return df, missing_days


def derive_fx(ref: Path) -> pd.DataFrame:
    wb = pd.read_csv(ref / WORLD_BANK_FX)
    kaz = wb[(wb["economy"] == "KAZ") & wb["lcu_per_usd"].notna()]
    annual = dict(zip(kaz["year"].astype(int), kaz["lcu_per_usd"].astype(float), strict=True))
    rows = []
    for year in range(FX_FIRST_YEAR, FX_LAST_YEAR + 1):
        if year in annual:
            rate, source = annual[year], f"World Bank PA.NUS.FCRF annual average {year}"
        else:
            last = max(y for y in annual if y < year)
            rate = annual[last]
            source = f"World Bank PA.NUS.FCRF {last} carried forward (assumption)"
        for month in range(1, 13):
            rows.append(("USD/KZT", f"{year:04d}-{month:02d}-01", rate, source))
    df = pd.DataFrame(rows, columns=["pair", "date", "rate", "source"])
    return df.sort_values(["pair", "date"], kind="mergesort").reset_index(drop=True)


def _percent_to_fraction(text: str) -> float:
    # Decimal keeps "18.1%" -> 0.181 exactly (float 18.1/100 would be 0.18100000000000002)
    return float(Decimal(text.strip().rstrip("%")) / 100)


def derive_country_share(ref: Path) -> pd.DataFrame:
    cm = pd.read_csv(ref / MINING_MAP, dtype=str)
    kz = cm[cm["country"].str.strip() == "Kazakhstan"]
    df = pd.DataFrame(
        {
            "country": "Kazakhstan",
            "month": pd.to_datetime(kz["date"].str.strip(), format="%Y-%m-%d").dt.strftime("%Y-%m-01"),
            "share": kz["monthly_hashrate_%"].map(_percent_to_fraction),
            "source": COUNTRY_SHARE_SOURCE,
        }
    )
    if df["month"].duplicated().any():
        raise ValueError("mining map: duplicate Kazakhstan months")
    return df.sort_values(["country", "month"], kind="mergesort").reset_index(drop=True)


def derive_fleet_efficiency(ref: Path) -> pd.DataFrame:
    eff = pd.read_csv(ref / EFFICIENCY)
    eff.columns = ["date", "lower_j_per_th", "estimated_j_per_th", "upper_j_per_th"]
    eff["date"] = pd.to_datetime(eff["date"], format="%Y-%m-%d")
    eff = eff[eff["date"] >= pd.Timestamp(EFFICIENCY_START)]
    values = ["lower_j_per_th", "estimated_j_per_th", "upper_j_per_th"]
    if eff[values].isna().any().any() or (eff[values] <= 0).any().any():
        raise ValueError("efficiency: missing or non-positive values")
    month = eff["date"].dt.strftime("%Y-%m-01")
    df = eff.groupby(month, sort=True)[values].mean().reset_index(names="date")
    df["source"] = EFFICIENCY_SOURCE
    return df.sort_values("date", kind="mergesort").reset_index(drop=True)


# --- attribution ---------------------------------------------------------------------------------
def _span(series: pd.Series) -> str:
    return f"{series.min()} .. {series.max()}"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


NO_LICENCE_CCAF = "NO LICENCE in repo; CCAF terms of use not checked -> confirm with CCAF before shipping"
CM_NC = "repo MIT; upstream Coin Metrics CC BY-NC 4.0 (attribution, NON-COMMERCIAL)"
LICENCE_ROWS = [
    (
        "network_daily.csv: hashrate_ths, difficulty, blocks, subsidy_btc",
        "Coin Metrics community data via lukmol/gamlss-btc-VaR",
        CM_NC,
    ),
    (
        "network_daily.csv: price_usd",
        "lukmol/gamlss-btc-VaR (values look like Yahoo Finance BTC-USD close)",
        "repo MIT; third-party market data, cite it",
    ),
    (
        "network_daily.csv: fees_btc `glassnode`",
        "Glassnode API via cedav12/Impact-of-total-transaction-fees-on-the-price-of-Bitcoin-and-Ethereum",
        "NO LICENCE; Glassnode terms restrict redistribution",
    ),
    (
        "network_daily.csv: fees_btc `blockchain.com`",
        "blockchain.com charts API via Krisp140/TargetedNakomoto",
        "NO LICENCE",
    ),
    (
        "network_daily.csv: fees_btc `coinmetrics`",
        "Coin Metrics community data via lukmol/gamlss-btc-VaR",
        CM_NC,
    ),
    (
        "fx.csv",
        "World Bank WDI PA.NUS.FCRF via LEE-CHENYU/OpenCausality",
        "World Bank data CC BY 4.0; repo MIT",
    ),
    (
        "country_share.csv",
        "CCAF CBECI mining map export via Mccalabrese/Bitcoin-Hashrate-simulations-MonteCarlo",
        NO_LICENCE_CCAF,
    ),
    (
        "fleet_efficiency.csv",
        "CCAF CBECI mining equipment efficiency via Krisp140/TargetedNakomoto",
        NO_LICENCE_CCAF,
    ),
]


def _network_columns_rows() -> list[tuple[str, str, str]]:
    share = FEE_SHARE_OF_REVENUE
    return [
        ("date", "UTC day", ""),
        (
            "hashrate_ths",
            "TH/s",
            "`btc_hashrate_difficulty_daily/hashrate.csv` (already TH/s; Coin Metrics HashRate)",
        ),
        (
            "difficulty",
            "1",
            "`btc_hashrate_difficulty_daily/difficulty.csv` (mean difficulty of the day's blocks)",
        ),
        (
            "blocks",
            "blocks/day",
            "`hashrate_ths * 1e12 * 86400 / (difficulty * 2**32)`, not rounded (within 1e-11 of whole "
            "numbers: the upstream hashrate is itself blocks x difficulty)",
        ),
        (
            "subsidy_btc",
            "BTC/day",
            "`blocks * subsidy per block`: 25 before 2016-07-09, 12.5 from 2016-07-09, 6.25 from "
            "2020-05-11, 3.125 from 2024-04-20 (protocol fact, POLICY.md). The halving day is treated "
            "wholly at the new subsidy: exact for 2024-04-20 (the block-subsidy reference has all 130 "
            "blocks of that day at 3.125) but 800 BTC low on 2020-05-11 (the reference has 128 of the "
            "day's 157 blocks still at 12.5 BTC), so May 2020 is 2.2 % low, and 1,200 BTC low on "
            "2016-07-09 (96 of the day's 149 blocks still at 25 BTC), so July 2016 is 1.4 % low. Before "
            "2019-09 the blocks derived from hashrate and difficulty differ from the reference's monthly "
            "subsidy by up to 1.8 % in a month (2017-11; 2016-2018 the upstream hashrate is an estimate "
            "whose days do not add up to the blocks found); from 2019-09 on by at most 0.03 % outside the "
            "halving months. `btc_block_subsidy_daily` (no licence) is NOT "
            "used here, only to validate in the tests",
        ),
        (
            "fees_btc",
            "BTC/day",
            "total transaction fees of the day from `btc_fees_daily` (values unchanged); on gap days "
            f"`subsidy_btc * {share} / (1 - {share})`, i.e. fees = 6 % of miner revenue (POLICY.md: "
            "fees' share of miner revenue ~ 6 %, 2024 average, status reported)",
        ),
        (
            "fees_source",
            "",
            "`glassnode` (file 2016-01-01 .. 2022-09-01), `blockchain.com` (2024-02-06 .. 2025-02-02), "
            "`coinmetrics` (2025-11-05 .. 2026-02-12), `estimated` (gap days)",
        ),
        ("price_usd", "USD/BTC", "`btc_price_daily/btc_price_volume.csv` column `price` (daily close)"),
    ]


def _fee_share_rows(network: pd.DataFrame) -> list[tuple[str, ...]]:
    year = network["date"].str[:4]
    grouped = network.groupby([year, network["fees_source"]], sort=True)[["fees_btc", "subsidy_btc"]].sum()
    days = network.groupby([year, network["fees_source"]], sort=True).size()
    rows = []
    for (yr, src), r in grouped.iterrows():
        share = r["fees_btc"] / (r["fees_btc"] + r["subsidy_btc"])
        rows.append((yr, src, str(int(days[(yr, src)])), f"{r['fees_btc']:.1f}", f"{share:.2%}"))
    return rows


def render_attribution(
    ref: Path,
    network: pd.DataFrame,
    missing_days: list[str],
    fx: pd.DataFrame,
    share: pd.DataFrame,
    eff: pd.DataFrame,
) -> str:
    counts = network["fees_source"].value_counts()
    fee_rows = [
        (label, str(int(counts[label])), _span(network.loc[network["fees_source"] == label, "date"]))
        for label in [p[0] for p in FEE_PIECES] + [FEES_ESTIMATED]
        if counts.get(label, 0)
    ]
    missing = ", ".join(missing_days) if missing_days else "none"
    last_eff_day = pd.read_csv(ref / EFFICIENCY, usecols=[0]).iloc[:, 0].max()
    inputs = [HASHRATE, DIFFICULTY, PRICE] + [p[1] for p in FEE_PIECES]
    inputs += [WORLD_BANK_FX, MINING_MAP, EFFICIENCY]
    checksums = [(f"`{rel}`", f"`{_sha256(ref / rel)}`") for rel in inputs]
    net_dates, fx_dates = network["date"], fx["date"]

    return f"""# Reference figures: sources and attribution

The files in this folder are small figures DERIVED from public data sets kept outside the
repository, in `../shared/reference-data/<folder>` (each folder has a PROVENANCE.txt with the
upstream repository, commit, licence, columns and units). No upstream file is copied here.

Regenerate everything (deterministic: same inputs give the same bytes):

```
{REGENERATE}
```

(options: `--ref-dir` reference-data folder, default `../shared/reference-data`; `--out` output
folder, default `data/reference`). `tests/test_reference_data.py` checks these committed files
against the reference data and that a rerun reproduces them byte for byte.

Floats are written with 10 significant digits (difficulty with 16, i.e. exactly). Dates are ISO
`YYYY-MM-DD`; monthly rows carry the first day of the month.

## Licence status at a glance (from PROVENANCE.txt; verify before any redistribution)

{_table(("derived file / column", "upstream", "licence status"), LICENCE_ROWS)}

**Plain note on the unlicensed inputs.** The Glassnode and blockchain.com fee files, the CBECI
mining map and the CBECI efficiency series carry no licence (PROVENANCE.txt marks them
"validation only"). Shipping figures derived from them with attribution (for the fees: the
daily values themselves) is what the project owner asked for; it is not a licence grant. If
that decision is reversed, drop those files/columns, or mark those fee days `estimated`.
The Coin Metrics-derived columns carry a NON-COMMERCIAL (CC BY-NC 4.0) condition upstream.

## network_daily.csv

One row per UTC day {NETWORK_START} .. {NETWORK_END} on which the hashrate file has a value:
{len(network)} rows, {_span(net_dates)}. Days absent from the upstream hashrate/difficulty
files are absent here too (not filled): {missing}.

{_table(("column", "unit", "source folder / derivation"), _network_columns_rows())}

Days per fees_source:

{_table(("fees_source", "days", "dates"), fee_rows)}

Caveat: the 6 % fee share is a 2024 average. Fees' share of miner revenue by year and source in
this file (the `estimated` rows are 6 % by construction):

{_table(("year", "fees_source", "days", "fees_btc", "share of revenue"), _fee_share_rows(network))}

## fx.csv

USD/KZT (`rate` = KZT per 1 USD), one row per month start {fx_dates.min()} .. {fx_dates.max()}
({len(fx)} rows). Source folder `kzt_exchange_rate`, file
`worldbank_PA.NUS.FCRF_central_asia_1990-2024.csv`: World Bank WDI indicator PA.NUS.FCRF
"Official exchange rate (LCU per US$, period average)", economy KAZ, CC BY 4.0. Every month of a
year gets that year's ANNUAL AVERAGE (no intra-year movement). 2025 is not in the file: the 2024
value is carried forward and labelled "(assumption)" in `source`. The investing.com monthly
file (no licence) is used only in the tests.

## country_share.csv

Kazakhstan's share of global Bitcoin hashrate, monthly, {_span(share["month"])} ({len(share)} rows).
Source folder `cbeci_mining_map_countries` (Cambridge Centre for Alternative Finance, Cambridge
Bitcoin Electricity Consumption Index, mining map export). `share` = `monthly_hashrate_%` / 100
(e.g. "18.1%" -> 0.181). The upstream series ends 2022-01; nothing is extrapolated here.

## fleet_efficiency.csv

CBECI network mining-equipment efficiency bounds (J/TH), monthly means of the daily values,
{_span(eff["date"])} ({len(eff)} rows). Source folder `cbeci_network_efficiency_daily`
(Cambridge Centre for Alternative Finance, CBECI "mining equipment efficiency"). Columns:
`lower_j_per_th` (best hardware still profitable), `estimated_j_per_th` (CBECI best guess),
`upper_j_per_th` (worst profitable hardware); each = arithmetic mean over the days of the
month. The upstream series ends {last_eff_day}, so the last month is a partial-month mean.

## Input checksums (sha256 of the files read, relative to the reference-data folder)

{_table(("file", "sha256"), checksums)}
"""


# --- main ----------------------------------------------------------------------------------------
def build(ref: Path) -> tuple[dict[str, bytes], dict]:
    network, missing_days = derive_network_daily(ref)
    fx = derive_fx(ref)
    share = derive_country_share(ref)
    eff = derive_fleet_efficiency(ref)
    outputs = {
        "network_daily.csv": _to_csv_bytes(network),
        "fx.csv": _to_csv_bytes(fx),
        "country_share.csv": _to_csv_bytes(share),
        "fleet_efficiency.csv": _to_csv_bytes(eff),
        "ATTRIBUTION.md": render_attribution(ref, network, missing_days, fx, share, eff).encode("utf-8"),
    }
    info = {
        "network_daily.csv": (len(network), _span(network["date"])),
        "fx.csv": (len(fx), _span(fx["date"])),
        "country_share.csv": (len(share), _span(share["month"])),
        "fleet_efficiency.csv": (len(eff), _span(eff["date"])),
        "missing_days": missing_days,
        "fees_source": network["fees_source"].value_counts().sort_index().to_dict(),
    }
    return outputs, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref-dir", type=Path, default=DEFAULT_REF_DIR, help="reference-data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    ref = args.ref_dir.resolve()
    if not ref.is_dir():
        parser.error(f"reference data folder not found: {ref}")

    outputs, info = build(ref)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUT_FILES:
        (args.out / name).write_bytes(outputs[name])

    print(f"reference data: {ref}")
    print(f"wrote to:       {args.out.resolve()}")
    for name in OUTPUT_FILES:
        size = len(outputs[name])
        if name in info:
            rows, span = info[name]
            print(f"  {name:<22} {rows:>5} rows  {span:<26} {size:>8} B")
        else:
            print(f"  {name:<22} {'':>5}       {'':<26} {size:>8} B")
    print(f"  fees_source days: {info['fees_source']}")
    if info["missing_days"]:
        print(f"  days missing upstream (no row written): {', '.join(info['missing_days'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
