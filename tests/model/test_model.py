"""The farm × month model against an independent pandas computation from the reference figures."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from minetax import pipeline
from minetax.config import Settings
from tests.conftest import REFERENCE, make_data_dir

FARMS = {"M01": ["coal", "grid", True, "2021-01-01", None], "M02": ["coal", "grid", True, "2021-01-01", None]}
READINGS = [["M01", "2023-01", 744000, 20], ["M02", "2023-01", 744000, 20]]
REPORTED_THS = 20000.0


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    base = tmp_path_factory.mktemp("model")
    hashrate = [["M02", f"2023-01-{d:02d}", REPORTED_THS] for d in range(1, 32)]
    data = make_data_dir(base / "data", FARMS, READINGS, hashrate)
    _, path = pipeline.run(Settings.make(base / "home", data), "kz-baseline")
    con = duckdb.connect(str(path), read_only=True)
    yield con.execute("SELECT * FROM farm_month WHERE month = '2023-01-01' ORDER BY farm_id").df()
    con.close()


def _network_jan_2023() -> pd.DataFrame:
    n = pd.read_csv(REFERENCE / "network_daily.csv", parse_dates=["date"])
    return n[(n.date >= "2023-01-01") & (n.date < "2023-02-01")]


def test_implied_hashrate_and_coins(model):
    eff = pd.read_csv(REFERENCE / "fleet_efficiency.csv", parse_dates=["date"]).set_index("date")
    e = eff.loc["2023-01-01"]
    fx = pd.read_csv(REFERENCE / "fx.csv", parse_dates=["date"]).set_index("date").loc["2023-01-01", "rate"]
    n = _network_jan_2023()
    day_kwh = 744000 / 31
    ths = day_kwh * 1000 / 24 / (e.estimated_j_per_th * 1.10)
    ths_low = day_kwh * 1000 / 24 / (e.upper_j_per_th * 1.20)
    ths_high = day_kwh * 1000 / 24 / (e.lower_j_per_th * 1.01)
    issuance = n.subsidy_btc + n.fees_btc
    btc = (ths / n.hashrate_ths * issuance).sum()
    usd = (ths / n.hashrate_ths * issuance * n.price_usd).sum()
    m = model.set_index("farm_id").loc["M01"]
    assert m.energy_kwh == 744000
    assert m.avg_price_kzt_per_kwh == pytest.approx(20)
    assert m.electricity_cost_kzt == pytest.approx(744000 * 20)
    assert m.hashrate_source == "implied"
    assert m.hashrate_ths == pytest.approx(ths, rel=1e-9)
    assert m.hashrate_low_ths == pytest.approx(ths_low, rel=1e-9)
    assert m.hashrate_high_ths == pytest.approx(ths_high, rel=1e-9)
    assert m.btc_mined == pytest.approx(btc, rel=1e-9)
    assert m.btc_mined_low < m.btc_mined < m.btc_mined_high
    assert m.mined_value_usd == pytest.approx(usd, rel=1e-9)
    assert m.mined_value_kzt == pytest.approx(usd * fx, rel=1e-9)


def test_reported_hashrate_is_used(model):
    n = _network_jan_2023()
    m = model.set_index("farm_id").loc["M02"]
    assert m.hashrate_source == "reported"
    assert m.hashrate_ths == pytest.approx(REPORTED_THS)
    assert m.hashrate_low_ths == m.hashrate_high_ths == pytest.approx(REPORTED_THS)  # measured: no band
    assert m.btc_mined == pytest.approx((REPORTED_THS / n.hashrate_ths * (n.subsidy_btc + n.fees_btc)).sum(),
                                        rel=1e-9)


def test_energy_by_day_spreads_readings_over_midnight_and_keeps_readings_before_1970_apart():
    """The map's partial (sql/map/partial_energy.sql) and steps 1 and 2 of sql/model/farm_month.sql (energy_agg,
    farm_day) on readings around two midnights, one of them before 1970 (where every reading takes the spreading
    path): each reading is kept or summed by day, and a reading over midnight is split by time."""
    from minetax import db

    t = pd.Timestamp
    rows = [("A1", t("1969-12-31 10:00"), t("1969-12-31 11:00"), 1.0), ("A1", t("1969-12-31 11:00"),
                                                                         t("1969-12-31 12:00"), 2.0),
            ("A1", t("1969-12-31 23:00"), t("1970-01-01 01:00"), 4.0), ("A1", t("2023-01-01 00:00"),
                                                                         t("2023-01-01 01:00"), 8.0),
            ("A1", t("2023-01-01 01:00"), t("2023-01-01 02:00"), 16.0), ("A1", t("2023-01-01 23:00"),
                                                                          t("2023-01-02 01:00"), 32.0),
            ("B1", t("2023-01-01 00:00"), t("2023-01-01 01:00"), 64.0)]
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE task_rows (farm_id VARCHAR, ts_start TIMESTAMP, ts_end TIMESTAMP, "
                "kwh DOUBLE, price_kzt_per_kwh DOUBLE)").fetchall()
    con.executemany("INSERT INTO task_rows VALUES (?, ?, ?, ?, 10)", [list(r) for r in rows])
    con.execute(f"CREATE TEMP TABLE map_partials AS {db.statement('map/partial_energy.sql')}").fetchall()
    for stmt in db.statements(db.sql_text("model/farm_month.sql"))[:2]:  # energy_agg, farm_day
        con.execute(stmt, db.bound(stmt, {"m_from": t("1969-12-01").date(), "m_to": t("2023-01-01").date()})
                    ).fetchall()
    got = con.execute("SELECT farm_id, CAST(day AS VARCHAR), energy_kwh, cost_kzt FROM farm_day ORDER BY ALL"
                      ).fetchall()
    assert got == [("A1", "1969-12-31", 5.0, 50.0), ("A1", "1970-01-01", 2.0, 20.0),
                   ("A1", "2023-01-01", 40.0, 400.0), ("A1", "2023-01-02", 16.0, 160.0),
                   ("B1", "2023-01-01", 64.0, 640.0)]
    assert con.execute("SELECT count(*) FROM energy_agg WHERE multi_start IS NOT NULL").fetchall() == [(4,)]
