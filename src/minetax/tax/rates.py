"""The rate in force: the one place the law is evaluated (sql/tax/rate_in_force.sql).

A scheme version's rules (tax.rate_rules, written by `write_rules`) are applied to subjects (temp table
rate_subjects): in a run, the farms and the top-down countries (sql/tax/rate_subjects_farm.sql,
rate_subjects_country.sql; the run's tax stage orders these files by their headers, minetax.graph); or any
subjects a caller brings, such as the forecast's fleet year by year (`rates_for`). The farm tax, the country tax
and the forecast all read the model's result, so the precedence (exemption, highest override, price bracket), the
bracket edges and the rounding of the average price are written once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import duckdb

from minetax import db, graph
from minetax.tax import readings
from minetax.tax.schemes import Scheme

RULE_COLUMNS = ["scheme_id", "scheme_version", "valid_from", "valid_to", "kind", "name", "price_lo",
                "price_lo_inclusive", "price_hi", "price_hi_inclusive", "when_connection",
                "when_energy_source", "when_metered", "when_licensed", "when_capacity_mw_below", "rate", "status",
                "reference", "combine", "volume_lo_kwh", "volume_hi_kwh", "when_hours", "when_months", "window_from",
                "window_to", "when_region", "reading_choice"]
SUBJECT_COLUMNS = ["scenario_id", "subject_kind", "subject_id", "month", "period_start", "avg_price_kzt_per_kwh",
                   "connection", "energy_source", "metered", "licensed", "capacity_mw", "categories_known", "region",
                   "taxpayer_id", "volume_before_kwh", "volume_kwh", "hour_kwh", "day_kwh"]
SUBJECT_DEFAULTS = {"scenario_id": "forecast", "subject_kind": "fleet", "connection": None, "energy_source": None,
                    "metered": None, "licensed": None, "capacity_mw": None, "categories_known": True, "region": None,
                    "taxpayer_id": None, "volume_before_kwh": None, "volume_kwh": None, "hour_kwh": None,
                    "day_kwh": None}


def write_rules(con: duckdb.DuckDBPyConnection, scheme: Scheme) -> None:
    """Replace the rows of tax.rate_rules for this scheme version with its rules."""
    con.execute("DELETE FROM tax.rate_rules WHERE scheme_id = ? AND scheme_version = ?",
                [scheme.scheme_id, scheme.version]).fetchall()
    con.executemany(f"INSERT INTO tax.rate_rules ({', '.join(RULE_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in RULE_COLUMNS)})",
                    [[r.get(c) for c in RULE_COLUMNS] for r in scheme.rate_rules()])


@contextmanager
def scratch() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the warehouse's (empty) tables, for evaluating the law outside a run."""
    con = duckdb.connect()
    try:
        db.run_file(con, "schema.sql")
        yield con
    finally:
        con.close()


def _subject_row(index: int, subject: dict) -> list:
    row = {**SUBJECT_DEFAULTS, **subject, "subject_id": str(index)}
    if row.get("period_start") is None:
        row["period_start"] = row["month"]
    unknown = set(subject) - set(SUBJECT_COLUMNS)
    if unknown:
        raise ValueError(f"rate subject {index}: unknown keys {sorted(unknown)} (known: {SUBJECT_COLUMNS})")
    return [row[c] for c in SUBJECT_COLUMNS]


