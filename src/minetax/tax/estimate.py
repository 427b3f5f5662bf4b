"""Model and tax: run sql/model_*.sql and sql/tax_*.sql for a scenario, then check the outputs.

Everything is written inside the run's transaction (minetax.pipeline); if an output suite fails,
OutputValidationError is raised with the failing rows and the run is rolled back: nothing changes, nothing is
published.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb

from minetax import db
from minetax.errors import OutputValidationError
from minetax.faults import crashpoint
from minetax.load import segments
from minetax.publish import runs
from minetax.tax.schemes import Scenario, Scheme
from minetax.validate import checks
from minetax.validate.suites import Report

RULE_COLUMNS = ["scheme_id", "scheme_version", "valid_from", "valid_to", "kind", "name", "price_lo",
                "price_lo_inclusive", "price_hi", "price_hi_inclusive", "when_connection",
                "when_energy_source", "when_metered", "when_licensed", "when_capacity_mw_below", "rate", "status",
                "reference"]


def write_rate_rules(con: duckdb.DuckDBPyConnection, scheme: Scheme) -> None:
    con.execute("DELETE FROM tax.rate_rules WHERE scheme_id = ? AND scheme_version = ?",
                [scheme.scheme_id, scheme.version]).fetchall()
    # a few rows: bound values
    con.executemany(f"INSERT INTO tax.rate_rules ({', '.join(RULE_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in RULE_COLUMNS)})",
                    [[r.get(c) for c in RULE_COLUMNS] for r in scheme.rate_rules()])


def write_assumption_tables(con: duckdb.DuckDBPyConnection, scenario: Scenario) -> None:
    """Temp tables the model SQL reads: price_path(date, multiplier), share_assumed(country, date, …)."""
    a = scenario.assumptions
    m = a.get("btc_price_multiplier", 1.0)
    path = sorted(m.items()) if isinstance(m, dict) else [(dt.date(1900, 1, 1), m)]
    con.execute("CREATE OR REPLACE TEMP TABLE price_path (date DATE, multiplier DOUBLE)").fetchall()
    con.executemany("INSERT INTO price_path VALUES (?, ?)", [[d, float(v)] for d, v in path])
    con.execute("CREATE OR REPLACE TEMP TABLE share_assumed (country VARCHAR, date DATE, low DOUBLE, "
                "central DOUBLE, high DOUBLE, source VARCHAR)").fetchall()
    hs = a.get("hashrate_share") or {}
    rows = [[hs["country"], d, v["low"], v["central"], v["high"], v.get("source")]
            for d, v in sorted((hs.get("assumed") or {}).items())]
    if hs and not rows:  # observed shares only
        rows = [[hs["country"], dt.date(1900, 1, 1), None, None, None, None]]
    if rows:
        con.executemany("INSERT INTO share_assumed VALUES (?, ?, ?, ?, ?, ?)", rows)


def model_params(run_id: str, scenario: Scenario) -> dict:
    a = scenario.assumptions
    pue = a.get("pue", {})
    band = a.get("unmetered_energy_band", {"low": 0.8, "high": 1.1})
    return {"run_id": run_id, "scenario_id": scenario.scenario_id, "pue_low": float(pue.get("low", 1.01)),
            "pue_central": float(pue.get("central", 1.10)), "pue_high": float(pue.get("high", 1.20)),
            "fx_pair": a.get("fx_pair", "USD/KZT"), "efficiency": a.get("efficiency", "estimated"),
            "band_low": float(band["low"]), "band_high": float(band["high"])}


def behaviour_on(scenario: Scenario) -> bool:
    return bool((scenario.assumptions.get("behaviour") or {}).get("enabled", False))


def scheme_params(run_id: str, scenario: Scenario, scheme: Scheme) -> dict:
    lo, hi = scheme.rate_range
    return {"run_id": run_id, "scenario_id": scenario.scenario_id, "scheme_id": scheme.scheme_id,
            "scheme_version": scheme.version, "family": scheme.family, "base": scheme.base,
            "tax_period": scheme.tax_period, "rate_unit": scheme.rate_unit, "fx_pair": scheme.fx_pair,
            "price_decimals": scheme.price_decimals, "rate_min": lo, "rate_max": hi,
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


def plan(con: duckdb.DuckDBPyConnection, scenario: Scenario, window=None) -> tuple[tuple | None, str]:
    """Which months to recompute: everything when the scenario, its schemes or the code changed (or on the first
    run); else the whole tax periods around the months whose inputs changed since; None when nothing changed.
    An explicit window (backfill) is widened to whole periods and used as it is."""
    if window:
        lo, hi = whole_periods(*window, scenario)
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


def estimate(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, progress=None,
             window=None) -> list[Report]:
    """Recompute the months that need it (see plan) inside the caller's transaction and check the outputs; raise
    OutputValidationError (with the reports) if a check fails: the caller rolls back."""
    months, label = plan(con, scenario, window)
    runs.set_periods(con, run_id, label)
    if months is None:
        return []
    rng = {"m_from": months[0], "m_to": months[1]}
    if progress:
        progress(f"modelling {label}")
    write_assumption_tables(con, scenario)
    segments.window_view(con, months[0], months[1] + dt.timedelta(days=32))  # past the last month's end
    mp = {**model_params(run_id, scenario), **rng}
    db.run_file(con, "model/farm_month.sql", mp)
    db.run_file(con, "model/country_month.sql", mp)
    crashpoint("estimate:modelled")
    reports = [_check(con, "output.farm_month", "checks/farm_month.sql", {"scenario_id": scenario.scenario_id},
                      "model.farm_month")]
    _apply_schemes(con, run_id, scenario, rng, progress)
    crashpoint("estimate:taxed")
    reports += _check_outputs(con, run_id, scenario, rng)
    if window is None:  # a backfill window does not bring the rest of the scenario up to date
        _drop_stale(con, scenario)
        _save_state(con, scenario)
    failed = [r for r in reports if not r.success]
    if failed:
        raise OutputValidationError(failure_message(con, run_id, failed), reports)
    crashpoint("estimate:checked")
    return reports


def _apply_schemes(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, rng: dict, progress) -> None:
    con.execute("DROP TABLE IF EXISTS country_tax_month").fetchall()
    for scheme in scenario.schemes:
        if progress:
            progress(f"applying {scheme.scheme_id}")
        params = {**scheme_params(run_id, scenario, scheme), **rng}
        write_rate_rules(con, scheme)
        db.run_file(con, "tax/period_fx.sql", params)
        db.run_file(con, "tax/estimates_month.sql", params)
        db.run_file(con, "tax/country_tax_month.sql", params)
    db.run_file(con, "tax/estimates_month_dynamic.sql", {"scenario_id": scenario.scenario_id, **rng,
                                           "behaviour": behaviour_on(scenario)})


def _check_outputs(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, rng: dict) -> list[Report]:
    reports = []
    for scheme in scenario.schemes:
        params = {**scheme_params(run_id, scenario, scheme), **rng}
        db.run_file(con, "tax/estimates.sql", params)
        db.run_file(con, "tax/estimates_country.sql", params)
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
