-- model: schema (every schema, table and sequence of the warehouse)
-- grain: one row per each table's key (in the comment above the table)
-- units: in the column names
-- reads: none
-- recompute: whole (when the warehouse is opened; idempotent, CREATE ... IF NOT EXISTS)
-- params: none
-- The warehouse schema: every table a run writes.
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
    status VARCHAR,            -- running | publishing | succeeded | failed | interrupted | crashed
    scenario_id VARCHAR,
    data_dir VARCHAR,
    code_version VARCHAR,
    parameters JSON,
    message VARCHAR
);

ALTER TABLE meta.runs ADD COLUMN IF NOT EXISTS periods VARCHAR;  -- months the run recomputed
ALTER TABLE meta.runs ADD COLUMN IF NOT EXISTS pid BIGINT;  -- the process that ran it

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
    status VARCHAR,            -- loaded | unchanged | duplicate (same content as another file of the run) |
                               -- quarantined | not_loaded (valid, but its run did not commit) |
                               -- not_taken (still being written: left for the next run)
    loaded_at TIMESTAMP
);

ALTER TABLE meta.inputs ADD COLUMN IF NOT EXISTS origin VARCHAR;  -- data (the data folder) | inbox (drop folder)

-- meta.changes: what each loaded file changed, for incremental recompute. month NULL = may change any month
-- (farms, fx, efficiency, shares); otherwise a month whose rows the file added or altered.
CREATE SEQUENCE IF NOT EXISTS meta.change_seq;
CREATE TABLE IF NOT EXISTS meta.changes (
    seq BIGINT DEFAULT nextval('meta.change_seq'),
    run_id VARCHAR,
    dataset VARCHAR,
    month DATE
);

-- meta.scenario_state: what a scenario's published estimates reflect: its scheme versions, the code, and the
-- last change (meta.changes.seq) taken into account.
CREATE TABLE IF NOT EXISTS meta.scenario_state (
    scenario_id VARCHAR PRIMARY KEY,
    scenario_version VARCHAR,
    code_version VARCHAR,
    change_seq BIGINT,
    updated_at TIMESTAMP
);

-- meta.model_state: what a scenario's rows in model.* were made with: model_version (a hash of the model's
-- assumptions, its switches and the code: minetax.model.run.model_version) and the last change (meta.changes.seq)
-- taken into account. Another scenario of the same model_version, with no change since, copies the rows instead of
-- remodelling the readings (sql/model/model_copy.sql).
CREATE TABLE IF NOT EXISTS meta.model_state (
    scenario_id VARCHAR PRIMARY KEY,
    model_version VARCHAR,
    change_seq BIGINT,
    updated_at TIMESTAMP
);

