"""The model graph (minetax.graph): every SQL file's header, what it reads, no cycle, the runner's order, literal
parameters, and the generated table in docs/models.md."""

from __future__ import annotations

import re

import duckdb
import pytest

from minetax import db, graph
from minetax.config import PROJECT_ROOT, SQL_DIR
from minetax.storage import SEGMENT_OF_NAME

DOC = PROJECT_ROOT / "docs" / "models.md"
SCHEMAS = ("raw", "core", "model", "tax", "meta")
FROM = re.compile(rf"\b(?:FROM|JOIN|INTO|UPDATE)\s+((?:{'|'.join(SCHEMAS)})\.[a-z_]+)", re.IGNORECASE)


def test_every_sql_file_has_a_header_with_the_required_keys():
    files = graph.sql_files()
    assert "model/farm_month.sql" in files and not any(f.startswith(("export/", "examples/")) for f in files)
    for path in files:
        fields = graph.header_fields((SQL_DIR / path).read_text())
        missing = [k for k in graph.REQUIRED if not fields.get(k)]
        assert not missing, f"sql/{path}: header lacks {missing}"
        assert list(fields)[:len(graph.REQUIRED)] == list(graph.REQUIRED), f"sql/{path}: keys out of order"


def test_the_graph_has_no_problem():
    """Every `reads` entry exists (a schema table, something a file makes, or a documented input), the declared
    parameters are those the statements use, no relation has two makers, and no stage has a cycle."""
    assert graph.problems() == []


def test_reads_declare_every_warehouse_relation_the_body_touches():
    for path, m in graph.models().items():
        body = "\n".join(db.statements(db.sql_text(path)))
        declared = set(m.reads) | set(m.makes) | set(m.updates)
        undeclared = {r.lower() for r in FROM.findall(body)} - declared - {"core.readings_of"} - \
            ({"core.energy_readings"} if path == "schema.sql" else set())
        assert not undeclared, f"sql/{path} reads or writes {sorted(undeclared)} without declaring it"


def test_a_missing_key_a_cycle_and_a_stale_per_item_relation_are_refused():
    with pytest.raises(graph.GraphError, match="lacks reads"):
        graph.parse("x/y.sql", "-- model: a\n-- grain: g\n-- units: u\n-- recompute: whole\n-- params: none\nSELECT 1")
    a = graph.parse("x/a.sql", "-- model: a\n-- grain: g\n-- units: u\n-- reads: b\n-- recompute: whole\n"
                               "-- params: none\n")
    b = graph.parse("x/b.sql", "-- model: b\n-- grain: g\n-- units: u\n-- reads: a\n-- recompute: whole\n"
                               "-- params: none\n")
    with pytest.raises(graph.GraphError, match="cycle among sql/x/a.sql, sql/x/b.sql"):
        graph.sort([a, b])
    assert [m.path for m in graph.sort([a, b.__class__(**{**b.__dict__, "reads": ()})])] == ["x/b.sql", "x/a.sql"]
    # period_fx is replaced whole for each scheme: a file run once after the scheme loop must not read it
    period_fx = graph.model("tax/period_fx.sql")
    reader = graph.parse("x/late.sql", "-- model: late\n-- grain: g\n-- units: u\n-- reads: period_fx\n"
                                       "-- recompute: whole\n-- params: none\n")
    with pytest.raises(graph.GraphError, match="made once per item"):
        graph.phases([period_fx, reader], {"scheme_id", "tax_period", "fx_pair"})


def test_model_stage_order():
    assert [m.path for m in graph.order("model")] == ["model/farm_month.sql", "model/country_month.sql",
                                                      "model/farm_month_hour.sql", "model/readings_total.sql"]


