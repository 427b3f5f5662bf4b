"""The `generate-sample` command: a deterministic synthetic set of Kazakh mining farms, streamed to Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from minetax.cli.common import console


def generate_sample(
        out: Annotated[Path, typer.Option(help="folder for farms.csv, energy_readings.parquet, farm_hashrate.parquet")],
        farms: Annotated[int, typer.Option(help="number of farms (the first 14 are the seed's templates)")] = 14,
        start: Annotated[str, typer.Option(help="first month YYYY-MM or day YYYY-MM-DD")] = "2021-01",
        end: Annotated[str, typer.Option(help="last month YYYY-MM or day YYYY-MM-DD (inclusive)")] = "2024-12",
        interval: Annotated[str, typer.Option(help="15min | 30min | 1h | 1d")] = "1h",
        seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 20260101) -> None:
    """Generate a deterministic synthetic sample of Kazakh mining farms (streamed to Parquet)."""
    from rich.progress import Progress

    from minetax.sources.sample import generate

    with Progress(console=console, transient=True) as p:
        task = p.add_task("generating farms", total=farms)
        counts = generate(out, farms, start, end, interval, seed, progress=lambda n: p.advance(task))
    console.print(f"wrote {counts['farms']} farms, {counts['readings']:,} readings, "
                  f"{counts['hashrate_days']:,} hashrate days to {out}")


def register(app: typer.Typer) -> None:
    app.command("generate-sample")(generate_sample)
