"""Issue 18's forecast outputs: the published views (parameters, tornado, backtest rows and scores) say which data
cut, seed and runs produced them and agree with what the run returned; the workbook's Forecast and Backtest sheets
hold them; the report has the backtest and tornado charts; a bad CSV path is refused without publishing."""

from __future__ import annotations

import duckdb
import openpyxl
import pytest

from minetax import pipeline
from minetax.config import Settings
from minetax.forecast.assumptions import ForecastError
from minetax.forecast.store import run_backtest, run_forecast
from minetax.forecast.user_paths import overrides
from minetax.outputs.export import context
from minetax.outputs.report import write_html
from minetax.outputs.workbook import write_workbook

RUNS, SEED = 200, 11


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    settings = Settings.make(tmp_path_factory.mktemp("fc_outputs") / "home")
    pipeline.run(settings, "kz-baseline")
    _, by_year, _ = run_forecast(settings, "kz-baseline", 2028, RUNS, SEED)
    _, bt = run_backtest(settings, "kz-baseline", ["kz-naive", "kz-naive-fitted"], RUNS, SEED, [2022, 2023, 2024],
                         [1, 2])
    return settings, by_year, bt


def _rows(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_views_carry_data_cut_seed_runs_and_match_the_run(published):
    settings, by_year, bt = published
    params = _rows(settings, "SELECT parameter, estimate, std_error, data_cut, seed, runs FROM forecast_parameters "
                             "WHERE forecast_id = 'kz-baseline'")
    fit = {p["name"]: p for p in by_year.attrs["fit"]["params"]}
    assert {r[0] for r in params} == set(fit) >= {"network.lambda", "network.mu", "efficiency.drift", "fees.phi",
                                                  "price.volatility"}
    for name, est, se, cut, seed, runs in params:
        assert (est, se) == pytest.approx((fit[name]["value"], fit[name]["se"]))
        assert (str(cut), seed, runs) == ("2025-12-31", SEED, RUNS)
    tornado = _rows(settings, "SELECT assumption, p50_low_kzt, p50_high_kzt, swing_kzt, seed, runs "
                              "FROM forecast_tornado WHERE forecast_id = 'kz-baseline'")
    assert len(tornado) == 5 and all(r[3] == pytest.approx(abs(r[2] - r[1])) and r[4:] == (SEED, RUNS)
                                     for r in tornado)
    scores = _rows(settings, "SELECT model, measure, horizon, n, mdape_pct, coverage_pct, runs, wis FROM "
                             "forecast_backtest_scores WHERE forecast_id = 'kz-baseline'")
    want = {(r["model"], r["measure"], r["horizon"]): r for r in bt["scores"].to_dict("records")}
    assert len(scores) == len(want) > 0
    for model, measure, h, n, mdape, cov, runs, wis in scores:
        w = want[(model, measure, h)]
        assert n == w["n"] and mdape == pytest.approx(w["mdape_pct"]) and runs == RUNS
        assert wis == pytest.approx(w["wis"]) if w["wis"] == w["wis"] and w["wis"] is not None else wis is None
        assert (cov is None) == (model == "no change")
    runs_ = _rows(settings, "SELECT run_kind, data_cut, seed, runs, network_model, lag_months, smooth_months "
                            "FROM forecast_runs WHERE forecast_id = 'kz-baseline' ORDER BY started_at")
    assert [(k, str(c), s, r) for k, c, s, r, *_ in runs_] == [("forecast", "2025-12-31", SEED, RUNS),
                                                               ("backtest", "2025-12-31", SEED, RUNS)]
    assert runs_[0][4:] == ("feedback", 1, 36)  # lag and smoothing chosen by the validation on the embedded data
    rows = _rows(settings, "SELECT count(*), count(*) FILTER (WHERE inside IS NULL) FROM forecast_backtest "
                           "WHERE forecast_id = 'kz-baseline'")
    assert rows == [(len(bt["rows"]), int((bt["rows"]["model"] == "no change").sum()))]


def test_workbook_has_forecast_and_backtest_sheets(published, tmp_path):
    settings, _, _ = published
    path = write_workbook(settings, context(settings, "kz-baseline"), tmp_path, force=False)
    wb = openpyxl.load_workbook(path)
    assert {"Forecast", "Backtest"} <= set(wb.sheetnames)
    text = {n: " ".join(str(c) for row in wb[n].iter_rows(values_only=True) for c in row if c is not None)
            for n in ("Forecast", "Backtest")}
    assert "Network model parameters" in text["Forecast"] and "network.lambda" in text["Forecast"]
    assert "Tornado" in text["Forecast"] and "price_drift" in text["Forecast"]
    assert "Backtest scores" in text["Backtest"] and "kz-naive" in text["Backtest"] and "2025-12-31" in text["Backtest"]
    assert "kz-naive-fitted" in text["Backtest"]  # the baseline fitted at the origin beside constant growth


def test_report_has_backtest_and_tornado_charts(published, tmp_path):
    settings, _, _ = published
    html = write_html(settings, context(settings, "kz-baseline"), tmp_path, force=False).read_text()
    assert "Backtest: each year" in html and "Tornado: how far the median revenue" in html


def test_bad_capacity_csv_is_refused_before_anything_runs(published, tmp_path):
    settings, _, _ = published
    before = _rows(settings, "SELECT count(*) FROM runs")
    bad = tmp_path / "cap.csv"
    bad.write_text("year,capacity_mw\n2026,lots\n")
    with pytest.raises(ForecastError, match=r"cap\.csv: column 'capacity_mw': must be a number >= 0.*lots"):
        run_forecast(settings, "kz-baseline", 2028, RUNS, SEED, overrides=overrides(capacity_csv=bad))
    assert _rows(settings, "SELECT count(*) FROM runs") == before


def test_a_forecast_under_csv_paths_is_published_apart(published, tmp_path):
    settings, _, _ = published
    sql = ("SELECT year, p50_kzt FROM forecast_by_year WHERE forecast_id = '{}' AND scheme_id = 'all schemes' "
           "ORDER BY year")
    before = _rows(settings, sql.format("kz-baseline"))
    cap = tmp_path / "cap.csv"
    cap.write_text("year,capacity_mw\n2026,0\n")
    run_forecast(settings, "kz-baseline", 2028, RUNS, SEED, overrides=overrides(capacity_csv=cap))
    assert _rows(settings, sql.format("kz-baseline")) == before  # the file's own forecast is untouched
    assert [p50 for _, p50 in _rows(settings, sql.format("kz-baseline+paths"))] == [0.0, 0.0, 0.0]  # no capacity
    params = _rows(settings, "SELECT parameters->>'$.overrides.fleet.capacity_mw.path.\"2026\".value' FROM runs "
                             "WHERE scenario_id = 'forecast:kz-baseline+paths'")
    assert params == [("0.0",)]
