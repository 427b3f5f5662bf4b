"""Protocol facts: block subsidy by height, halvings, and the chain's height and block rate from the daily data.

Halvings are computed from block heights and the observed block rate, not typed in (POLICY.md, "Estimation
constants": block subsidy).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from minetax.forecast.assumptions import ForecastError

HALVING_INTERVAL = 210_000  # blocks between subsidy halvings (Bitcoin consensus rule)
INITIAL_SUBSIDY_BTC = 50.0  # subsidy of the first era
# Known (height, date) anchors: block 630,000 on 2020-05-11 and block 840,000 on 2024-04-20 (POLICY.md), and block
# 420,000 on 2016-07-09 (the second halving; a protocol fact, for histories loaded from 2016). The forecast uses the
# latest anchor on or before the data cut-off and counts blocks from the daily data after it.
HEIGHT_ANCHORS: tuple[tuple[int, dt.date], ...] = (
    (420_000, dt.date(2016, 7, 9)),
    (630_000, dt.date(2020, 5, 11)),
    (840_000, dt.date(2024, 4, 20)),
)


def subsidy_at(height: int) -> float:
    """Block subsidy (BTC) of the block at `height`: 50 / 2**(height // 210,000)."""
    era = int(height) // HALVING_INTERVAL
    return INITIAL_SUBSIDY_BTC / 2 ** era if era < 64 else 0.0


def cumulative_subsidy(height: float) -> float:
    """BTC issued by blocks [0, height) (fractional heights interpolate within an era)."""
    total, h, era = 0.0, float(height), 0
    while h > 0 and era < 64:
        n = min(h, HALVING_INTERVAL)
        total += n * INITIAL_SUBSIDY_BTC / 2 ** era
        h -= n
        era += 1
    return total

@dataclass(frozen=True)
class Chain:
    last_day: dt.date  # last day of data
    height: float  # block height at the end of last_day
    blocks_per_day: float  # observed rate: mean blocks/day over the last 365 days of data
    anchor: tuple[int, dt.date]

    def height_at(self, day: dt.date) -> float:
        """Expected height at the end of `day` (extrapolated at the observed rate)."""
        return self.height + self.blocks_per_day * (day - self.last_day).days

    def date_of(self, height: int) -> dt.date:
        return self.last_day + dt.timedelta(days=round((height - self.height) / self.blocks_per_day))

    def next_halvings(self, n: int = 2) -> list[tuple[int, dt.date]]:
        first = (int(self.height) // HALVING_INTERVAL + 1) * HALVING_INTERVAL
        return [(h, self.date_of(h)) for h in range(first, first + n * HALVING_INTERVAL, HALVING_INTERVAL)]

    def issuance_btc(self, year: int) -> float:
        """Subsidy issued by the blocks mined in calendar `year` (split at any halving inside it)."""
        h0 = self.height_at(dt.date(year - 1, 12, 31))
        h1 = self.height_at(dt.date(year, 12, 31))
        return cumulative_subsidy(h1) - cumulative_subsidy(h0)


def chain_state(net: pd.DataFrame) -> Chain:
    last = net["date"].iloc[-1].date()
    anchors = [a for a in HEIGHT_ANCHORS if a[1] <= last and pd.Timestamp(a[1]) >= net["date"].iloc[0]]
    if not anchors:
        raise ForecastError(f"no block-height anchor inside the data (anchors: {HEIGHT_ANCHORS})")
    h_anchor, d_anchor = anchors[-1]
    height = h_anchor + float(net.loc[net["date"] > pd.Timestamp(d_anchor), "blocks"].sum())
    recent = net[net["date"] > pd.Timestamp(last) - pd.Timedelta(days=365)]
    return Chain(last, height, float(recent["blocks"].mean()), (h_anchor, d_anchor))
