"""Exports: the workbook equals the published views cell by cell, with total rows, rates and assumptions, one
number format, and opens in LibreOffice with nothing clipped; CSV/Parquet of every view (and of a comparison); the
PDF report renders to non-blank pages with every word inside the page; output paths are safe."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import duckdb
import openpyxl
import pandas as pd
import pytest

from minetax import db, pipeline
from minetax.config import Settings
from minetax.errors import InputError, MinetaxError
from minetax.forecast.store import run_forecast
from minetax.outputs.export import VIEWS, context, export_views
from minetax.outputs.files import output_path, safe_name
from minetax.outputs.report import write_html, write_pdf
from minetax.outputs.workbook import write_workbook
from minetax.publish.query import run_query
from minetax.tax.compare import compare

IN_CI = bool(os.environ.get("CI"))
# a number shown badly: -0 or -0.00, NaN, or 0.0000
BAD_NUMBER = re.compile(r"(?<![\w.:-])-0(?:\.0+)?(?![\d.,])|\bNaN\b|\bnan\b|(?<![\d,])0\.0000\b")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    home = tmp_path_factory.mktemp("export") / "home"
    bad = tmp_path_factory.mktemp("bad_data")
    shutil.copytree(Settings.make(home).data_dir, bad, dirs_exist_ok=True)
    farms = bad / "sample" / "farms.csv"
    lines = farms.read_text().splitlines()
    lines[1] = lines[1].replace(",40,", ",-5,", 1)  # first farm: a negative capacity, refused
    farms.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError):
        pipeline.run(Settings.make(home, data_dir=bad), "kz-baseline")
    settings = Settings.make(home)
    pipeline.run(settings, "kz-baseline")
    pipeline.run(settings, "kz-fee-10")
    compare(settings, "kz-baseline", "kz-fee-10")
    run_forecast(settings, "kz-baseline", 2028, 200, 7)
    return settings


@pytest.fixture(scope="module")
def workbook(published, tmp_path_factory):
    ctx = context(published, "kz-baseline", "kz-fee-10")
    return write_workbook(published, ctx, tmp_path_factory.mktemp("out"), force=False), ctx


def _cell_equal(cell, value) -> bool:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value) or value is pd.NaT:
        return cell is None
    if isinstance(value, pd.Timestamp | dt.date):
        return cell == pd.Timestamp(value).to_pydatetime()
    if isinstance(value, bool):
        return cell is value
    if isinstance(value, int | float):
        return float(cell) == float(value)  # exact: the workbook stores the view's double
    return cell == str(value)


def test_workbook_equals_the_published_views_cell_by_cell(published, workbook):
    path, ctx = workbook
    wb = openpyxl.load_workbook(path, data_only=True)
    sources = list(wb["Sources"].iter_rows(min_row=4, values_only=True))
    assert len(sources) >= 12
    checked = 0
    for sheet, _title, header_row, rows, _total, sql_file, params in sources:
        expected = run_query(published, db.sql_text(sql_file), json.loads(params))
        assert len(expected) == rows
        ws = wb[sheet]
        for i, rec in enumerate(expected.itertuples(index=False), start=header_row + 1):
            for j, v in enumerate(rec, start=1):
                got = ws.cell(row=i, column=j).value
                assert _cell_equal(got, v), f"{sheet}!{ws.cell(row=i, column=j).coordinate}: {got!r} != {v!r}"
                checked += 1
    assert checked > 1000
    names = wb.sheetnames
    for s in ("Summary", "2021", "2024", "By region", "By farm", "By scheme", "Baseline vs reform", "Budget windows",
              "Forecast", "Rates", "Assumptions", "Data quality", "Run and inputs", "Sources"):
        assert s in names
    assert wb["By region"].freeze_panes == "A5"  # title, note, header row frozen
    assert wb["By region"]["D4"].value == "base (kWh)"  # units in headers
    assert wb["By region"]["D5"].number_format == "#,##0"  # thousands separators
    assert ctx.run_id in path.name and "kz-baseline_vs_kz-fee-10_2021-01_2024-12" in path.name
    with zipfile.ZipFile(path) as z:
        assert sum(n.startswith("xl/charts/chart") for n in z.namelist()) == 2  # native Excel charts


def _table(ws, title_part: str) -> tuple[int, list[tuple]]:
    """The header row number and the rows of the table whose title contains title_part (up to a blank row)."""
    cells = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(cells) if isinstance(r[0], str) and title_part in r[0])
    rows = []
    for r in cells[start + 2:]:
        if all(v is None for v in r):
            break
        rows.append(r)
    return start + 2, rows


def test_rates_and_assumptions_are_tables_with_units_and_references(workbook):
    path, _ = workbook
    wb = openpyxl.load_workbook(path)
    header_row, rates = _table(wb["Rates"], "Rates of kz-baseline")
    ws = wb["Rates"]
    assert [c.value for c in ws[header_row]][:10] == ["scheme id", "valid from", "valid until", "kind", "applies to",
                                                      "rate", "rate unit", "status", "reference title",
                                                      "reference url"]
    fee = [r for r in rates if r[0] == "kz-mining-fee"]
    assert any("Law 135-VII" in (r[8] or "") and r[7] == "enacted" for r in fee)
    assert all((r[9] or "").startswith("https://") for r in rates)
    cit = next(i for i, r in enumerate(rates) if r[0] == "kz-cit")
    assert ws.cell(row=header_row + 1 + cit, column=6).number_format == "0.0%"  # CIT 20% as a percentage
    flat = next(i for i, r in enumerate(rates) if r[0] == "kz-mining-fee" and r[5] == 2.0)
    assert ws.cell(row=header_row + 1 + flat, column=6).number_format == '#,##0.00 "KZT/kWh"'
    assert ws.cell(row=header_row + 1 + cit, column=10).hyperlink is not None
    _, reform = _table(ws, "Rates of the reform kz-fee-10")
    assert any(r[5] == 10.0 and r[7] == "proposed" and r[10] == "reform" and "astanatimes" in r[9] for r in reform)
    assert any(r[10] == "as baseline" for r in reform)
    head, assumptions = _table(wb["Assumptions"], "Model assumptions of kz-baseline")
    by_name = {r[0]: r for r in assumptions}
    assert by_name["pue"][2:5] == (1.01, 1.1, 1.2) and by_name["unmetered_energy_band"][2:5] == (0.8, 1.0, 1.1)
    assert by_name["efficiency"][6] == "estimated" and by_name["fx_pair"][6] == "USD/KZT"
    assert by_name["behaviour"][6] == "off" and by_name["btc_price_multiplier"][3] == 1.0
    shares = [(i, r) for i, r in enumerate(assumptions) if r[0] == "hashrate_share" and r[1] is not None]
    assert len(shares) >= 4 and any(r[3] == 0.05 and "2023" in (r[7] or "") for _, r in shares)
    assert wb["Assumptions"].cell(row=head + 1 + shares[-1][0], column=4).number_format == "0.0%"
    assert _table(wb["Assumptions"], "Model assumptions of the reform kz-fee-10")[1]


def test_total_rows_are_sums_of_the_rows_above(workbook):
    path, _ = workbook
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    sources = list(values["Sources"].iter_rows(min_row=4, values_only=True))
    totals = {(s[0], s[4]) for s in sources if s[4]}
    for sheet in ("Summary", "2023", "By region", "By scheme", "Baseline vs reform"):
        assert any(t[0] == sheet for t in totals), f"{sheet} has no total row"
    for sheet, _title, header_row, rows, total_row, _sql, _params in sources:
        if not total_row:
            continue
        ws, wv = formulas[sheet], values[sheet]
        assert ws.cell(row=total_row, column=1).value == "Total" and total_row == header_row + rows + 1
        for j, head in enumerate(ws[header_row], start=1):
            cell = ws.cell(row=total_row, column=j)
            if head.value and head.value.endswith(("(KZT)", "(kWh)")):
                assert cell.value.startswith("=SUM("), f"{sheet}!{cell.coordinate}"
                column = [wv.cell(row=i, column=j).value or 0 for i in range(header_row + 1, total_row)]
                assert wv.cell(row=total_row, column=j).value == pytest.approx(sum(column), abs=0.01)
    ws = formulas["Baseline vs reform"]
    total_row = next(s[4] for s in sources if s[0] == "Baseline vs reform")
    assert ws.cell(row=total_row, column=5).number_format == "+#,##0;-#,##0;0"  # a difference with its sign


def test_data_quality_is_readable(workbook):
    path, _ = workbook
    ws = openpyxl.load_workbook(path, data_only=True)["Data quality"]
    _, suites = _table(ws, "Validation of the runs behind these estimates")
    assert suites and {r[3] for r in suites} == {"passed"} and any(r[1] == "input.farms" for r in suites)
    assert all(isinstance(r[4], int | float) and r[4] > 0 for r in suites)  # rules counted
    _, refused = _table(ws, "Input files refused by runs")
    capacity = next(r for r in refused if r[4] == "capacity_mw")
    assert capacity[6] == 1 and "capacity_mw=-5" in capacity[7] and capacity[3] == "farms.csv"
    _, rules = _table(ws, "Every rule checked")
    assert {r[4] for r in rules} == {"passed"} and all(r[3] and not r[3].startswith("expect_") for r in rules)


def test_sql_param_reproduces_a_sheet(published, workbook):
    """The Sources sheet's recipe works from the command line: minetax sql -f … --param …"""
    path, _ = workbook
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "sql", "-f", "sql/export/by_scheme.sql", "--param",
                        "scenario_id=kz-baseline", "--format", "csv", "--home", str(published.home)],
                       capture_output=True, text=True, cwd=db.SQL_DIR.parent, timeout=120)
    assert r.returncode == 0, r.stderr
    from io import StringIO

    cli = pd.read_csv(StringIO(r.stdout))
    ws = openpyxl.load_workbook(path, data_only=True)["By scheme"]
    col = [ws.cell(row=i, column=7).value for i in range(5, 5 + len(cli))]
    assert ws.cell(row=5 + len(cli), column=1).value == "Total"
    assert col == pytest.approx(list(cli.tax_kzt), rel=1e-12)


