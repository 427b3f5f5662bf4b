"""Model and tax: run the SQL of sql/model_*.sql and sql/tax_*.sql for a scenario, then check outputs.

Everything is written in one transaction; if an output suite fails the transaction is rolled back,
the failure is recorded, and OutputValidationError is raised (nothing is published).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from minetax import db
from minetax.errors import OutputValidationError
from minetax.ingest import record_validation
from minetax.schemes import Scenario, Scheme
from minetax.validate import Report, Validator

RULE_COLUMNS = ["scheme_id", "scheme_version", "valid_from", "valid_to", "kind", "name", "price_lo",
                "price_lo_inclusive", "price_hi", "price_hi_inclusive", "when_connection",
                "when_energy_source", "when_metered", "rate", "status", "reference"]


def write_rate_rules(con: duckdb.DuckDBPyConnection, scheme: Scheme) -> None:
    rules = pd.DataFrame(scheme.rate_rules(), columns=RULE_COLUMNS)
    con.execute("DELETE FROM tax.rate_rules WHERE scheme_id = ? AND scheme_version = ?",
                [scheme.scheme_id, scheme.version])
    con.register("new_rules", rules)
    con.execute("INSERT INTO tax.rate_rules SELECT * FROM new_rules")
    con.unregister("new_rules")


def model_params(run_id: str, scenario: Scenario) -> dict:
    a = scenario.assumptions
    pue = a.get("pue", {})
    return {"run_id": run_id, "scenario_id": scenario.scenario_id, "pue_low": float(pue.get("low", 1.01)),
            "pue_central": float(pue.get("central", 1.10)), "pue_high": float(pue.get("high", 1.20)),
            "fx_pair": a.get("fx_pair", "USD/KZT"), "efficiency": a.get("efficiency", "estimated")}


def scheme_params(run_id: str, scenario: Scenario, scheme: Scheme) -> dict:
    lo, hi = scheme.rate_range
    return {"run_id": run_id, "scenario_id": scenario.scenario_id, "scheme_id": scheme.scheme_id,
            "scheme_version": scheme.version, "tax_period": scheme.tax_period, "rate_unit": scheme.rate_unit,
            "price_decimals": scheme.price_decimals, "rate_min": lo, "rate_max": hi}


def estimate(con: duckdb.DuckDBPyConnection, run_id: str, scenario: Scenario, validator: Validator,
             progress=None) -> list[Report]:
    reports: list[Report] = []
    con.execute("BEGIN TRANSACTION")
    try:
        if progress:
            progress("modelling farm × month")
        db.run_file(con, "model_farm_month.sql", model_params(run_id, scenario))
        reports.append(validator.validate(
            "output.farm_month", db.query_file(con, "check_farm_month.sql", {"scenario_id": scenario.scenario_id}),
            "model.farm_month"))
        for scheme in scenario.schemes:
            if progress:
                progress(f"applying {scheme.scheme_id}")
            params = scheme_params(run_id, scenario, scheme)
            write_rate_rules(con, scheme)
            db.run_file(con, f"tax_{scheme.family}.sql", params)
            db.run_file(con, "tax_estimates_by_period.sql", params)
            reports.append(validator.validate("output.estimates", db.query_file(con, "check_estimates.sql", params),
                                              f"tax.estimates[{scheme.scheme_id}]"))
            reports.append(validator.validate("output.reconcile", db.query_file(con, "check_reconcile.sql", params),
                                              f"reconcile[{scheme.scheme_id}]"))
        failed = [r for r in reports if not r.success]
        if failed:
            raise OutputValidationError("estimates failed validation; nothing was published:\n" + "\n".join(
                f"  {r.target}: {f['column'] or '(table)'}: {f['rule']} ({f['unexpected_count']} rows)"
                for r in failed for f in r.failures))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        for r in reports:
            record_validation(con, run_id, r)
        raise
    for r in reports:
        record_validation(con, run_id, r)
    return reports
