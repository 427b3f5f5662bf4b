"""Estimate a scenario: which months to recompute (plan and state), the model stage (minetax.model.run), the tax
stage (sql/tax/, run by minetax.graph: the files needed for tax.estimates and tax.estimates_country, the scheme
files once per scheme), then the output checks (sql/checks/).

Everything is written inside the run's transaction (minetax.pipeline); if an output suite fails,
OutputValidationError is raised with the failing rows and the run is rolled back: nothing changes, nothing is
published.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import duckdb

from minetax import graph
from minetax.errors import OutputValidationError
from minetax.faults import crashpoint
from minetax.model import run as model_stage
from minetax.model.partials import Mapper
from minetax.publish import runs
from minetax.tax import rates, readings
from minetax.tax.schemes import Scenario, Scheme
from minetax.validate import checks
from minetax.validate.suites import Report


def behaviour_on(scenario: Scenario) -> bool:
    return bool((scenario.assumptions.get("behaviour") or {}).get("enabled", False))


def scheme_params(run_id: str, scenario: Scenario, scheme: Scheme) -> dict:
    lo, hi = scheme.rate_range
    return {"run_id": run_id, "scenario_id": scenario.scenario_id, "scheme_id": scheme.scheme_id,
            "scheme_version": scheme.version, "family": scheme.family, "base": scheme.base,
            "tax_period": scheme.tax_period, "rate_unit": scheme.rate_unit, "fx_pair": scheme.fx_pair,
            "price_decimals": scheme.price_decimals, "basis_tag": readings.basis_tags(scheme.readings),
            "suspensions": "suspensions" in scheme.parameters, "law_as_of": scenario.assumptions.get("law_as_of"),
            "rate_min": lo, "rate_max": hi,
            "behaviour": behaviour_on(scenario)}


def _drop_stale(con: duckdb.DuckDBPyConnection, scenario: Scenario) -> None:
    """Schemes the scenario no longer uses leave no estimates behind."""
    ids = [s.scheme_id for s in scenario.schemes]
    marks = ", ".join("?" for _ in ids)
    for table in ("tax.estimates_month", "tax.estimates", "tax.estimates_country"):
        con.execute(f"DELETE FROM {table} WHERE scenario_id = ? AND scheme_id NOT IN ({marks})",
                    [scenario.scenario_id, *ids]).fetchall()


ALL_MONTHS = (dt.date(1900, 1, 1), dt.date(2999, 12, 1))
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def state_version(scenario: Scenario) -> str:
    """What the estimates depend on besides the data: the scenario, its (patched) schemes and the code."""
    parts = [scenario.version, *sorted(s.version for s in scenario.schemes), runs.code_version()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def whole_periods(lo: dt.date, hi: dt.date, scenario: Scenario) -> tuple[dt.date, dt.date]:
    """Widen [lo, hi] (month starts) to whole tax periods of the scenario's coarsest scheme."""
    n = max(PERIOD_MONTHS[s.tax_period] for s in scenario.schemes)
    start = dt.date(lo.year, (lo.month - 1) // n * n + 1, 1)
    end_first = (hi.month - 1) // n * n + 1  # first month of hi's period
    m = end_first + n - 1
    return start, dt.date(hi.year + (m - 1) // 12, (m - 1) % 12 + 1, 1)


Window = tuple[dt.date, dt.date]  # first and last month (first days), inclusive
Progress = Callable[[str], None] | None


def plan(con: duckdb.DuckDBPyConnection, scenario: Scenario, window: Window | None = None
         ) -> tuple[Window | None, str]:
    """Which months to recompute: everything when the scenario, its schemes or the code changed (or on the first
    run); else the whole tax periods around the months whose inputs changed since; None when nothing changed.
    An explicit window (backfill) is widened to whole periods and used as it is."""
    if window:
        lo, hi = whole_periods(window[0], window[1], scenario)
        return (lo, hi), f"{lo:%Y-%m}..{hi:%Y-%m} (backfill)"
    state = con.execute("SELECT scenario_version, change_seq FROM meta.scenario_state WHERE scenario_id = ?",
                        [scenario.scenario_id]).fetchall()
    has_rows = con.execute("SELECT count(*) FROM model.farm_month WHERE scenario_id = ?",
                           [scenario.scenario_id]).fetchall()[0][0] > 0
    if not state or state[0][0] != state_version(scenario) or not has_rows:
        return ALL_MONTHS, "all months"
    months = [r[0] for r in con.execute("SELECT DISTINCT month FROM meta.changes WHERE seq > ?",
                                        [state[0][1]]).fetchall()]
    if not months:
        return None, "none (no input changed)"
    if any(m is None for m in months):
        return ALL_MONTHS, "all months"
    lo, hi = whole_periods(min(months), max(months), scenario)
    return (lo, hi), f"{lo:%Y-%m}..{hi:%Y-%m}"


def _save_state(con: duckdb.DuckDBPyConnection, scenario: Scenario) -> None:
    con.execute("INSERT OR REPLACE INTO meta.scenario_state VALUES (?, ?, ?, "
                "(SELECT coalesce(max(seq), 0) FROM meta.changes), ?)",
                [scenario.scenario_id, state_version(scenario), runs.code_version(), dt.datetime.now()]).fetchall()


def estimate(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, progress: Progress = None,
             window: Window | None = None, mapper: Mapper | None = None, stats: dict | None = None) -> list[Report]:
    """Recompute the months that need it (see plan) inside the caller's transaction and check the outputs; raise
    OutputValidationError (with the reports) if a check fails: the caller rolls back."""
    months, label = plan(con, scenario, window)
    runs.set_periods(con, run_id, label)
    if months is None:
        return []
    rng = {"m_from": months[0], "m_to": months[1]}
    if progress:
        progress(f"modelling {label}")
    _, model_version = model_stage.run(con, run_id, scenario, *months, mapper=mapper, stats=stats)
    crashpoint("estimate:modelled")
    reports = [_check(con, "output.farm_month", "checks/farm_month.sql", {"scenario_id": scenario.scenario_id},
                      "model.farm_month")]
    _apply_schemes(con, run_id, scenario, rng, progress)
    crashpoint("estimate:taxed")
    reports += _check_outputs(con, run_id, scenario, rng)
    if window is None:  # a backfill window does not bring the rest of the scenario up to date
        _drop_stale(con, scenario)
        _save_state(con, scenario)
        model_stage.save_state(con, scenario, model_version)
    failed = [r for r in reports if not r.success]
    if failed:
        raise OutputValidationError(failure_message(con, run_id, failed), reports)
    crashpoint("estimate:checked")
    return reports


TAX_TARGETS = ("tax.estimates", "tax.estimates_country")


def _apply_schemes(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, rng: dict,
                   progress: Progress) -> None:
    """The tax stage: every scheme's rules into tax.rate_rules, then the files that make TAX_TARGETS in graph order,
    those of one scheme once per scheme (sql/tax/; minetax.graph)."""
    con.execute("DROP TABLE IF EXISTS country_tax_month").fetchall()  # rows of the previous scenario
    for scheme in scenario.schemes:
        rates.write_rules(con, scheme)
    if progress:
        progress(f"applying {', '.join(s.scheme_id for s in scenario.schemes)}")
    base = {"run_id": run_id, "scenario_id": scenario.scenario_id, "behaviour": behaviour_on(scenario), **rng}
    each = [{**scheme_params(run_id, scenario, scheme), **rng} for scheme in scenario.schemes]
    graph.run(con, "tax", base, each=each, targets=TAX_TARGETS)


def _check_outputs(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, rng: dict) -> list[Report]:
    reports = []
    for scheme in scenario.schemes:
        params = {**scheme_params(run_id, scenario, scheme), **rng}
        for suite, check, target in (("output.estimates", "checks/estimates.sql", "tax.estimates"),
                                     ("output.reconcile", "checks/reconcile.sql", "reconcile"),
                                     ("output.country", "checks/country.sql", "tax.estimates_country")):
            reports.append(_check(con, suite, check, params, f"{target}[{scheme.scheme_id}]"))
    return reports


def _check(con: duckdb.DuckDBPyConnection, suite: str, check: str, params: dict, target: str) -> Report:
    """One output suite on its check query; each failed rule keeps a few offending rows, described."""
    report = checks.check_query(con, suite, check, params, target)
    for f in report.failures:
        f["examples"] = _example_rows(con, f.get("example_rows") or [])
    return report


def failure_message(con: duckdb.DuckDBPyConnection, run_id: str, failed: list[Report]) -> str:
    """What failed, where (farm, month, country, with the offending values), and which input files of this run
    changed the data it rests on: the error must point at something a user can fix."""
    lines = ["estimates failed validation; nothing was changed or published (the run was rolled back):"]
    for r in failed:
        for f in r.failures:
            lines.append(f"  {r.target}: column {f['column'] or '(table)'}: rule {f['rule']} failed "
                         f"({f['unexpected_count']} rows)")
            lines += [f"    e.g. {ex}" for ex in f.get("examples") or []]
    changed = con.execute("SELECT DISTINCT dataset FROM meta.changes WHERE run_id = ? ORDER BY 1", [run_id]).fetchall()
    if changed:
        lines.append("  datasets this run's input files changed: " + ", ".join(r[0] for r in changed)
                     + " (see `minetax runs`; correct the file and run again)")
    return "\n".join(lines)


EXAMPLE_COLUMNS = ("farm_id", "country", "month", "period_start", "scheme_id", "energy_kwh", "price_kzt_per_kwh",
                   "rate", "tax_kzt", "fx_rate")


def _example_rows(con: duckdb.DuckDBPyConnection, rows: list[int]) -> list[str]:
    """The failing rows of the last check query (temp table check_result), with the columns that identify them."""
    if not rows or checks.engine() != "duckdb":
        return []
    cols = [r[0] for r in con.execute("DESCRIBE check_result").fetchall()]
    shown = [c for c in EXAMPLE_COLUMNS if c in cols] or cols[1:6]
    found = con.execute(f"SELECT {', '.join(shown)} FROM check_result WHERE _row IN "
                        f"({', '.join(str(int(n)) for n in rows[:3])}) ORDER BY _row").fetchall()
    return [", ".join(f"{c}={v}" for c, v in zip(shown, row, strict=True)) for row in found]
