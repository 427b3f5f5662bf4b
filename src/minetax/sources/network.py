"""Network data from an HTTP metrics API (Coin Metrics community API v4 shape), with timeouts and retries.

GET {base}/timeseries/asset-metrics?assets=btc&metrics=HashRate,IssTotNtv,FeeTotNtv,PriceUSD&frequency=1d
&start_time=YYYY-MM-DD&end_time=YYYY-MM-DD&page_size=N answers {"data": [{"asset": "btc", "time": "…Z",
"HashRate": "…", …}], "next_page_url": "…"}. HashRate is TH/s, IssTotNtv the new coins (BTC), FeeTotNtv the
fees (BTC), PriceUSD the reference price. The rows become a network_daily file in the drop folder, which the
next run validates and loads like any other input.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from minetax.errors import MinetaxError

DEFAULT_URL = "https://community-api.coinmetrics.io/v4"
METRICS = {"HashRate": "hashrate_ths", "IssTotNtv": "subsidy_btc", "FeeTotNtv": "fees_btc", "PriceUSD": "price_usd"}
RETRY_STATUS = {429, 500, 502, 503, 504}


class SourceError(MinetaxError):
    """A source could not be read after its retries."""


KEY_VAR = "MINETAX_METRICS_API_KEY"


def api_key(home: Path | None = None) -> str | None:
    """The metrics API key: from the environment (MINETAX_METRICS_API_KEY), else from MINETAX_HOME/secrets.env
    (KEY=VALUE lines; keep the file out of git). None when neither has one (the community API needs none)."""
    if os.environ.get(KEY_VAR):
        return os.environ[KEY_VAR]
    path = home / "secrets.env" if home else None
    if path and path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.strip().partition("=")
            if sep and name.strip() == KEY_VAR:
                return value.strip().strip("'\"")
    return None


def redact(text: str) -> str:
    """Hide credentials in anything that may be printed or logged."""
    return re.sub(r"(api_key=)[^&\s]+", r"\1***", text)


def get_json(url: str, timeout: float = 10.0, retries: int = 3, backoff: float = 0.5) -> dict:
    """GET a JSON document; retry timeouts, connection errors, 429 and 5xx with exponential backoff."""
    last = None
    for attempt in range(retries + 1):
        try:
            req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "minetax"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            if e.code not in RETRY_STATUS:
                raise SourceError(redact(f"{url}: HTTP {e.code} {e.reason} (not retried)")) from None
            last = f"HTTP {e.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            last = str(getattr(e, "reason", e))
        except json.JSONDecodeError as e:
            raise SourceError(redact(f"{url}: answer is not JSON: {e}")) from None
        if attempt < retries:
            time.sleep(backoff * 2 ** attempt)
    raise SourceError(redact(f"{url}: failed after {retries + 1} attempts (last: {last})"))


def fetch_network(base_url: str, start: dt.date, end: dt.date, page_size: int = 1000, key: str | None = None,
                  **http: Any) -> list[dict[str, Any]]:
    """Daily network rows in [start, end] in the network_daily format, following next_page_url; refused unless
    they are exactly the days asked for (see check_dates)."""
    if start > end:
        raise SourceError(f"the first day {start} is after the last day {end}")
    params = {"assets": "btc", "metrics": ",".join(METRICS), "frequency": "1d", "start_time": start.isoformat(),
              "end_time": end.isoformat(), "page_size": page_size}
    if key:
        params["api_key"] = key
    query = urllib.parse.urlencode(params)
    url: str | None = f"{base_url.rstrip('/')}/timeseries/asset-metrics?{query}"
    rows: list[dict[str, Any]] = []
    while url:
        page = get_json(url, **http)
        if not isinstance(page.get("data"), list):
            raise SourceError(redact(f"{url}: no 'data' list in the answer"))
        for item in page["data"]:
            missing = [m for m in METRICS if item.get(m) in (None, "")]
            if missing:
                raise SourceError(redact(f"{url}: {item.get('time')}: missing {', '.join(missing)}"))
            rows.append({"date": str(item["time"])[:10], **{col: item[m] for m, col in METRICS.items()},
                         "fees_source": "coinmetrics api"})
        url = page.get("next_page_url")
    check_dates(rows, start, end, base_url)
    return rows


def check_dates(rows: list[dict[str, Any]], start: dt.date, end: dt.date, source: str) -> None:
    """Refuse an answer whose days are not exactly the days asked for: each day from start to end once."""
    seen: dict[dt.date, int] = {}
    for r in rows:
        try:
            day = dt.date.fromisoformat(r["date"])
        except ValueError:
            raise SourceError(redact(f"{source}: {r['date']!r} is not a day (YYYY-MM-DD)")) from None
        seen[day] = seen.get(day, 0) + 1
    asked = {start + dt.timedelta(days=i) for i in range((end - start).days + 1)}
    problems = [f"{what} {_days(days)}" for what, days in (
        ("missing", sorted(asked - seen.keys())), ("outside the request", sorted(seen.keys() - asked)),
        ("more than once", sorted(d for d, n in seen.items() if n > 1))) if days]
    if problems:
        raise SourceError(redact(f"{source}: the days received differ from the days asked for ({start}..{end}): "
                                 + "; ".join(problems) + ". Nothing was written; ask for days the source has, "
                                 "or try again later"))


def _days(days: list[dt.date], most: int = 8) -> str:
    """Sorted days as consecutive ranges, e.g. `2025-01-05..2025-01-09, 2025-01-12 (6 days)`; at most `most`
    ranges are named."""
    spans: list[list[dt.date]] = []
    for d in days:
        if spans and d - spans[-1][1] == dt.timedelta(days=1):
            spans[-1][1] = d
        else:
            spans.append([d, d])
    named = [f"{a}" if a == b else f"{a}..{b}" for a, b in spans[:most]]
    more = f" and {len(spans) - most} more ranges" if len(spans) > most else ""
    return f"{', '.join(named)}{more} ({len(days)} day{'s' if len(days) != 1 else ''})"


def write_network_file(rows: list[dict], folder: Path, start: dt.date, end: dt.date) -> Path:
    """Write rows as network_daily-<start>_<end>.csv (written aside, then renamed: a run never sees half)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"network_daily-{start:%Y%m%d}_{end:%Y%m%d}.csv"
    tmp = folder / f".{path.name}.tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, ["date", "hashrate_ths", "difficulty", "blocks", "subsidy_btc", "fees_btc",
                               "fees_source", "price_usd"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)
    return path
