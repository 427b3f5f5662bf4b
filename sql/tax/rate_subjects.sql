-- model: rate_subjects
-- grain: scenario × subject × month
-- units: avg_price_kzt_per_kwh in KZT/kWh; capacity_mw in MW
-- reads: none
-- recompute: per scheme (every run)
-- params: none
-- The subjects the law is applied to (read by rate_in_force.sql): an empty temp table, filled by
-- rate_subjects_farm.sql and rate_subjects_country.sql in a run, by minetax.tax.rates for the forecast's fleet.
-- subject_kind: 'farm', 'country' (top-down) or 'fleet' (forecast). avg_price_kzt_per_kwh: the subject's
-- kWh-weighted average price over the whole tax period containing `month`, NOT rounded (rate_in_force rounds
-- it to the scheme's $price_decimals); NULL where the period has no consumption at a known price.
-- categories_known: whether the category columns describe the subject; where false (the top-down country)
-- no override or exemption can apply, only the price brackets.
-- Issue 17: region (suspension windows); taxpayer_id, volume_before_kwh (the taxpayer's kWh in the tax period
-- before `month`) and volume_kwh (its kWh in `month`) for marginal bands (NULL: 'no volume'); hour_kwh (kWh by
-- local hour of the day, 24 values; NULL: a flat load) for time-of-use periods; day_kwh (kWh by day of the month;
-- NULL: flat over the month's days) for suspension windows.
CREATE OR REPLACE TEMP TABLE rate_subjects (
    scenario_id VARCHAR,
    subject_kind VARCHAR,
    subject_id VARCHAR,
    month DATE,
    period_start DATE,
    avg_price_kzt_per_kwh DOUBLE,
    connection VARCHAR,
    energy_source VARCHAR,
    metered BOOLEAN,
    licensed BOOLEAN,
    capacity_mw DOUBLE,
    categories_known BOOLEAN,
    region VARCHAR,
    taxpayer_id VARCHAR,
    volume_before_kwh DOUBLE,
    volume_kwh DOUBLE,
    hour_kwh DOUBLE[],
    day_kwh DOUBLE[]
);