-- meta.backfills: progress of `minetax backfill`, one row per backfill × chunk (resumable).
CREATE TABLE IF NOT EXISTS meta.backfills (
    backfill_id VARCHAR,
    scenario_id VARCHAR,
    month_from DATE,
    month_to DATE,
    chunk_start DATE,
    chunk_end DATE,
    status VARCHAR,            -- pending | done | failed
    run_id VARCHAR,
    updated_at TIMESTAMP
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
ALTER TABLE core.farms ADD COLUMN IF NOT EXISTS taxpayer_id VARCHAR;  -- farms of one taxpayer (NULL: its own)
-- Meter readings are the one large input (100M rows and more): they stay in Parquet files ("segments": the
-- raw copy of a loaded file when it is already typed, else a typed copy), listed here. core.energy_readings
-- is a view over them (sql/core/energy_readings.sql); a reading replaced by a later file is listed in
-- core.energy_readings_replaced (key and the segment it came from) and left out of the view.
-- ts_min: first ts_start, ts_max: last ts_end of a segment; kwh: its total (for the reconciliation check).
CREATE TABLE IF NOT EXISTS core.energy_reading_segments (
    seq INTEGER PRIMARY KEY, sha256 VARCHAR, path VARCHAR, rows BIGINT, kwh DOUBLE, ts_min TIMESTAMP,
    ts_max TIMESTAMP, run_id VARCHAR, loaded_at TIMESTAMP
);
-- The readings store: every loaded readings file is written there as Parquet partitioned by farm bucket (a stable
-- hash of farm_id, modulo `buckets`) and month (minetax.load.partitions). The number of buckets is chosen from the
-- size of the first readings file and recorded here, never changed after (a farm must stay in its bucket); `store`
-- is the location (a folder or s3://bucket/prefix; NULL: MINETAX_HOME/core/energy_readings).
CREATE TABLE IF NOT EXISTS core.readings_layout (
    buckets INTEGER, store VARCHAR, rows_per_month BIGINT, rule VARCHAR, chosen_at TIMESTAMP
);
-- One row per partition file: the segment (file sha256) it came from, its bucket and month, its path relative to
-- the store, and its rows.
CREATE TABLE IF NOT EXISTS core.energy_reading_partitions (
    segment VARCHAR, bucket INTEGER, month DATE, path VARCHAR, rows BIGINT
);
CREATE TABLE IF NOT EXISTS core.energy_readings_replaced (
    farm_id VARCHAR, ts_start TIMESTAMP, segment VARCHAR, kwh DOUBLE
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
CREATE TABLE IF NOT EXISTS core.collections (
    jurisdiction VARCHAR, scheme_id VARCHAR, period_start DATE, period_end DATE, collected_kzt DOUBLE,
    source VARCHAR, PRIMARY KEY (jurisdiction, scheme_id, period_start)
);
CREATE TABLE IF NOT EXISTS core.fleet_efficiency (
    date DATE PRIMARY KEY, lower_j_per_th DOUBLE, estimated_j_per_th DOUBLE, upper_j_per_th DOUBLE,
    source VARCHAR
);

-- tax.rate_rules: scheme parameter values in force per interval, written from schemes/*.yaml.
-- Grain: scheme version × valid_from × bracket, override or exemption. Rates in the scheme's rate_unit.
CREATE TABLE IF NOT EXISTS tax.rate_rules (
    scheme_id VARCHAR,
    scheme_version VARCHAR,    -- sha256 of the scheme file (and of the reform patch applied to it)
    valid_from DATE,
    valid_to DATE,             -- exclusive; NULL = open
    kind VARCHAR,              -- bracket | override | exemption
    name VARCHAR,              -- bracket label, override or exemption name
    price_lo DOUBLE, price_lo_inclusive BOOLEAN,   -- bracket bounds on the average price, KZT/kWh
    price_hi DOUBLE, price_hi_inclusive BOOLEAN,
    when_connection VARCHAR[], when_energy_source VARCHAR[], when_metered BOOLEAN, when_licensed BOOLEAN,
    when_capacity_mw_below DOUBLE,
    rate DOUBLE,
    status VARCHAR,
    reference VARCHAR
);
-- issue 17: how an override meets the bracket (combine: replace | highest); marginal bands on the taxpayer's
-- kWh so far in the tax period (kind band); time-of-use periods (kind period: local hours 0-23, months 1-12);
-- suspension windows (kind suspension: days, regions); the scheme's readings of open points (kind reading).
ALTER TABLE tax.rate_rules ADD COLUMN IF NOT EXISTS combine VARCHAR;
ALTER TABLE tax.rate_rules ADD COLUMN IF NOT EXISTS volume_lo_kwh DOUBLE;
ALTER TABLE tax.rate_rules ADD COLUMN IF NOT EXISTS volume_hi_kwh DOUBLE;
ALTER TABLE tax.rate_rules ADD COLUMN IF NOT EXISTS when_hours INTEGER[];
ALTER TABLE tax.rate_rules ADD COLUMN IF NOT EXISTS when_months INTEGER[];
ALTER TABLE tax.rate_rules ADD COLUMN IF NOT EXISTS window_from DATE;
ALTER TABLE tax.rate_rules ADD COLUMN IF NOT EXISTS window_to DATE;
ALTER TABLE tax.rate_rules ADD COLUMN IF NOT EXISTS when_region VARCHAR[];
ALTER TABLE tax.rate_rules ADD COLUMN IF NOT EXISTS reading_choice VARCHAR;

-- model.farm_month: scenario × farm × calendar month (see sql/model/farm_month.sql). *_low/*_high: the
-- band where an input is estimated (unmetered energy, implied hashrate); equal to central where measured.
CREATE TABLE IF NOT EXISTS model.farm_month (
    run_id VARCHAR, scenario_id VARCHAR, farm_id VARCHAR, month DATE, region VARCHAR, metered BOOLEAN,
    energy_kwh DOUBLE, energy_low_kwh DOUBLE, energy_high_kwh DOUBLE,
    avg_price_kzt_per_kwh DOUBLE,
    electricity_cost_kzt DOUBLE, electricity_cost_low_kzt DOUBLE, electricity_cost_high_kzt DOUBLE,
    hashrate_ths DOUBLE, hashrate_low_ths DOUBLE, hashrate_high_ths DOUBLE, hashrate_source VARCHAR,
    btc_mined DOUBLE, btc_mined_low DOUBLE, btc_mined_high DOUBLE,
    mined_value_usd DOUBLE, mined_value_kzt DOUBLE, mined_value_low_kzt DOUBLE, mined_value_high_kzt DOUBLE,
    PRIMARY KEY (scenario_id, farm_id, month)
);

-- model.farm_month_hour: scenario × farm × month × local hour of the day 0-23 (sql/model/farm_month_hour.sql);
-- model.farm_day_energy: scenario × farm × day. kWh and KZT from the readings, for time-of-use and suspensions.
CREATE TABLE IF NOT EXISTS model.farm_month_hour (
    run_id VARCHAR, scenario_id VARCHAR, farm_id VARCHAR, month DATE, hour INTEGER, energy_kwh DOUBLE,
    cost_kzt DOUBLE, PRIMARY KEY (scenario_id, farm_id, month, hour)
);
CREATE TABLE IF NOT EXISTS model.farm_day_energy (
    run_id VARCHAR, scenario_id VARCHAR, farm_id VARCHAR, day DATE, energy_kwh DOUBLE, cost_kzt DOUBLE,
    PRIMARY KEY (scenario_id, farm_id, day)
);

-- model.country_month: top-down, scenario × country × month (sql/model/country_month.sql). 'World' = the
-- whole network. Energy from hashrate × fleet efficiency bounds × PUE; kWh per month.
CREATE TABLE IF NOT EXISTS model.country_month (
    run_id VARCHAR, scenario_id VARCHAR, country VARCHAR, month DATE,
    share_low DOUBLE, share DOUBLE, share_high DOUBLE, share_source VARCHAR,
    network_hashrate_ths DOUBLE, hashrate_ths DOUBLE,
    energy_low_kwh DOUBLE, energy_kwh DOUBLE, energy_high_kwh DOUBLE,
    avg_price_kzt_per_kwh DOUBLE,          -- proxy: kWh-weighted average price of the metered farms that month
    btc_mined DOUBLE, mined_value_usd DOUBLE, mined_value_kzt DOUBLE,
    PRIMARY KEY (scenario_id, country, month)
);

-- tax.estimates_month: scenario × scheme × farm × month. The month's base at the rate in force on its first
-- day; for per-kWh-by-price the average price of the whole tax period; for income tax the period's tax
-- (floored at 0) allocated to its months in proportion to their positive profit.
CREATE TABLE IF NOT EXISTS tax.estimates_month (
    run_id VARCHAR, scenario_id VARCHAR, scheme_id VARCHAR, scheme_version VARCHAR, family VARCHAR,
    farm_id VARCHAR, month DATE, period_start DATE, period_end DATE,
    base_kwh DOUBLE, base_name VARCHAR, base_amount DOUBLE, base_unit VARCHAR,
    avg_price_kzt_per_kwh DOUBLE, rate DOUBLE, rate_unit VARCHAR, fx_rate DOUBLE,
    rate_basis VARCHAR, rate_status VARCHAR,
    tax_low_kzt DOUBLE, tax_kzt DOUBLE, tax_high_kzt DOUBLE, tax_dynamic_kzt DOUBLE,
    PRIMARY KEY (scenario_id, scheme_id, farm_id, month)
);

-- tax.estimates: scenario × scheme × farm × tax period (the published contract). fx_rate converts a rate in
-- another currency to KZT (1 for KZT); tax_dynamic_kzt is the estimate with behavioural response (NULL = off).
CREATE TABLE IF NOT EXISTS tax.estimates (
    run_id VARCHAR, scenario_id VARCHAR, scheme_id VARCHAR, scheme_version VARCHAR, family VARCHAR,
    farm_id VARCHAR, period_start DATE, period_end DATE,
    base_kwh DOUBLE, base_name VARCHAR, base_amount DOUBLE, base_unit VARCHAR,
    avg_price_kzt_per_kwh DOUBLE, rate DOUBLE, rate_unit VARCHAR, fx_rate DOUBLE,
    rate_basis VARCHAR, rate_status VARCHAR,
    tax_low_kzt DOUBLE, tax_kzt DOUBLE, tax_high_kzt DOUBLE, tax_dynamic_kzt DOUBLE, operating_dynamic BOOLEAN,
    PRIMARY KEY (scenario_id, scheme_id, farm_id, period_start)
);

-- tax.estimates_country: top-down, scenario × scheme × country × tax period, low/central/high.
CREATE TABLE IF NOT EXISTS tax.estimates_country (
    run_id VARCHAR, scenario_id VARCHAR, scheme_id VARCHAR, scheme_version VARCHAR, family VARCHAR,
    country VARCHAR, period_start DATE, period_end DATE,
    energy_low_kwh DOUBLE, energy_kwh DOUBLE, energy_high_kwh DOUBLE, base_name VARCHAR,
    base_low DOUBLE, base_amount DOUBLE, base_high DOUBLE, base_unit VARCHAR,
    avg_price_kzt_per_kwh DOUBLE, rate DOUBLE, rate_unit VARCHAR, fx_rate DOUBLE, rate_basis VARCHAR,
    tax_low_kzt DOUBLE, tax_kzt DOUBLE, tax_high_kzt DOUBLE, tax_dynamic_kzt DOUBLE,
    PRIMARY KEY (scenario_id, scheme_id, country, period_start)
);
-- issue 17, suspension windows: the kWh on days inside a window (readings where mining was banned) and the tax on
-- them (the revenue lost to the ban where it is obeyed). Added at the end of the estimate tables.
ALTER TABLE tax.estimates_month ADD COLUMN IF NOT EXISTS suspended_kwh DOUBLE;
ALTER TABLE tax.estimates_month ADD COLUMN IF NOT EXISTS tax_suspended_kzt DOUBLE;
ALTER TABLE tax.estimates ADD COLUMN IF NOT EXISTS suspended_kwh DOUBLE;
ALTER TABLE tax.estimates ADD COLUMN IF NOT EXISTS tax_suspended_kzt DOUBLE;
ALTER TABLE tax.estimates_country ADD COLUMN IF NOT EXISTS suspended_kwh DOUBLE;
ALTER TABLE tax.estimates_country ADD COLUMN IF NOT EXISTS tax_suspended_kzt DOUBLE;

-- tax.forecast_by_year: Monte Carlo revenue forecast per forecast × scheme × year ('all schemes' = their sum);
-- kind 'revenue', 'difference' (forecast minus compared_with, draw by draw with the same random paths) or
-- 'lost_to_suspension' (the tax suspension windows' days would have paid, had the fleet mined them). KZT.
CREATE TABLE IF NOT EXISTS tax.forecast_by_year (
    run_id VARCHAR, forecast_id VARCHAR, kind VARCHAR, compared_with VARCHAR, scheme_id VARCHAR, year INTEGER,
    p10_kzt DOUBLE, p50_kzt DOUBLE, p90_kzt DOUBLE, mean_kzt DOUBLE, runs INTEGER, seed BIGINT
);

-- tax.forecast_budget_window: 1, 3 and 5-year totals of a forecast, summed per draw, then summarised. KZT.
CREATE TABLE IF NOT EXISTS tax.forecast_budget_window (
    run_id VARCHAR, forecast_id VARCHAR, kind VARCHAR, compared_with VARCHAR, scheme_id VARCHAR,
    window_years INTEGER, first_year INTEGER, last_year INTEGER,
    p10_kzt DOUBLE, p50_kzt DOUBLE, p90_kzt DOUBLE, mean_kzt DOUBLE, runs INTEGER, seed BIGINT
);

-- tax.comparison: baseline vs reform scenario × scheme × year × region (sql/tax/comparison.sql). KZT.
CREATE TABLE IF NOT EXISTS tax.comparison (
    baseline_scenario VARCHAR, reform_scenario VARCHAR, scheme_id VARCHAR, year INTEGER, region VARCHAR,
    tax_baseline_kzt DOUBLE, tax_reform_kzt DOUBLE, difference_kzt DOUBLE,
    difference_low_kzt DOUBLE, difference_high_kzt DOUBLE, compared_at TIMESTAMP
);

-- tax.budget_windows: 1, 3 and 5-year totals of a comparison from the first year the reform differs.
CREATE TABLE IF NOT EXISTS tax.budget_windows (
    baseline_scenario VARCHAR, reform_scenario VARCHAR, scheme_id VARCHAR, window_years INTEGER,
    first_year INTEGER, last_year INTEGER, years_covered INTEGER,
    tax_baseline_kzt DOUBLE, tax_reform_kzt DOUBLE, difference_kzt DOUBLE, compared_at TIMESTAMP
);