def test_tax_stage_order_and_scheme_loop():
    """The files that make tax.estimates and tax.estimates_country: the scheme files (rates, period fx, the
    monthly tax) once per scheme, then the behavioural response once for all schemes, then the roll-ups per scheme;
    the comparison (minetax compare) is not part of it."""
    keys = {"scheme_id", "scheme_version", "tax_period", "fx_pair", "family", "base"}
    files = graph.order("tax", ["tax.estimates", "tax.estimates_country"], keys)
    groups = [(per, [m.path.removeprefix("tax/") for m in g]) for per, g in graph.phases(files, keys)]
    assert [per for per, _ in groups] == [True, False, True]
    first, once, last = (g for _, g in groups)
    assert once == ["estimates_month_dynamic.sql"] and last == ["estimates.sql", "estimates_country.sql"]
    assert first[-2:] == ["country_tax_month.sql", "estimates_month.sql"] and "period_fx.sql" in first
    if "rate_in_force.sql" in first:  # the one rate model: its subjects first, then the rate, then the tax
        assert first.index("rate_in_force.sql") < first.index("country_tax_month.sql")
        subjects = [f for f in first if f.startswith("rate_subjects")]
        assert all(first.index(f) < first.index("rate_in_force.sql") for f in subjects)
        assert not subjects or subjects[0] == "rate_subjects.sql"
    assert "comparison.sql" not in first + once + last
    assert graph.order("tax", ["tax.estimates"], keys) == graph.order("tax", ["tax.estimates"], keys)


def test_run_file_refuses_a_missing_parameter():
    con = duckdb.connect()
    db.run_file(con, "schema.sql")
    with pytest.raises(graph.GraphError, match=r"needs \$run_id"):
        graph.run_file(con, "model/farm_month.sql", {"scenario_id": "s"})


def test_literal_file_list_reaches_the_view_quoted(tmp_path):
    """core.energy_readings over partition files given as a literal list (one in a folder with a quote in its
    name), less a replaced reading of its segment (the sha256 in the file's name)."""
    con = duckdb.connect()
    graph.run_file(con, "schema.sql")
    (tmp_path / "it's b").mkdir()
    a, b = "a" * 64, "b" * 64
    paths = [tmp_path / f"{a}_0.parquet", tmp_path / "it's b" / f"{b}_0.parquet"]
    for i, path in enumerate(paths):
        con.execute(f"COPY (SELECT 'F{i}' AS farm_id, TIMESTAMP '2023-01-01' + INTERVAL (h) HOUR AS ts_start, "
                    f"TIMESTAMP '2023-01-01' + INTERVAL (h + 1) HOUR AS ts_end, 1.0 AS kwh, 20.0 AS price_kzt_per_kwh "
                    f"FROM range(3) t(h)) TO {db.literal(path)} (FORMAT parquet)").fetchall()
    con.execute(f"INSERT INTO core.energy_readings_replaced VALUES ('F1', TIMESTAMP '2023-01-01 00:00', '{b}', 1.0)"
                ).fetchall()
    graph.run_file(con, "core/energy_readings.sql", {"files": paths, "segment_of_name": SEGMENT_OF_NAME})
    assert con.execute("SELECT farm_id, count(*) FROM core.energy_readings GROUP BY 1 ORDER BY 1").fetchall() == [
        ("F0", 3), ("F1", 2)]
    with pytest.raises(graph.GraphError, match="must be a string or a list of strings"):
        graph.run_file(con, "core/energy_readings.sql", {"files": 3, "segment_of_name": SEGMENT_OF_NAME})


def test_no_string_marker_templating_left():
    for path in (PROJECT_ROOT / "src" / "minetax").rglob("*.py"):
        assert not re.search(r"\.replace\(\s*[\"']/\*", path.read_text()), path
    for path in graph.sql_files():
        assert not re.search(r"/\*\s*(segments|replaced|end)\s*\*/", db.sql_text(path)), path


def test_docs_models_md_is_the_generated_table():
    """docs/models.md is written from the headers; when a header changes the file is rewritten and this fails once
    (commit the new file)."""
    text = ("# The model graph\n\nGenerated from the headers of sql/*.sql by tests/test_graph.py (also: "
            "`minetax models`). Stages in the order of the data flow; files in the order the runner "
            "(minetax.graph) runs them; variants last. The header format is in the docstring of "
            "src/minetax/graph.py.\n\n"
            + graph.markdown(graph.describe()))
    if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        pytest.fail("docs/models.md was out of date and has been regenerated: review and commit it")
