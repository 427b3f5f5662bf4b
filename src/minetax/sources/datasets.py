"""The input datasets: file names, columns (type, unit), keys and an example row.

This is the single description of the input formats: loaders check files against it and the
README's input tables are checked against it by a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type after parsing
    meaning: str
    required: bool = True


@dataclass(frozen=True)
class Dataset:
    name: str  # file stem: <name>.csv | <name>.parquet
    grain: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    example: dict = field(default_factory=dict)
    optional: bool = False  # the whole file may be absent

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


ENERGY_SOURCES = ("coal", "gas", "hydro", "wind", "solar", "mixed")
CONNECTIONS = ("grid", "energy_pool", "own_generation", "off_grid")

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "farms", "farm", ("farm_id",),
        (
            Column("farm_id", "VARCHAR", "farm identifier (unique)"),
            Column("name", "VARCHAR", "farm name"),
            Column("region", "VARCHAR", "region (oblast)"),
            Column("energy_source", "VARCHAR", "one of " + ", ".join(ENERGY_SOURCES)),
            Column("connection", "VARCHAR", "one of " + ", ".join(CONNECTIONS)),
            Column("metered", "BOOLEAN", "true if a metering device records consumption"),
            Column("licensed", "BOOLEAN", "true if the farm holds a digital-mining licence"),
            Column("capacity_mw", "DOUBLE", "connected capacity, MW"),
            Column("commissioned_on", "DATE", "first day of operation"),
            Column("decommissioned_on", "DATE", "last day of operation (empty if operating)", False),
            Column("taxpayer_id", "VARCHAR", "taxpayer the farm belongs to: farms of one taxpayer are counted as one "
                   "by marginal-volume taxes (optional column; empty = the farm is its own taxpayer)", False),
        ),
        {"farm_id": "KZ-F01", "name": "Ekibastuz North", "region": "Pavlodar", "energy_source": "coal",
         "connection": "grid", "metered": "true", "licensed": "true", "capacity_mw": "40",
         "commissioned_on": "2020-06-01", "decommissioned_on": ""},
    ),
    Dataset(
        "energy_readings", "farm × interval", ("farm_id", "ts_start"),
        (
            Column("farm_id", "VARCHAR", "farm identifier (in farms)"),
            Column("ts_start", "TIMESTAMP", "interval start, local time (Asia/Almaty), inclusive"),
            Column("ts_end", "TIMESTAMP", "interval end, exclusive; 15 min to 1 month, within one month"),
            Column("kwh", "DOUBLE", "electricity used in the interval, kWh"),
            Column("price_kzt_per_kwh", "DOUBLE", "price paid for that electricity, KZT/kWh (no VAT)"),
        ),
        {"farm_id": "KZ-F01", "ts_start": "2023-01-01 00:00:00", "ts_end": "2023-01-01 01:00:00",
         "kwh": "36712", "price_kzt_per_kwh": "9.85"},
    ),
    Dataset(
        "farm_hashrate", "farm × day", ("farm_id", "date"),
        (
            Column("farm_id", "VARCHAR", "farm identifier (in farms)"),
            Column("date", "DATE", "day"),
            Column("hashrate_ths", "DOUBLE", "reported average hashrate that day, TH/s"),
        ),
        {"farm_id": "KZ-F01", "date": "2023-01-01", "hashrate_ths": "612500"},  # the farm of the farms example
        optional=True,
    ),
    Dataset(
        "network_daily", "day", ("date",),
        (
            Column("date", "DATE", "UTC day"),
            Column("hashrate_ths", "DOUBLE", "network hashrate, TH/s"),
            Column("difficulty", "DOUBLE", "mean difficulty", False),
            Column("blocks", "DOUBLE", "blocks found (estimated)", False),
            Column("subsidy_btc", "DOUBLE", "new coins issued that day, BTC"),
            Column("fees_btc", "DOUBLE", "transaction fees paid to miners that day, BTC"),
            Column("fees_source", "VARCHAR", "where fees_btc comes from ('estimated' if filled)", False),
            Column("price_usd", "DOUBLE", "BTC price (daily close), USD"),
        ),
        {"date": "2023-01-01", "hashrate_ths": "255000000", "difficulty": "35364065900457",
         "blocks": "151.2", "subsidy_btc": "945", "fees_btc": "11.9", "fees_source": "estimated",
         "price_usd": "16625.08"},
    ),
    Dataset(
        "fx", "currency pair × date", ("pair", "date"),
        (
            Column("pair", "VARCHAR", "'USD/KZT' = KZT per 1 USD"),
            Column("date", "DATE", "date from which the rate applies (until the next row)"),
            Column("rate", "DOUBLE", "units of quote currency per 1 unit of base currency"),
            Column("source", "VARCHAR", "source of the rate", False),
        ),
        {"pair": "USD/KZT", "date": "2023-01-01", "rate": "456.17",
         "source": "World Bank PA.NUS.FCRF annual average 2023"},
    ),
    Dataset(
        "country_share", "country × month", ("country", "month"),
        (
            Column("country", "VARCHAR", "country name"),
            Column("month", "DATE", "first day of the month"),
            Column("share", "DOUBLE", "share of global hashrate, fraction 0..1"),
            Column("source", "VARCHAR", "source", False),
        ),
        {"country": "Kazakhstan", "month": "2021-08-01", "share": "0.181",
         "source": "CCAF CBECI mining map"},
    ),
    Dataset(
        "fleet_efficiency", "month", ("date",),
        (
            Column("date", "DATE", "first day of the month the values apply from"),
            Column("lower_j_per_th", "DOUBLE", "best profitable hardware, J/TH"),
            Column("estimated_j_per_th", "DOUBLE", "fleet best guess, J/TH"),
            Column("upper_j_per_th", "DOUBLE", "worst profitable hardware, J/TH"),
            Column("source", "VARCHAR", "source", False),
        ),
        {"date": "2024-01-01", "lower_j_per_th": "16.0", "estimated_j_per_th": "29.8",
         "upper_j_per_th": "80.0", "source": "CCAF CBECI (monthly mean)"},
    ),
)

DATASETS = (*DATASETS, Dataset(
    "collections", "jurisdiction × scheme × tax period", ("jurisdiction", "scheme_id", "period_start"),
    (
        Column("jurisdiction", "VARCHAR", "country the tax was collected in (as in country_share, e.g. Kazakhstan)"),
        Column("scheme_id", "VARCHAR", "scheme the collections belong to (a file in schemes/)"),
        Column("period_start", "DATE", "first day of the tax period"),
        Column("period_end", "DATE", "last day of the tax period"),
        Column("collected_kzt", "DOUBLE", "tax actually collected in the period, KZT"),
        Column("source", "VARCHAR", "source of the figure", False),
    ),
    {"jurisdiction": "Kazakhstan", "scheme_id": "kz-mining-fee", "period_start": "2023-01-01",
     "period_end": "2023-03-31", "collected_kzt": "2500000000", "source": "State Revenue Committee (example)"},
    optional=True,
))

BY_NAME = {d.name: d for d in DATASETS}
