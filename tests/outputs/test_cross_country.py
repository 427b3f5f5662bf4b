"""Cross-country comparison (issue 17): `minetax compare` with several scenarios, the published view cross_country,
the workbook's Cross-country sheet and the report's chart, on a one-farm case computed by hand.

The case: farm F1 uses 1,000 kWh a month in 2023 at 10 KZT/kWh (12,000 kWh, 120,000 KZT), reports 1,000 TH/s every
day on a network of 1,000,000 TH/s paying 900 + 100 BTC a day at 20,000 USD, USD/KZT 500: it mines 1 BTC a day,
10,000,000 KZT of value a day, 3,650,000,000 KZT in 2023.
- kz-baseline: fee 25 KZT/kWh (average price 10 <= 10) = 300,000; CIT 20% x (3,650,000,000 - 120,000) =
  729,976,000; total 730,276,000 KZT.
- py-ande-tariff (ANDE's 0.052 USD/kWh as of 2024-01-01): 12,000 x 0.052 x 500 = 312,000 KZT (26,000 KZT/MWh).
- us-dame (2023: 20% of the electricity cost): 24,000 KZT (2,000 KZT/MWh).
"""

from __future__ import annotations

import subprocess
import sys

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from minetax.cli.app import app
from minetax.config import Settings
from minetax.outputs import cross_country
from minetax.outputs.export import context
from minetax.outputs.report import _data, charts
from minetax.outputs.workbook import write_workbook
from minetax.publish.query import open_snapshot
from tests.conftest import make_data_dir, write_csv

MONTHS = [f"2023-{m:02d}" for m in range(1, 13)]
VALUE = 365 * 10_000_000
EXPECTED = {"kz-baseline": 730_276_000, "py-ande-tariff": 312_000, "us-dame": 24_000}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    base = tmp_path_factory.mktemp("cross_country")
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range("2023-01-01", "2023-12-31")]
    data = make_data_dir(base / "data", {"F1": ["coal", "grid", True, "2022-01-01", None]},
                         [["F1", m, 1000, 10] for m in MONTHS], [["F1", d, 1000] for d in days])
    write_csv(data / "reference" / "network_daily.csv",
              ["date", "hashrate_ths", "difficulty", "blocks", "subsidy_btc", "fees_btc", "fees_source", "price_usd"],
              [[d, 1_000_000, "", "", 900, 100, "test", 20_000] for d in days])
    write_csv(data / "reference" / "fx.csv", ["pair", "date", "rate", "source"],
              [["USD/KZT", "2022-01-01", 500, "test"]])
    home = base / "home"
    result = CliRunner().invoke(app, ["compare", "kz-baseline", "py-ande-tariff", "us-dame", "--home", str(home),
                                      "--data-dir", str(data)], env={"COLUMNS": "200"})
    return Settings.make(home, data), result


def test_compare_prints_every_scenario_side_by_side(compared):
    _, result = compared
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Side by side on the same farms, 2023–2023" in out
    assert "730,276,000" in out and "312,000" in out and "24,000" in out
    assert "-729,964,000" in out  # py-ande-tariff vs kz-baseline
    assert "26,000.00" in out and "2,000.00" in out  # KZT per MWh


def test_published_view_by_hand(compared):
    settings, _ = compared
    with open_snapshot(settings) as con:
        rows = con.execute("SELECT scenario_id, year, farms, energy_mwh, mined_value_kzt, tax_kzt, tax_per_mwh_kzt, "
                           "share_of_mined_value, weakest_status FROM cross_country WHERE scope = 'farms'").fetchall()
        scopes = {r[0] for r in con.execute("SELECT DISTINCT scope FROM cross_country").fetchall()}
    got = {r[0]: r for r in rows}
    assert set(got) == set(EXPECTED)
    for scenario, tax in EXPECTED.items():
        _, year, farms, mwh, value, t, per_mwh, share, _ = got[scenario]
        assert (year, farms, mwh) == (2023, 1, pytest.approx(12))
        assert value == pytest.approx(VALUE) and t == pytest.approx(tax)
        assert per_mwh == pytest.approx(tax / 12) and share == pytest.approx(tax / VALUE)
    assert got["py-ande-tariff"][8] == "reported" and got["us-dame"][8] == "proposed"
    assert got["kz-baseline"][8] == "unverified"  # the 2023 brackets are unverified (POLICY.md)
    assert "farms" in scopes and any(s.startswith("country: ") for s in scopes)


def test_totals_over_common_years(compared):
    settings, _ = compared
    totals, rows = cross_country.compare(settings, ["us-dame", "kz-baseline"])
    assert list(totals.scenario_id) == ["us-dame", "kz-baseline"]  # in the order asked
    assert totals.tax_kzt.tolist() == pytest.approx([24_000, 730_276_000])
    assert totals.tax_per_mwh_kzt.tolist() == pytest.approx([2_000, 730_276_000 / 12])
    assert set(rows.scenario_id) == {"us-dame", "kz-baseline"}


def test_workbook_sheet_and_report_chart(compared, tmp_path):
    settings, _ = compared
    ctx = context(settings, "kz-baseline")
    path = write_workbook(settings, ctx, tmp_path, force=False)
    ws = openpyxl.load_workbook(path, data_only=True)["Cross-country"]
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = [v for row in values for v in row if v is not None]
    assert "kz-baseline" in flat and "py-ande-tariff" in flat and "us-dame" in flat
    assert pytest.approx(312_000) in [v for v in flat if isinstance(v, float | int)]
    figures = charts(ctx, _data(settings, ctx))
    captions = [c for c, _ in figures]
    assert any(c.startswith("Cross-country: what each scenario's regime collects") for c in captions), captions


@pytest.mark.parametrize("args, message", [
    (["compare", "kz-baseline", "kz-baseline"], "a scenario is named twice"),
    (["compare", "kz-baseline", "xx-nowhere"], "unknown scenario 'xx-nowhere'"),
])
def test_bad_compare_refused_without_traceback(compared, args, message):
    settings, _ = compared
    r = subprocess.run([sys.executable, "-m", "minetax.cli", *args, "--home", str(settings.home), "--data-dir",
                        str(settings.data_dir)], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    assert message in r.stdout + r.stderr, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
