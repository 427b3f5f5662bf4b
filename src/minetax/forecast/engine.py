"""Forecast engine: tax revenue from Kazakhstan's mining fleet in future budget years, with probability bands.

Assumptions live in schemes/forecasts/<forecast_id>.yaml (each value with `source:` or `reason:`); the tax law comes
from the tax scenario the file names (minetax.tax.schemes.load_scenario), evaluated year by year with the precedence of
sql/tax/estimates_month.sql (exemption -> highest matching override -> price bracket). Protocol facts (halvings) are computed
from block heights and the observed block rate, not typed in.

A seeded Monte Carlo draws BTC price paths (geometric Brownian motion on daily log returns fitted to the price history)
and network hashrate growth (annual log growth ~ Normal). The standard normals are drawn in a fixed order and shape
whatever the models, so two forecasts run with the same seed see the same market (common random numbers): a compare
is reform minus baseline per draw.

Pure numpy/pandas (no Prefect, no database). Integrators call:
    simulate(forecast_id, to_year, runs, seed, cutoff=None)   -> long DataFrame (draw, year, scheme_id, tax_kzt)
    summarise(df)                                             -> forecast_by_year rows
    budget_windows(df)                                        -> forecast_budget_window rows
    compare(reform_id, baseline_id, to_year, runs, seed)      -> long DataFrame of reform − baseline per draw
    backtest(year)                                            -> dict (forecast vs the model's estimate from actuals)
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from minetax.config import DEFAULT_DATA_DIR, SCENARIOS_DIR, SCHEMES_DIR
from minetax.errors import SchemeError
from minetax.tax.policy_yaml import read_policy
from minetax.tax.schemes import Scheme, load_scenario

FORECASTS_DIR = SCHEMES_DIR / "forecasts"
ALL_SCHEMES = "all schemes"

# ---- protocol facts (POLICY.md, "Estimation constants": block subsidy) ------------------------------------------
HALVING_INTERVAL = 210_000  # blocks between subsidy halvings (Bitcoin consensus rule)
INITIAL_SUBSIDY_BTC = 50.0  # subsidy of the first era
# Known (height, date) anchors: block 630,000 on 2020-05-11 and block 840,000 on 2024-04-20 (POLICY.md). The
# forecast uses the latest anchor on or before the data cut-off and counts blocks from the daily data after it.
HEIGHT_ANCHORS: tuple[tuple[int, dt.date], ...] = (
    (630_000, dt.date(2020, 5, 11)),
    (840_000, dt.date(2024, 4, 20)),
)
HOURS_PER_YEAR = 8760.0


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


# ---- forecast files ---------------------------------------------------------------------------------------------

class ForecastError(SchemeError):
    """A forecast file or request that cannot be used."""


def _val(node, where: str = ""):
    """A documented value ({value, source|reason}) or a bare value."""
    if isinstance(node, dict) and "value" in node:
        return node["value"]
    return node


def _year_map(node, where: str) -> dict[int, float]:
    """{year: value or {value, source|reason}} -> {int year: float}."""
    if not isinstance(node, dict) or not node:
        raise ForecastError(f"forecast refused: {where}: need {{year: value}}")
    out = {}
    for k, v in node.items():
        try:
            y = int(k)
        except (TypeError, ValueError) as e:
            raise ForecastError(f"forecast refused: {where}: {k!r} is not a year") from e
        out[y] = float(_val(v))
    return dict(sorted(out.items()))


def _undocumented(node, path: str = "") -> list[str]:
    """Paths of {value: ...} entries without a source or reason."""
    bad = []
    if isinstance(node, dict):
        if "value" in node and not (node.get("source") or node.get("reason")):
            bad.append(path or "(top)")
        for k, v in node.items():
            if k != "value":
                bad += _undocumented(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            bad += _undocumented(v, f"{path}[{i}]")
    return bad


@dataclass(frozen=True)
class Forecast:
    forecast_id: str
    title: str
    scenario_id: str
    doc: dict
    file: Path
    schemes: list[Scheme] = field(default_factory=list)


def _merge(a: dict, b: dict) -> dict:
    """b over a, recursively for mappings (a documented value {value, source} and a path are replaced whole)."""
    out = copy.deepcopy(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and "value" not in v and k != "path":
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_forecast(forecast_id: str, forecasts_dir: Path = FORECASTS_DIR, scenarios_dir: Path = SCENARIOS_DIR,
                  schemes_dir: Path = SCHEMES_DIR, _seen: tuple = ()) -> Forecast:
    file = Path(forecasts_dir) / f"{forecast_id}.yaml"
    if not file.exists():
        known = sorted(p.stem for p in Path(forecasts_dir).glob("*.yaml"))
        raise ForecastError(f"unknown forecast {forecast_id!r} (known: {', '.join(known)})")
    doc, _ = read_policy(file, "forecast", ForecastError)
    if not isinstance(doc, dict) or doc.get("forecast_id") != forecast_id:
        raise ForecastError(f"forecast refused: {file.name}: needs forecast_id {forecast_id!r}")
    if doc.get("base"):  # a forecast may inherit another's assumptions and change some (deep merge)
        if doc["base"] in _seen or doc["base"] == forecast_id:
            raise ForecastError(f"forecast refused: {file.name}: base forecasts form a loop")
        base = load_forecast(doc["base"], forecasts_dir, scenarios_dir, schemes_dir, (*_seen, forecast_id))
        doc = _merge(base.doc, {k: v for k, v in doc.items() if k != "base"})
    for key in ("scenario", "fleet", "network", "price", "fx"):
        if key not in doc:
            raise ForecastError(f"forecast refused: {file.name}: missing section {key!r}")
    bad = _undocumented(doc)
    if bad:
        raise ForecastError(f"forecast refused: {file.name}: values without source or reason: {', '.join(bad)}")
    scenario = load_scenario(str(_val(doc["scenario"])), Path(scenarios_dir), Path(schemes_dir))
    return Forecast(forecast_id, doc.get("title", forecast_id), scenario.scenario_id, doc, file,
                    list(scenario.schemes))


def list_forecasts(forecasts_dir: Path = FORECASTS_DIR) -> list[str]:
    return sorted(p.stem for p in Path(forecasts_dir).glob("*.yaml"))


# ---- data -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Data:
    network: pd.DataFrame  # daily: date, hashrate_ths, blocks, subsidy_btc, fees_btc, price_usd
    fx: pd.DataFrame  # monthly USD/KZT: date, rate
    efficiency: pd.DataFrame  # monthly: date, estimated_j_per_th


def load_data(data_dir: Path = DEFAULT_DATA_DIR, cutoff: dt.date | str | None = None) -> Data:
    """The reference inputs, each cut at `cutoff` (inclusive) when given."""
    ref = Path(data_dir) / "reference"
    net = pd.read_csv(ref / "network_daily.csv", parse_dates=["date"])
    fx = pd.read_csv(ref / "fx.csv", parse_dates=["date"])
    fx = fx[fx["pair"] == "USD/KZT"]
    eff = pd.read_csv(ref / "fleet_efficiency.csv", parse_dates=["date"])
    if cutoff is not None:
        c = pd.Timestamp(cutoff)
        net, fx, eff = net[net["date"] <= c], fx[fx["date"] <= c], eff[eff["date"] <= c]
    if net.empty:
        raise ForecastError(f"no network data up to the cut-off {cutoff}")
    return Data(net.sort_values("date").reset_index(drop=True), fx.sort_values("date").reset_index(drop=True),
                eff.sort_values("date").reset_index(drop=True))


# ---- protocol: heights and halvings -----------------------------------------------------------------------------

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


# ---- tax rules --------------------------------------------------------------------------------------------------

DEFAULT_ATTRIBUTES = {"connection": "grid", "energy_source": "coal", "metered": True, "licensed": True}


def _matches(rule: dict, attrs: dict, capacity_mw: float) -> bool:
    if rule["when_connection"] is not None and attrs["connection"] not in rule["when_connection"]:
        return False
    if rule["when_energy_source"] is not None and attrs["energy_source"] not in rule["when_energy_source"]:
        return False
    if rule["when_metered"] is not None and rule["when_metered"] != attrs["metered"]:
        return False
    if rule["when_licensed"] is not None and rule["when_licensed"] != attrs["licensed"]:
        return False
    if rule["when_capacity_mw_below"] is not None and not capacity_mw < rule["when_capacity_mw_below"]:
        return False
    return True


def _in_bracket(rule: dict, price: float) -> bool:
    lo, hi = rule["price_lo"], rule["price_hi"]
    if lo is not None and not (price > lo or (rule["price_lo_inclusive"] and price == lo)):
        return False
    if hi is not None and not (price < hi or (rule["price_hi_inclusive"] and price == hi)):
        return False
    return True


def rate_in_force(scheme: Scheme, year: int, price_kzt_per_kwh: float, attrs: dict | None = None,
                  capacity_mw: float = 0.0) -> tuple[float, str]:
    """The scheme's rate on 1 January of `year` for the fleet, with the precedence of sql/tax/estimates_month.sql:
    exemption -> highest matching override -> the bracket of the (rounded) electricity price. (0, 'not in force')
    when no value applies on that day."""
    attrs = {**DEFAULT_ATTRIBUTES, **(attrs or {})}
    day = dt.date(year, 1, 1)
    rules = [r for r in scheme.rate_rules()
             if r["valid_from"] <= day and (r["valid_to"] is None or day < r["valid_to"])]
    if not any(r["kind"] == "bracket" for r in rules):
        return 0.0, "not in force"
    matched = [r for r in rules if r["kind"] in ("override", "exemption") and _matches(r, attrs, capacity_mw)]
    exempt = sorted(r["name"] for r in matched if r["kind"] == "exemption")
    if exempt:
        return 0.0, f"exempt: {exempt[0]}"
    overrides = [r for r in matched if r["kind"] == "override"]
    if overrides:
        o = max(overrides, key=lambda r: r["rate"])
        return float(o["rate"]), f"override: {o['name']}"
    p = round(float(price_kzt_per_kwh), scheme.price_decimals)
    for r in rules:
        if r["kind"] == "bracket" and _in_bracket(r, p):
            return float(r["rate"]), f"bracket: {r['name']}"
    return 0.0, "no bracket"


# ---- assumptions -> deterministic fleet paths -------------------------------------------------------------------

def _series(node, years: list[int], where: str, last_known: float | None = None) -> np.ndarray:
    """A value per year from {value} (constant) or {path: {year: value}} (carried forward, back-filled)."""
    if isinstance(node, dict) and "path" in node:
        path = _year_map(node["path"], where)
        out = []
        for y in years:
            known = [v for k, v in path.items() if k <= y]
            out.append(known[-1] if known else next(iter(path.values())))
        return np.array(out, dtype=float)
    v = _val(node)
    if v is None:
        if last_known is None:
            raise ForecastError(f"forecast refused: {where}: needs a value or a path")
        v = last_known
    return np.full(len(years), float(v))


def capacity_path(fc: Forecast, years: list[int]) -> np.ndarray:
    """Installed MW by year: the given path where it has the year, else the previous year + investment / capex."""
    cap = fc.doc["fleet"]["capacity_mw"]
    path = _year_map(cap["path"], "fleet.capacity_mw.path")
    invest = _year_map(cap["investment_kzt"], "fleet.capacity_mw.investment_kzt") if cap.get("investment_kzt") else {}
    capex = float(_val(cap.get("capex_kzt_per_mw", 0)) or 0)
    if invest and capex <= 0:
        raise ForecastError("forecast refused: fleet.capacity_mw: investment needs capex_kzt_per_mw > 0")
    first = min(path)
    mw: dict[int, float] = {}
    for y in range(first, max(max(years), first) + 1):
        if y in path:
            mw[y] = path[y]
        else:
            mw[y] = mw[y - 1] + (invest.get(y, 0.0) / capex if invest else 0.0)
    return np.array([mw.get(y, path[first]) for y in years], dtype=float)


def efficiency_path(fc: Forecast, years: list[int]) -> np.ndarray:
    """Fleet J/TH by year: base value in its year, improving by `improvement` (share) a year."""
    e = fc.doc["fleet"]["efficiency_j_per_th"]
    base, base_year = float(_val(e["base"])), int(_val(e["base_year"]))
    imp = float(_val(e["improvement_per_year"]))
    return np.array([base * (1 - imp) ** (y - base_year) for y in years], dtype=float)


@dataclass
class FleetPaths:
    years: list[int]
    capacity_mw: np.ndarray
    utilisation: np.ndarray
    j_per_th: np.ndarray
    pue: np.ndarray
    elec_price: np.ndarray  # KZT/kWh
    fx: np.ndarray  # KZT per USD
    fees_share: np.ndarray  # fees as a share of subsidy issuance

    @property
    def energy_kwh(self) -> np.ndarray:
        return self.capacity_mw * 1000 * HOURS_PER_YEAR * self.utilisation

    @property
    def hashrate_ths(self) -> np.ndarray:
        return self.capacity_mw * 1e6 * self.utilisation / (self.j_per_th * self.pue)


def fleet_paths(fc: Forecast, data: Data, years: list[int]) -> FleetPaths:
    f, d = fc.doc["fleet"], fc.doc
    last_fx = float(data.fx["rate"].iloc[-1]) if not data.fx.empty else None
    fx_node = d["fx"]
    if isinstance(fx_node, dict) and _val(fx_node.get("model", "last")) == "last":
        change = float(_val(fx_node.get("annual_change", 0.0)) or 0.0)
        if last_fx is None:
            raise ForecastError("no USD/KZT data up to the cut-off")
        last_year = data.fx["date"].iloc[-1].year
        fx = np.array([last_fx * (1 + change) ** max(0, y - last_year) for y in years])
    else:
        fx = _series(fx_node, years, "fx")
    return FleetPaths(years, capacity_path(fc, years), _series(f["utilisation"], years, "fleet.utilisation"),
                      efficiency_path(fc, years), _series(f["pue"], years, "fleet.pue"),
                      _series(f["electricity_price_kzt_per_kwh"], years, "fleet.electricity_price_kzt_per_kwh"),
                      fx, _series(d["network"]["fees_share_of_issuance"], years, "network.fees_share_of_issuance"))


# ---- market draws -----------------------------------------------------------------------------------------------

@dataclass
class Market:
    years: list[int]
    price_usd: np.ndarray  # runs × years: annual mean BTC price
    hashrate_ths: np.ndarray  # runs × years: annual (mid-year) network hashrate
    fit: dict


def _standard_normals(seed: int, runs: int, n_days: int, n_years: int) -> tuple[np.ndarray, np.ndarray]:
    """The common random numbers: same seed and shape -> the same draws, whatever the models."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((runs, n_days)), rng.standard_normal((runs, n_years))