@pytest.mark.skipif(not shutil.which("soffice") and not IN_CI, reason="LibreOffice is not installed here")
def test_workbook_opens_in_libreoffice(workbook, tmp_path):
    path, _ = workbook
    r = subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    pdf = tmp_path / path.with_suffix(".pdf").name
    assert pdf.exists() and pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True, timeout=120).stdout
        assert not BAD_NUMBER.findall(text), BAD_NUMBER.findall(text)[:5]
        assert "Total" in text and "KZT/kWh" in text and "20.0%" in text and "passed" in text


def _words_outside_the_page(pdf) -> list[str]:
    """Words whose box leaves the page (pdftotext -bbox): text cut at the page edge."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=120).stdout
    out = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        w, h = float(page[1]), float(page[2])
        for m in re.finditer(r'xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)<',
                             page[3]):
            x0, y0, x1, y1 = map(float, m.groups()[:4])
            if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
                out.append(m[5])
    return out


@pytest.mark.skipif(not shutil.which("pdftoppm") and not IN_CI, reason="poppler-utils is not installed here")
def test_pdf_report_pages_render_and_are_not_blank(published, tmp_path):
    from PIL import Image, ImageStat

    ctx = context(published, "kz-baseline", "kz-fee-10")
    pdf = write_pdf(published, ctx, tmp_path, force=False)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 3
    for p in pages:
        img = Image.open(p).convert("L")
        dark = sum(img.histogram()[:200]) / (img.width * img.height)
        assert dark > 0.01 and ImageStat.Stat(img).stddev[0] > 10, f"{p.name} looks blank"
    assert _words_outside_the_page(pdf) == []  # nothing clipped (the fan chart's caption was)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=120).stdout
    assert not BAD_NUMBER.findall(text), BAD_NUMBER.findall(text)[:5]
    for needle in ("Rates of kz-baseline", "Rates of the reform kz-fee-10", "Law 135-VII", "https://adilet.zan.kz/",
                   "unmetered_energy_band", "hashrate_share", "12.0%", "25.00 KZT/kWh", "Total", "suites passed",
                   "capacity_mw=-5", "Fan chart"):
        assert needle in text, needle


def test_html_report(published, tmp_path):
    ctx = context(published, "kz-baseline", "kz-fee-10")
    text = write_html(published, ctx, tmp_path, force=False).read_text()
    assert ctx.run_id in text and "kz-fee-10" in text and text.count("<img") >= 4
    assert "Law 135-VII" in text and "Budget windows" in text and "Tax gap" in text
    assert "<a href='https://adilet.zan.kz/'>" in text and "Model assumptions" in text and "<tr class=total>" in text
    assert "20.0%" in text and "passed" in text and "capacity_mw=-5" in text
    assert not BAD_NUMBER.findall(re.sub(r"<[^>]+>|data:image/png;base64,[^']+", " ", text))


def test_csv_and_parquet_of_every_view(published, tmp_path):
    csvs = export_views(published, "csv", tmp_path / "csv", "kz-baseline", force=False)
    pqs = export_views(published, "parquet", tmp_path / "pq", "kz-baseline", force=False)
    assert len(csvs) == len(pqs) == len(VIEWS)
    ctx = context(published, "kz-baseline")
    for path in csvs + pqs:
        assert path.name.startswith(path.name.split("_kz-baseline_")[0]) and ctx.tag in path.name
    est = next(p for p in pqs if p.name.startswith("estimates_kz-baseline"))
    got = duckdb.sql(f"SELECT count(*), sum(tax_kzt) FROM '{est}'").fetchall()[0]
    want = run_query(published, "SELECT count(*) AS n, sum(tax_kzt) AS t FROM estimates WHERE scenario_id = "
                                "'kz-baseline'").iloc[0]
    assert got[0] == want.n and got[1] == want.t
    rev = next(p for p in csvs if p.name.startswith("revenue_by_year_"))
    assert pd.read_csv(rev).tax_kzt.sum() == pytest.approx(run_query(
        published, "SELECT sum(tax_kzt) AS t FROM revenue_by_year WHERE scenario_id = 'kz-baseline'").t[0], rel=1e-12)
    assumptions = next(p for p in pqs if p.name.startswith("assumptions_"))
    assert duckdb.sql(f"SELECT count(*) FROM '{assumptions}' WHERE assumption = 'pue'").fetchall()[0][0] == 1
    cross = next(p for p in pqs if p.name.startswith("cross_country_kz-baseline"))  # issue 17's published views
    want = run_query(published, "SELECT count(*) AS n, sum(tax_kzt) AS t FROM cross_country WHERE scenario_id = "
                                "'kz-baseline'").iloc[0]
    assert want.n > 0 and duckdb.sql(f"SELECT count(*), sum(tax_kzt) FROM '{cross}'").fetchall()[0] == (
        want.n, pytest.approx(want.t, rel=1e-12))
    findings = next(p for p in csvs if p.name.startswith("suspension_findings_kz-baseline"))
    assert pd.read_csv(findings).columns.tolist() == run_query(published, "SELECT * FROM suspension_findings LIMIT 0"
                                                               ).columns.tolist()


def test_csv_and_parquet_with_compare(published, tmp_path):
    """--compare for csv/parquet: both scenarios' rows, the pair's comparison, and the pair in every file name."""
    pqs = export_views(published, "parquet", tmp_path, "kz-baseline", force=False, reform="kz-fee-10")
    assert len(pqs) == len(VIEWS) and all("kz-baseline_vs_kz-fee-10" in p.name for p in pqs)
    path = {p.name.split("_kz-baseline")[0]: p for p in pqs}
    pairs = duckdb.sql(f"SELECT DISTINCT baseline_scenario, reform_scenario FROM '{path['scheme_comparison']}'")
    assert pairs.fetchall() == [("kz-baseline", "kz-fee-10")]
    assert duckdb.sql(f"SELECT DISTINCT baseline_scenario, reform_scenario FROM '{path['budget_windows']}'"
                      ).fetchall() == [("kz-baseline", "kz-fee-10")]
    scenarios = duckdb.sql(f"SELECT DISTINCT scenario_id FROM '{path['estimates']}' ORDER BY 1").fetchall()
    assert scenarios == [("kz-baseline",), ("kz-fee-10",)]
    rates = duckdb.sql(f"SELECT DISTINCT scenario_id FROM '{path['rates']}' ORDER BY 1").fetchall()
    assert rates == [("kz-baseline",), ("kz-fee-10",)]
    with pytest.raises(MinetaxError, match="no published comparison"):
        export_views(published, "csv", tmp_path / "x", "kz-baseline", force=False, reform="kz-fee-5")
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "export", "--format", "csv", "--compare", "kz-fee-10",
                        "--out", str(tmp_path / "cli"), "--home", str(published.home)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert any(p.name.startswith("scheme_comparison_kz-baseline_vs_kz-fee-10") for p in (tmp_path / "cli").iterdir())


def test_no_overwrite_without_force_and_no_escape(published, tmp_path):
    ctx = context(published, "kz-baseline")
    first = write_workbook(published, ctx, tmp_path, force=False)
    with pytest.raises(MinetaxError, match="--force"):
        write_workbook(published, ctx, tmp_path, force=False)
    assert write_workbook(published, ctx, tmp_path, force=True) == first
    assert safe_name("../../etc/passwd") == "etc-passwd"
    assert safe_name("CON.xlsx") == "_CON.xlsx" and safe_name('a<b>:"|?*.csv') == "a-b-.csv"
    assert output_path(tmp_path, "../x.csv", False).parent == tmp_path.resolve()
    r = subprocess.run([sys.executable, "-m", "minetax.cli", "export", "--out", str(tmp_path), "--scenario",
                        "../../x", "--home", str(published.home)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "letters, digits" in r.stderr
    assert not any(p.suffix == ".part" for p in tmp_path.iterdir())
