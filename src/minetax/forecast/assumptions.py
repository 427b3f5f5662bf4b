"""Forecast files: schemes/forecasts/<forecast_id>.yaml, each value documented ({value, source|reason}), a
forecast may inherit another's (`base:`); and the year paths the files give (a constant or {year: value})."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minetax.config import SCENARIOS_DIR, SCHEMES_DIR
from minetax.errors import SchemeError
from minetax.tax.policy_yaml import read_policy
from minetax.tax.schemes import Scheme, load_scenario

FORECASTS_DIR = SCHEMES_DIR / "forecasts"


class ForecastError(SchemeError):
    """A forecast file or request that cannot be used."""


def value_of(node: Any, where: str = "") -> Any:
    """A documented value ({value, source|reason}) or a bare value."""
    if isinstance(node, dict) and "value" in node:
        return node["value"]
    return node


def year_map(node: Any, where: str) -> dict[int, float]:
    """{year: value or {value, source|reason}} -> {int year: float}."""
    if not isinstance(node, dict) or not node:
        raise ForecastError(f"forecast refused: {where}: need {{year: value}}")
    out = {}
    for k, v in node.items():
        try:
            y = int(k)
        except (TypeError, ValueError) as e:
            raise ForecastError(f"forecast refused: {where}: {k!r} is not a year") from e
        out[y] = float(value_of(v))
    return dict(sorted(out.items()))


def _undocumented(node: Any, path: str = "") -> list[str]:
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
    law_as_of: dt.date | None = None  # the day whose law applies to every forecast month; None: each month's own


def law_day(doc: dict, scenario_law: Any, file: str) -> dt.date | None:
    """The forecast's law day from its `law_as_of` (default `scenario`): `scenario` takes the tax scenario's
    assumption law_as_of (so a forecast taxes as the scenario's runs do: a counterfactual law applies from the first
    forecast month), `in_force` each forecast month's own law, a day (YYYY-MM-DD) that day's law."""
    v = value_of(doc.get("law_as_of", "scenario"))
    if v == "scenario":
        return scenario_law
    if v == "in_force":
        return None
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    raise ForecastError(f"forecast refused: {file}: law_as_of must be scenario, in_force or a day (YYYY-MM-DD); "
                        f"got {v!r}")


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
    if doc.get("forecast_id") != forecast_id:
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
    scenario = load_scenario(str(value_of(doc["scenario"])), Path(scenarios_dir), Path(schemes_dir))
    return Forecast(forecast_id, doc.get("title", forecast_id), scenario.scenario_id, doc, file,
                    list(scenario.schemes), law_day(doc, scenario.assumptions.get("law_as_of"), file.name))


def list_forecasts(forecasts_dir: Path = FORECASTS_DIR) -> list[str]:
    return sorted(p.stem for p in Path(forecasts_dir).glob("*.yaml"))


def year_series(node: Any, years: list[int], where: str, last_known: float | None = None) -> np.ndarray:
    """A value per year from {value} (constant) or {path: {year: value}} (carried forward, back-filled)."""
    if isinstance(node, dict) and "path" in node:
        path = year_map(node["path"], where)
        out = []
        for y in years:
            known = [v for k, v in path.items() if k <= y]
            out.append(known[-1] if known else next(iter(path.values())))
        return np.array(out, dtype=float)
    v = value_of(node)
    if v is None:
        if last_known is None:
            raise ForecastError(f"forecast refused: {where}: needs a value or a path")
        v = last_known
    return np.full(len(years), float(v))


def apply_overrides(fc: Forecast, overrides: dict) -> Forecast:
    """The forecast with sections of its document replaced (deep merge; e.g. a price or capacity path given as a
    CSV); the file name stays, the overrides are recorded by the caller."""
    return Forecast(fc.forecast_id, fc.title, fc.scenario_id, _merge(fc.doc, overrides), fc.file, fc.schemes,
                    fc.law_as_of)