def rates_for(con: duckdb.DuckDBPyConnection, scheme: Scheme, subjects: list[dict],
              law_as_of: dt.date | None = None) -> list[tuple[float | None, str]]:
    """The scheme's rate in force and its basis for each subject, in order, through sql/tax/rate_in_force.sql.

    A subject is a dict with `month` (the rate is the one in force on its first day) and `avg_price_kzt_per_kwh`
    (the average over the tax period, unrounded: the model rounds it to the scheme's price decimals), and
    optionally connection, energy_source, metered, licensed, capacity_mw, categories_known (default True: the
    categories are known, so overrides and exemptions can apply), subject_kind, scenario_id, period_start, and
    for the issue-17 families: region (suspension windows), taxpayer_id, volume_before_kwh (the taxpayer's kWh in
    the tax period before this month) and volume_kwh (its kWh this month) for marginal bands (without them a
    marginal scheme gives no rate: 'no volume'), hour_kwh (24 kWh by local hour; None: a flat load) for
    time-of-use periods, day_kwh (kWh by day of the month; None: flat) for suspension windows.
    The rate is None where the law is in force but gives no rate (no price, or a price outside every bracket).
    `con` must be writable: `scratch()` or the run's connection (the scheme's rules are (re)written into its
    tax.rate_rules). `law_as_of`: the day whose law applies to every subject (a scenario's assumption law_as_of);
    None: each subject's own month."""
    write_rules(con, scheme)
    graph.run_file(con, "tax/rate_subjects.sql")
    rows = [_subject_row(i, s) for i, s in enumerate(subjects)]
    if rows:
        con.executemany(f"INSERT INTO rate_subjects ({', '.join(SUBJECT_COLUMNS)}) "
                        f"VALUES ({', '.join('?' for _ in SUBJECT_COLUMNS)})", rows)
    _evaluate(con, scheme, law_as_of)
    query = "SELECT subject_id, rate, rate_basis FROM rate_in_force WHERE scheme_id = ? AND scheme_version = ?"
    found = con.execute(query, [scheme.scheme_id, scheme.version]).fetchall()
    by_index = {int(sid): (rate, basis) for sid, rate, basis in found}
    return [by_index[i] for i in range(len(subjects))]


def _evaluate(con: duckdb.DuckDBPyConnection, scheme: Scheme, law_as_of: dt.date | None = None) -> None:
    graph.run_file(con, "tax/rate_in_force.sql", {"scheme_id": scheme.scheme_id, "scheme_version": scheme.version,
                                               "price_decimals": scheme.price_decimals,
                                               "basis_tag": readings.basis_tags(scheme.readings),
                                               "law_as_of": law_as_of})


def rates_for_columns(con: duckdb.DuckDBPyConnection, scheme: Scheme, columns: Mapping[str, Sequence],
                      law_as_of: dt.date | None = None) -> list[tuple[float | None, str, float]]:
    """As `rates_for`, for many subjects at once (the forecast's fleet: every month of every year, and for marginal
    bands every distinct volume of the draws): `columns` maps subject keys (SUBJECT_COLUMNS but subject_id; `month`
    required; hour_kwh and day_kwh not taken: a flat load) to equal-length sequences. Returns (rate, basis,
    suspended_share) per subject, in order: the same rate model, inserted in one step instead of row by row."""
    import pandas as pd  # at the edge: one frame handed to DuckDB

    unknown = set(columns) - (set(SUBJECT_COLUMNS) - {"subject_id", "hour_kwh", "day_kwh"})
    if unknown or "month" not in columns:
        raise ValueError(f"rate subjects: unknown keys {sorted(unknown)} or no month (known: {SUBJECT_COLUMNS})")
    n = len(columns["month"])
    frame = pd.DataFrame({**{c: [SUBJECT_DEFAULTS.get(c)] * n for c in SUBJECT_COLUMNS if c not in columns},
                          **columns, "subject_id": [str(i) for i in range(n)]})
    if "period_start" not in columns:
        frame["period_start"] = frame["month"]
    write_rules(con, scheme)
    graph.run_file(con, "tax/rate_subjects.sql")
    con.register("fleet_subject_frame", frame[SUBJECT_COLUMNS])
    try:
        con.execute(f"INSERT INTO rate_subjects SELECT {', '.join(SUBJECT_COLUMNS)} FROM fleet_subject_frame")
    finally:
        con.unregister("fleet_subject_frame")
    _evaluate(con, scheme, law_as_of)
    query = ("SELECT rate, rate_basis, suspended_share FROM rate_in_force WHERE scheme_id = ? AND scheme_version = ? "
             "ORDER BY CAST(subject_id AS BIGINT)")
    return [(r, b, float(sh or 0.0)) for r, b, sh in con.execute(query, [scheme.scheme_id, scheme.version]
                                                                  ).fetchall()]


def suspended_shares(con: duckdb.DuckDBPyConnection, scheme: Scheme, n: int) -> list[float]:
    """For the subjects of the last `rates_for` call of this scheme on `con`, in order: the share of each subject's
    month inside a suspension window (0 where none), for a caller that scales its activity by it (the forecast)."""
    query = "SELECT subject_id, suspended_share FROM rate_in_force WHERE scheme_id = ? AND scheme_version = ?"
    found = dict(con.execute(query, [scheme.scheme_id, scheme.version]).fetchall())
    return [float(found.get(str(i)) or 0.0) for i in range(n)]
