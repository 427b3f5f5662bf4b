"""Suites run inside DuckDB by default (minetax.validate.suite_sql); Great Expectations is the reference for what
they mean.

Every input file of the embedded default data and of the bad-input corpus is staged by the real pipeline, and the
outputs of the default data are checked; at each point where the pipeline evaluates a suite in DuckDB, the same
relation also goes to Great Expectations (pandas engine), and every expectation's result must be the same:
success, element count, unexpected count and the example rows. The Great Expectations engine
(MINETAX_VALIDATION_ENGINE=great_expectations) must give the same run.
"""

from __future__ import annotations

import duckdb
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.errors import InputError
from minetax.validate import suite_sql
from minetax.validate.ge_engine import Validator
from tests.validate.test_bad_input_corpus import CASES, _put_input, settings, valid_state  # noqa: F401 (fixtures)

_ge = Validator()


@pytest.fixture
def compared(monkeypatch) -> list:
    """Make every suite evaluation also run in Great Expectations; collect (suite, DuckDB report, GE report)."""
    seen = []
    real = suite_sql.validate

    def both(con, suite_name, relation, target, totals=None):
        mine = real(con, suite_name, relation, target, totals)
        if totals:  # counted in the suite's scan: as a query of their own counts them
            alone = con.execute(f"SELECT {', '.join(totals.values())} FROM {relation}").fetchall()[0]
            assert list(mine.totals.values()) == pytest.approx(list(alone), rel=1e-12, nan_ok=True)
        frame = con.execute(f"SELECT * FROM {relation} ORDER BY _row").df()
        seen.append((suite_name, mine, _ge.validate(suite_name, frame, target)))
        return mine

    monkeypatch.setattr(suite_sql, "validate", both)
    return seen


def _assert_same(seen: list) -> None:
    assert seen
    for suite, mine, ge in seen:
        key = lambda r: (r["expectation"], r["column"], r["rule"])  # noqa: E731
        theirs = {key(r): r for r in ge.results}
        assert len(theirs) == len(ge.results) == len(mine.results), suite
        for r in mine.results:
            g = theirs[key(r)]
            assert g["error"] is None, (suite, g)
            assert (r["success"], r["element_count"], r["unexpected_count"] or 0) == \
                (g["success"], g["element_count"], g["unexpected_count"] or 0), (suite, r, g)
            assert sorted(r["example_rows"]) == sorted(g["example_rows"]), (suite, r, g)


def test_default_data_same_as_great_expectations(tmp_path, compared):
    local = Settings.make(tmp_path / "home")
    ctx = pipeline.begin(local, "kz-baseline")
    pipeline.ingest(ctx)
    pipeline.estimate(ctx)
    ctx.close()
    assert {s for s, _, _ in compared} >= {"input.farms", "input.energy_readings", "input.farm_hashrate",
                                            "input.network_daily", "input.fx", "output.farm_month",
                                            "output.estimates", "output.reconcile", "output.country"}
    _assert_same(compared)


def test_a_failing_output_rule_is_found_by_both_engines(tmp_path, compared, monkeypatch):
    """Outputs pass on the default data, so break one: a check query whose estimates have a period ending before
    it starts and a NULL tax."""
    from minetax import db

    real = db.sql_text

    def broken(name):
        text = real(name)
        if name == "checks/estimates.sql":
            body = text.rstrip().rstrip(";")
            return body.replace("SELECT", "SELECT * REPLACE (CASE WHEN farm_id LIKE '%1' THEN period_start "
                                "- INTERVAL 1 DAY ELSE period_end END AS period_end) FROM (SELECT", 1) + ")"
        return text

    monkeypatch.setattr(db, "sql_text", broken)
    local = Settings.make(tmp_path / "home")
    ctx = pipeline.begin(local, "kz-baseline")
    pipeline.ingest(ctx)
    with pytest.raises(Exception, match="period_end"):
        pipeline.estimate(ctx)
    ctx.close()
    failed = [r for s, mine, _ in compared if s == "output.estimates" for r in mine.failures]
    assert failed and all(r["unexpected_count"] > 0 for r in failed)
    _assert_same(compared)


def test_great_expectations_engine_gives_the_same_run(tmp_path, monkeypatch):
    results = {}
    for engine in ("duckdb", "great_expectations"):
        monkeypatch.setenv("MINETAX_VALIDATION_ENGINE", engine)
        _, path = pipeline.run(Settings.make(tmp_path / engine), "kz-baseline")
        con = duckdb.connect(str(path), read_only=True)
        try:
            results[engine] = con.execute("SELECT scheme_id, farm_id, period_start, tax_kzt FROM estimates "
                                          "ORDER BY ALL").fetchall()
            checked = con.execute("SELECT count(*), count(DISTINCT suite) FROM validations").fetchall()[0]
        finally:
            con.close()
        assert checked[0] > 50 and checked[1] >= 9, (engine, checked)
    # the same rows; tax equal up to the order of DuckDB's parallel float sums (1e-9 relative)
    duck, ge = results["duckdb"], results["great_expectations"]
    assert duck and [r[:3] for r in duck] == [r[:3] for r in ge]
    assert [r[3] for r in duck] == pytest.approx([r[3] for r in ge], rel=1e-9, abs=1e-6)


def test_unknown_engine_is_refused(monkeypatch):
    from minetax.errors import MinetaxError
    from minetax.validate import checks

    monkeypatch.setenv("MINETAX_VALIDATION_ENGINE", "pandas")
    with pytest.raises(MinetaxError, match="use one of duckdb, great_expectations"):
        checks.engine()


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] == "input"], ids=lambda c: c["case"])
def test_corpus_case_same_as_great_expectations(case, settings, compared):  # noqa: F811 (the corpus fixture)
    _put_input(case, settings.data_dir)
    ctx = pipeline.begin(settings, "kz-baseline")
    try:
        pipeline.ingest(ctx)
    except InputError:
        pass  # refused or not, both engines must agree on every rule
    finally:
        ctx.close()
    if not compared:  # refused before any rule (unreadable file, missing column): nothing to compare
        return
    _assert_same(compared)
