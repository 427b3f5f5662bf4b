-- Warehouse schema: every table a run writes. Idempotent (CREATE ... IF NOT EXISTS).
-- Grains and units are in the comments; units are in the column names.
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS model;
CREATE SCHEMA IF NOT EXISTS tax;

-- meta.runs: one row per run.
CREATE TABLE IF NOT EXISTS meta.runs (
    run_id VARCHAR PRIMARY KEY,
    flow_run_id VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    status VARCHAR,            -- running | succeeded | failed
    scenario_id VARCHAR,
    data_dir VARCHAR,
    code_version VARCHAR,
    parameters JSON,
    message VARCHAR
);

-- meta.inputs: one row per run × input file. The raw file itself is kept, content-addressed,
-- at stored_path (MINETAX_HOME/raw/<dataset>/<sha256>.<ext>).
CREATE TABLE IF NOT EXISTS meta.inputs (
    run_id VARCHAR,
    dataset VARCHAR,
    file_name VARCHAR,
    source_path VARCHAR,
    stored_path VARCHAR,
    sha256 VARCHAR,
    rows BIGINT,
    status VARCHAR,            -- loaded | unchanged | quarantined | not_loaded (valid, but its batch was refused)
    loaded_at TIMESTAMP,
    PRIMARY KEY (run_id, dataset)
);

-- meta.validations: one row per run × suite × expectation (inputs and outputs).
CREATE TABLE IF NOT EXISTS meta.validations (
    run_id VARCHAR,
    suite VARCHAR,
    target VARCHAR,            -- file name or output table
    expectation VARCHAR,
    column_name VARCHAR,
    success BOOLEAN,
    element_count BIGINT,
    unexpected_count BIGINT,
    examples JSON,
    checked_at TIMESTAMP
);

-- meta.quarantine: one row per rejected input file; the file stays in the raw store.
CREATE TABLE IF NOT EXISTS meta.quarantine (
    run_id VARCHAR,
    dataset VARCHAR,
    file_name VARCHAR,
    sha256 VARCHAR,
    stored_path VARCHAR,
    failed_rules JSON,
    quarantined_at TIMESTAMP
);

-- meta.scheme_versions: the scheme and scenario files a run used (sha256 of the file = version).
CREATE TABLE IF NOT EXISTS meta.scheme_versions (
    run_id VARCHAR,
    kind VARCHAR,              -- scheme | scenario
    id VARCHAR,
    file_name VARCHAR,
    sha256 VARCHAR,
    PRIMARY KEY (run_id, kind, id)
);

-- core.*: typed, one row per natural key; merged idempotently from validated inputs.
CREATE TABLE IF NOT EXISTS core.farms (
    farm_id VARCHAR PRIMARY KEY, name VARCHAR, region VARCHAR, energy_source VARCHAR,
    connection VARCHAR, metered BOOLEAN, licensed BOOLEAN, capacity_mw DOUBLE,
    commissioned_on DATE, decommissioned_on DATE
);
CREATE TABLE IF NOT EXISTS core.energy_readings (
    farm_id VARCHAR, ts_start TIMESTAMP, ts_end TIMESTAMP, kwh DOUBLE, price_kzt_per_kwh DOUBLE,
    PRIMARY KEY (farm_id, ts_start)
);
CREATE TABLE IF NOT EXISTS core.farm_hashrate (
    farm_id VARCHAR, date DATE, hashrate_ths DOUBLE, PRIMARY KEY (farm_id, date)
);
CREATE TABLE IF NOT EXISTS core.network_daily (
    date DATE PRIMARY KEY, hashrate_ths DOUBLE, difficulty DOUBLE, blocks DOUBLE,
    subsidy_btc DOUBLE, fees_btc DOUBLE, fees_source VARCHAR, price_usd DOUBLE
);
CREATE TABLE IF NOT EXISTS core.fx (
    pair VARCHAR, date DATE, rate DOUBLE, source VARCHAR, PRIMARY KEY (pair, date)
);
CREATE TABLE IF NOT EXISTS core.country_share (
    country VARCHAR, month DATE, share DOUBLE, source VARCHAR, PRIMARY KEY (country, month)
);
CREATE TABLE IF NOT EXISTS core.fleet_efficiency (
    date DATE PRIMARY KEY, lower_j_per_th DOUBLE, estimated_j_per_th DOUBLE, upper_j_per_th DOUBLE,
    source VARCHAR
);

-- tax.rate_rules: scheme parameter values in force per interval, written from schemes/*.yaml.
-- Grain: scheme × parameter version × valid_from × bracket or override. Rates in rate_unit.
CREATE TABLE IF NOT EXISTS tax.rate_rules (
    scheme_id VARCHAR,
    scheme_version VARCHAR,    -- sha256 of the scheme file (after any reform patch)
    valid_from DATE,
    valid_to DATE,             -- exclusive; NULL = open
    kind VARCHAR,              -- bracket | override
    name VARCHAR,              -- bracket label or override name
    price_lo DOUBLE, price_lo_inclusive BOOLEAN,   -- bracket bounds on the average price, KZT/kWh
    price_hi DOUBLE, price_hi_inclusive BOOLEAN,
    when_connection VARCHAR[], when_energy_source VARCHAR[], when_metered BOOLEAN,
    rate DOUBLE,
    status VARCHAR,
    reference VARCHAR
);

-- model.farm_month: farm × calendar month (see sql/model_farm_month.sql).
CREATE TABLE IF NOT EXISTS model.farm_month (
    run_id VARCHAR, scenario_id VARCHAR, farm_id VARCHAR, month DATE, region VARCHAR,
    energy_kwh DOUBLE, avg_price_kzt_per_kwh DOUBLE, electricity_cost_kzt DOUBLE,
    hashrate_ths DOUBLE, hashrate_low_ths DOUBLE, hashrate_high_ths DOUBLE, hashrate_source VARCHAR,
    btc_mined DOUBLE, btc_mined_low DOUBLE, btc_mined_high DOUBLE,
    mined_value_usd DOUBLE, mined_value_kzt DOUBLE,
    PRIMARY KEY (scenario_id, farm_id, month)
);

-- tax.estimates_month: scenario × scheme × farm × month: the month's kWh at the rate of its tax period.
CREATE TABLE IF NOT EXISTS tax.estimates_month (
    run_id VARCHAR, scenario_id VARCHAR, scheme_id VARCHAR, scheme_version VARCHAR, farm_id VARCHAR,
    month DATE, period_start DATE, period_end DATE, base_kwh DOUBLE, avg_price_kzt_per_kwh DOUBLE,
    rate DOUBLE, rate_unit VARCHAR, rate_basis VARCHAR, rate_status VARCHAR, tax_kzt DOUBLE,
    PRIMARY KEY (scenario_id, scheme_id, farm_id, month)
);

-- tax.estimates: scenario × scheme × farm × tax period (the published contract).
CREATE TABLE IF NOT EXISTS tax.estimates (
    run_id VARCHAR, scenario_id VARCHAR, scheme_id VARCHAR, scheme_version VARCHAR, farm_id VARCHAR,
    period_start DATE, period_end DATE, base_kwh DOUBLE, avg_price_kzt_per_kwh DOUBLE,
    rate DOUBLE, rate_unit VARCHAR, rate_basis VARCHAR, rate_status VARCHAR, tax_kzt DOUBLE,
    PRIMARY KEY (scenario_id, scheme_id, farm_id, period_start)
);
