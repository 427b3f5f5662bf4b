"""Exports: the workbook equals the published views cell by cell, opens in LibreOffice; CSV/Parquet of every
view; the PDF report renders to non-blank pages; output paths are safe."""

from __future__ import annotations

import datetime as dt
import os
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
from minetax.errors import MinetaxError
from minetax.forecast.store import run_forecast
from minetax.outputs.export import VIEWS, context, export_views, write_workbook
from minetax.outputs.files import output_path, safe_name
from minetax.outputs.report import write_html, write_pdf
from minetax.publish.query import run_query
from minetax.tax.compare import compare

IN_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    settings = Settings.make(tmp_path_factory.mktemp("export") / "home")
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
    for sheet, _title, header_row, rows, sql_file, params in sources:
        expected = run_query(published, db.sql_text(sql_file), __import__("json").loads(params))
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
              "Forecast", "Assumptions", "Data quality", "Run and inputs", "Sources"):
        assert s in names
    assert wb["By region"].freeze_panes == "A5"  # title, note, header row frozen
    assert wb["By region"]["D4"].value == "base (kWh)"  # units in headers
    assert wb["By region"]["D5"].number_format == "#,##0"  # thousands separators
    assert ctx.run_id in path.name and "kz-baseline_vs_kz-fee-10_2021-01_2024-12" in path.name
    with zipfile.ZipFile(path) as z:
        assert sum(n.startswith("xl/charts/chart") for n in z.namelist()) == 2  # native Excel charts
    refs = [r for r in wb["Assumptions"].iter_rows(min_row=4, values_only=True) if r[0] == "kz-mining-fee"]
    assert any("Law 135-VII" in (r[8] or "") and r[7] == "enacted" for r in refs)


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
    assert col == pytest.approx(list(cli.tax_kzt), rel=1e-12)


@pytest.mark.skipif(not shutil.which("soffice") and not IN_CI, reason="LibreOffice is not installed here")
def test_workbook_opens_in_libreoffice(workbook, tmp_path):
    path, _ = workbook
    r = subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    pdf = tmp_path / path.with_suffix(".pdf").name
    assert pdf.exists() and pdf.stat().st_size > 10_000


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


def test_html_report(published, tmp_path):
    ctx = context(published, "kz-baseline", "kz-fee-10")
    text = write_html(published, ctx, tmp_path, force=False).read_text()
    assert ctx.run_id in text and "kz-fee-10" in text and text.count("<img") >= 4
    assert "Law 135-VII" in text and "Budget windows" in text and "Tax gap" in text


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