def fit_price(net: pd.DataFrame, years_back: float) -> tuple[float, float]:
    """Mean and sd of daily log returns of price_usd over the last `years_back` years of data."""
    last = net["date"].iloc[-1]
    p = net.loc[net["date"] > last - pd.Timedelta(days=round(365.25 * years_back)), "price_usd"].to_numpy(float)
    r = np.diff(np.log(p))
    return float(r.mean()), float(r.std(ddof=1))


def fit_hashrate(net: pd.DataFrame, years_back: float) -> tuple[float, float]:
    """Mean and sd of annual log growth of the 30-day mean hashrate (year-on-year, daily, last `years_back` years)."""
    s = net.set_index("date")["hashrate_ths"].rolling(30).mean()
    g = np.log(s / s.shift(365)).dropna()
    g = g[g.index > g.index[-1] - pd.Timedelta(days=round(365.25 * years_back))]
    return float(g.mean()), float(g.std(ddof=1))


def draw_market(fc: Forecast, data: Data, years: list[int], runs: int, seed: int) -> Market:
    net = data.network
    last = net["date"].iloc[-1]
    days = pd.date_range(last + pd.Timedelta(days=1), pd.Timestamp(years[-1], 12, 31), freq="D")
    z_price, z_hash = _standard_normals(seed, runs, len(days), len(years))
    fit: dict = {}

    # price
    pr = fc.doc["price"]
    model = _val(pr.get("model", "gbm"))
    last_price = float(net["price_usd"].iloc[-1])
    day_year = days.year.to_numpy()
    if model == "gbm":
        mu, sigma = fit_price(net, float(_val(pr.get("fit_years", 4))))
        drift = pr.get("drift", "fitted")
        if _val(drift) != "fitted":
            mu = float(_val(drift)) / 365.25  # given as annual log drift
        if pr.get("sigma") is not None and _val(pr["sigma"]) != "fitted":
            sigma = float(_val(pr["sigma"])) / np.sqrt(365.25)  # given as annual volatility
        fit.update(price_mu_daily=mu, price_sigma_daily=sigma, price_last_usd=last_price)
        logp = np.log(last_price) + np.cumsum(mu + sigma * z_price, axis=1)
        daily = np.exp(logp)
        price = np.stack([daily[:, day_year == y].mean(axis=1) for y in years], axis=1)
    elif model == "flat":
        v = _val(pr.get("value")) if pr.get("value") is not None else last_price
        price = np.full((runs, len(years)), float(v))
    elif model == "path":
        price = np.tile(_series({"path": pr["path"]}, years, "price.path"), (runs, 1))
    else:
        raise ForecastError(f"forecast refused: price.model must be gbm, flat or path (got {model!r})")

    # network hashrate
    hr = fc.doc["network"]["hashrate_growth"]
    hmodel = _val(hr.get("model", "fitted"))
    h0 = float(net["hashrate_ths"].iloc[-30:].mean())
    if hmodel == "fitted":
        g_mu, g_sd = fit_hashrate(net, float(_val(hr.get("fit_years", 4))))
    elif hmodel == "given":
        g_mu, g_sd = float(_val(hr["mean"])), float(_val(hr.get("sd", 0.0)))
    elif hmodel == "path":
        g_mu, g_sd = None, None
    else:
        raise ForecastError("forecast refused: network.hashrate_growth.model must be fitted, given or path")
    if hmodel == "path":
        hash_ = np.tile(_series({"path": hr["path"]}, years, "network.hashrate_growth.path"), (runs, 1))
    else:
        fit.update(hashrate_growth_mean=g_mu, hashrate_growth_sd=g_sd, hashrate_last_30d_ths=h0)
        rho = float(_val(hr.get("price_correlation", 0.0)) or 0.0)
        if not -1 <= rho <= 1:
            raise ForecastError("forecast refused: network.hashrate_growth.price_correlation must be in [-1, 1]")
        z = z_hash
        if rho and model == "gbm":  # the year's standardised price shock drives part of the hashrate shock
            z_year = np.stack([z_price[:, day_year == y].sum(axis=1) / np.sqrt(max(1, (day_year == y).sum()))
                               for y in years], axis=1)
            z = rho * z_year + np.sqrt(1 - rho ** 2) * z_hash
        fit["hashrate_price_correlation"] = rho
        g = g_mu + g_sd * z  # annual log growth per calendar year
        # level at mid-year: from the last data day to mid-year of the first year, then half-year steps
        t0 = (pd.Timestamp(years[0], 7, 2) - last).days / 365.25
        logh = np.empty_like(g)
        logh[:, 0] = np.log(h0) + g[:, 0] * t0
        for k in range(1, len(years)):
            logh[:, k] = logh[:, k - 1] + 0.5 * (g[:, k - 1] + g[:, k])
        hash_ = np.exp(logh)
    return Market(years, price, hash_, fit)


# ---- the model --------------------------------------------------------------------------------------------------

@dataclass
class Result:
    forecast_id: str
    years: list[int]
    runs: int
    seed: int
    cutoff: dt.date
    chain: Chain
    fleet: FleetPaths
    market: Market
    issuance_btc: np.ndarray  # years: subsidy + fees
    mining: np.ndarray  # runs × years: share of capacity mining (1 = all; 0 where behaviour shut it down)
    value_kzt: np.ndarray  # runs × years (after behaviour)
    cost_kzt: np.ndarray
    energy_kwh: np.ndarray
    taxes: dict[str, np.ndarray]  # scheme_id -> runs × years KZT
    rates: dict[str, list[tuple[float, str]]]  # scheme_id -> (rate, basis) per year

    def long(self) -> pd.DataFrame:
        frames = []
        draws = np.repeat(np.arange(self.runs), len(self.years))
        yrs = np.tile(np.array(self.years), self.runs)
        for sid, t in self.taxes.items():
            frames.append(pd.DataFrame({"draw": draws, "year": yrs, "scheme_id": sid, "tax_kzt": t.reshape(-1)}))
        df = pd.concat(frames, ignore_index=True)
        df.attrs.update(forecast_id=self.forecast_id, seed=self.seed, runs=self.runs, cutoff=str(self.cutoff))
        return df


def taxes_for(schemes: list[Scheme], years: list[int], fleet: FleetPaths, energy: np.ndarray, value: np.ndarray,
              cost: np.ndarray, attrs: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Tax per scheme (KZT) for arrays broadcast over years (last axis)."""
    out, rates = {}, {}
    for s in schemes:
        rr = [rate_in_force(s, y, fleet.elec_price[i], attrs, fleet.capacity_mw[i]) for i, y in enumerate(years)]
        rates[s.scheme_id] = rr
        r = np.array([x[0] for x in rr])
        if s.family in ("per_kwh", "per_kwh_by_price"):
            t = energy * r
        elif s.family == "per_kwh_foreign":
            if s.currency != "USD":
                raise ForecastError(f"scheme {s.scheme_id}: only USD-denominated foreign rates are forecast")
            t = energy * r * fleet.fx
        elif s.family == "electricity_cost_share":
            t = cost * r
        elif s.family == "mined_value_share":
            t = value * r
        elif s.family == "income_tax":
            t = np.maximum(0.0, value - cost) * r
        else:
            raise ForecastError(f"scheme {s.scheme_id}: family {s.family} not supported in forecasts")
        out[s.scheme_id] = t
    return out, rates


def _tax_per_kwh(schemes, years, fleet, value_per_kwh, attrs) -> np.ndarray:
    """Total tax per kWh mined (KZT), for the behavioural test."""
    one = np.ones(len(years))
    taxes, _ = taxes_for(schemes, years, fleet, one, value_per_kwh, fleet.elec_price * one, attrs)
    return sum(taxes.values()) if taxes else np.zeros_like(value_per_kwh)


def _phi(x: np.ndarray) -> np.ndarray:
    """Standard normal distribution function."""
    return 0.5 * (1.0 + np.vectorize(math.erf)(np.asarray(x, dtype=float) / math.sqrt(2.0)))


def _profitable_share(limit: np.ndarray, mean_price: np.ndarray, cv: float) -> tuple[np.ndarray, np.ndarray]:
    """For site prices p ~ lognormal(mean mean_price, coefficient of variation cv): the share of sites with
    p <= limit, and their mean price E[p | p <= limit] (the fleet price where no site mines)."""
    s2 = math.log1p(cv * cv)
    s = math.sqrt(s2)
    m = np.log(mean_price) - s2 / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.where(limit > 0, limit, 1.0)) - m) / s
        share = np.where(limit > 0, _phi(z), 0.0)
        lower = mean_price * _phi(z - s)
        price = np.where(share > 0, lower / np.where(share > 0, share, 1.0), mean_price)
    return share, price


def fleet_outcome(fc: Forecast, fleet: FleetPaths, coins: np.ndarray, price_usd: np.ndarray, years: list[int]):
    """Energy, value, cost, taxes and the mining flag for given coins/prices (runs × years)."""
    attrs = {**DEFAULT_ATTRIBUTES, **{k: _val(v) for k, v in (fc.doc["fleet"].get("attributes") or {}).items()}}
    value = coins * price_usd * fleet.fx
    energy = np.broadcast_to(fleet.energy_kwh, value.shape).astype(float)
    cost = energy * fleet.elec_price
    mining = np.ones_like(value)
    if bool(_val(fc.doc.get("behaviour", False))):
        with np.errstate(divide="ignore", invalid="ignore"):
            vpk = np.where(energy > 0, value / np.where(energy > 0, energy, 1), 0.0)
        tpk = _tax_per_kwh(fc.schemes, years, fleet, vpk, attrs)
        spread = float(_val(fc.doc.get("site_price_spread", 0.0)))
        if spread > 0:
            # sites pay different prices (lognormal around the fleet price, coefficient of variation `spread`):
            # the share of capacity whose price + tax per kWh is covered keeps mining, at its own lower prices
            mining, site_price = _profitable_share(vpk - tpk, fleet.elec_price * np.ones_like(vpk), spread)
            cost = energy * mining * site_price
        else:
            mining = np.where(vpk < fleet.elec_price + tpk, 0.0, 1.0)
            cost = cost * mining
        value, energy = value * mining, energy * mining
    taxes, rates = taxes_for(fc.schemes, years, fleet, energy, value, cost, attrs)
    return energy, value, cost, mining, taxes, rates


def _years(chain: Chain, to_year: int, from_year: int | None) -> list[int]:
    first = from_year or chain.last_day.year + 1
    if to_year < first:
        raise ForecastError(f"forecast to {to_year}: the first forecast year is {first}")
    return list(range(first, to_year + 1))


def run(forecast_id: str, to_year: int, runs: int = 1000, seed: int = 0, cutoff: dt.date | str | None = None, *,
        from_year: int | None = None, forecasts_dir: Path = FORECASTS_DIR, scenarios_dir: Path = SCENARIOS_DIR,
        schemes_dir: Path = SCHEMES_DIR, data_dir: Path = DEFAULT_DATA_DIR) -> Result:
    """The full simulation with all intermediate arrays (see simulate for the long table)."""
    if runs < 1:
        raise ForecastError("runs must be at least 1")
    fc = load_forecast(forecast_id, forecasts_dir, scenarios_dir, schemes_dir)
    data = load_data(data_dir, cutoff)
    chain = chain_state(data.network)
    years = _years(chain, to_year, from_year)
    fleet = fleet_paths(fc, data, years)
    market = draw_market(fc, data, years, runs, seed)
    issuance = np.array([chain.issuance_btc(y) for y in years]) * (1 + fleet.fees_share)
    share = np.minimum(1.0, fleet.hashrate_ths / market.hashrate_ths)
    coins = share * issuance
    energy, value, cost, mining, taxes, rates = fleet_outcome(fc, fleet, coins, market.price_usd, years)
    return Result(forecast_id, years, runs, seed, chain.last_day, chain, fleet, market, issuance, mining, value, cost,
                  energy, taxes, rates)


def simulate(forecast_id: str, to_year: int, runs: int = 1000, seed: int = 0, cutoff: dt.date | str | None = None,
             **kw) -> pd.DataFrame:
    """Long table: one row per draw, year and scheme (draw, year, scheme_id, tax_kzt)."""
    return run(forecast_id, to_year, runs, seed, cutoff, **kw).long()


# ---- summaries --------------------------------------------------------------------------------------------------

def _with_all(df: pd.DataFrame) -> pd.DataFrame:
    tot = df.groupby(["draw", "year"], as_index=False)["tax_kzt"].sum().assign(scheme_id=ALL_SCHEMES)
    return pd.concat([df[["draw", "year", "scheme_id", "tax_kzt"]], tot], ignore_index=True)


def _stats(g: pd.core.groupby.DataFrameGroupBy, col: str) -> pd.DataFrame:
    return g[col].agg(p10=lambda s: float(np.percentile(s, 10)), p50=lambda s: float(np.percentile(s, 50)),
                      p90=lambda s: float(np.percentile(s, 90)), mean="mean").reset_index()


def summarise(df: pd.DataFrame, scenario: str | None = None) -> pd.DataFrame:
    """forecast_by_year rows: scenario, scheme, year, p10, p50, p90, mean (KZT), per scheme and 'all schemes'."""
    out = _stats(_with_all(df).groupby(["scheme_id", "year"]), "tax_kzt")
    out.insert(0, "scenario", scenario or df.attrs.get("forecast_id", ""))
    out = out.rename(columns={"scheme_id": "scheme"})
    return out[["scenario", "scheme", "year", "p10", "p50", "p90", "mean"]].sort_values(
        ["scheme", "year"]).reset_index(drop=True)


def budget_windows(df: pd.DataFrame, scenario: str | None = None, windows: tuple[int, ...] = (1, 3, 5)
                   ) -> pd.DataFrame:
    """forecast_budget_window rows: totals over the first 1, 3, 5 forecast years, summed per draw then summarised
    (scenario, scheme, window_years, first_year, last_year, p10, p50, p90, mean). Windows longer than the horizon
    are left out."""
    a = _with_all(df)
    first, last = int(a["year"].min()), int(a["year"].max())
    frames = []
    for w in windows:
        if first + w - 1 > last:
            continue
        tot = a[a["year"] <= first + w - 1].groupby(["scheme_id", "draw"], as_index=False)["tax_kzt"].sum()
        s = _stats(tot.groupby("scheme_id"), "tax_kzt").assign(window_years=w, first_year=first,
                                                              last_year=first + w - 1)
        frames.append(s)
    out = pd.concat(frames, ignore_index=True).rename(columns={"scheme_id": "scheme"})
    out.insert(0, "scenario", scenario or df.attrs.get("forecast_id", ""))
    return out[["scenario", "scheme", "window_years", "first_year", "last_year", "p10", "p50", "p90", "mean"]
               ].sort_values(["scheme", "window_years"]).reset_index(drop=True)


def compare(reform_id: str, baseline_id: str, to_year: int, runs: int = 1000, seed: int = 0,
            cutoff: dt.date | str | None = None, **kw) -> pd.DataFrame:
    """Reform − baseline per draw, year and scheme, with the same random draws (common random numbers).
    Columns: draw, year, scheme_id, reform_kzt, baseline_kzt, tax_kzt (the difference); summarise() works on it."""
    r = simulate(reform_id, to_year, runs, seed, cutoff, **kw)
    b = simulate(baseline_id, to_year, runs, seed, cutoff, **kw)
    m = r.merge(b, on=["draw", "year", "scheme_id"], how="outer", suffixes=("_r", "_b")).fillna({
        "tax_kzt_r": 0.0, "tax_kzt_b": 0.0})
    m = m.rename(columns={"tax_kzt_r": "reform_kzt", "tax_kzt_b": "baseline_kzt"})
    m["tax_kzt"] = m["reform_kzt"] - m["baseline_kzt"]
    m = m.sort_values(["scheme_id", "draw", "year"]).reset_index(drop=True)
    m.attrs.update(forecast_id=f"{reform_id} - {baseline_id}", seed=seed, runs=runs)
    return m


# ---- backtest ---------------------------------------------------------------------------------------------------

def actual_estimate(forecast_id: str, year: int, *, forecasts_dir: Path = FORECASTS_DIR,
                    scenarios_dir: Path = SCENARIOS_DIR, schemes_dir: Path = SCHEMES_DIR,
                    data_dir: Path = DEFAULT_DATA_DIR) -> dict[str, float]:
    """The model's estimate for `year` from the actual data of that year (daily network share × actual subsidy and
    fees × the day's price), for the same fleet the forecast assumes: tax per scheme and 'all schemes' (KZT)."""
    fc = load_forecast(forecast_id, forecasts_dir, scenarios_dir, schemes_dir)
    data = load_data(data_dir, dt.date(year, 12, 31))
    net = data.network[data.network["date"].dt.year == year]
    if len(net) < 360:
        raise ForecastError(f"backtest {year}: the data do not cover the year")
    years = [year]
    fleet = fleet_paths(fc, load_data(data_dir, dt.date(year - 1, 12, 31)), years)  # same fleet as the forecast
    h = fleet.hashrate_ths[0]
    issued = (net["subsidy_btc"] + net["fees_btc"]).to_numpy(float)
    coins_d = np.minimum(1.0, h / net["hashrate_ths"].to_numpy(float)) * issued
    # value at the day's price; expressed as coins × the coin-weighted mean price so fleet_outcome can be reused
    coins = coins_d.sum()
    price = float((coins_d * net["price_usd"].to_numpy(float)).sum() / coins) if coins > 0 else 0.0
    _, _, _, mining, taxes, _ = fleet_outcome(fc, fleet, np.array([[coins]]), np.array([[price]]), years)
    out = {sid: float(t[0, 0]) for sid, t in taxes.items()}
    out[ALL_SCHEMES] = float(sum(out.values()))
    out["_coins_btc"], out["_price_usd"], out["_mining"] = float(coins), price, float(mining[0, 0])
    return out


def backtest(year: int, forecast_id: str = "kz-baseline", runs: int = 2000, seed: int = 7, **kw) -> dict:
    """Forecast `year` with data up to 31 Dec of year−1 and compare with the model's estimate from the actual data
    of `year` for the same fleet. Per scheme and 'all schemes': p10, p50, p90, actual, error (p50 − actual),
    error_pct, inside (p10 <= actual <= p90); plus the halving dates and fits used."""
    cutoff = dt.date(year - 1, 12, 31)
    res = run(forecast_id, year, runs, seed, cutoff, from_year=year, **kw)
    summ = summarise(res.long(), forecast_id)
    actual = actual_estimate(forecast_id, year, **kw)
    rows = {}
    for _, r in summ.iterrows():
        a = actual[r["scheme"]]
        rows[r["scheme"]] = {"p10": r["p10"], "p50": r["p50"], "p90": r["p90"], "mean": r["mean"], "actual": a,
                             "error": r["p50"] - a, "error_pct": (r["p50"] - a) / a * 100 if a else None,
                             "inside": bool(r["p10"] <= a <= r["p90"])}
    net_actual = load_data(kw.get("data_dir", DEFAULT_DATA_DIR), dt.date(year, 12, 31)).network
    net_actual = net_actual[net_actual["date"].dt.year == year]
    return {"forecast_id": forecast_id, "year": year, "cutoff": str(cutoff), "runs": runs, "seed": seed,
            "schemes": rows,
            "price_usd": {"p10": float(np.percentile(res.market.price_usd[:, 0], 10)),
                          "p50": float(np.percentile(res.market.price_usd[:, 0], 50)),
                          "p90": float(np.percentile(res.market.price_usd[:, 0], 90)),
                          "actual": float(net_actual["price_usd"].mean())},
            "hashrate_ths": {"p10": float(np.percentile(res.market.hashrate_ths[:, 0], 10)),
                             "p50": float(np.percentile(res.market.hashrate_ths[:, 0], 50)),
                             "p90": float(np.percentile(res.market.hashrate_ths[:, 0], 90)),
                             "actual": float(net_actual["hashrate_ths"].mean())},
            "halvings": [(h, str(d)) for h, d in res.chain.next_halvings(1)],
            "fit": res.market.fit}
