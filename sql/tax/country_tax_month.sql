-- model: country_tax_month (temp table)
-- grain: scheme × country × calendar month
-- units: energy kWh; base kWh or KZT; rate in the scheme's rate unit; tax KZT
-- reads: model.country_month, rate_in_force, period_fx
-- recompute: by tax period ($m_from..$m_to, whole periods), per scheme
-- params: $scenario_id, $scheme_id, $scheme_version, $family, $base, $tax_period, $rate_unit, $m_from, $m_to
-- tax_country: apply one scheme to the top-down country estimate, month by month, into the temp table
-- country_tax_month (grain: scheme × country × month; KZT). Bases by family as in estimates_month.sql, on
-- the country's energy low/central/high [kWh], its energy × the metered farms' average price (the price proxy)
-- [KZT], and its coins' value [KZT] scaled by the low/high share. The rate and its basis are the country's
-- rows of rate_in_force (sql/tax/rate_in_force.sql; subjects from sql/tax/rate_subjects_country.sql): only
-- the price brackets apply (the fleet's categories are unknown top-down, so no overrides or exemptions), on
-- the proxy's average over the tax period. Suspension windows as in estimates_month.sql (the country's load flat
-- over the month's days; only windows that cover every region apply top-down).
CREATE TEMP TABLE IF NOT EXISTS country_tax_month (
    scheme_id VARCHAR, scheme_version VARCHAR, family VARCHAR, country VARCHAR, month DATE,
    period_start DATE, period_end DATE, energy_low_kwh DOUBLE, energy_kwh DOUBLE, energy_high_kwh DOUBLE,
    base_name VARCHAR, base_low DOUBLE, base_amount DOUBLE, base_high DOUBLE, base_unit VARCHAR,
    avg_price_kzt_per_kwh DOUBLE, rate DOUBLE, rate_unit VARCHAR, fx_rate DOUBLE, rate_basis VARCHAR,
    tax_low_kzt DOUBLE, tax_kzt DOUBLE, tax_high_kzt DOUBLE, tax_dynamic_kzt DOUBLE, suspended_kwh DOUBLE,
    tax_suspended_kzt DOUBLE
);

DELETE FROM country_tax_month WHERE scheme_id = $scheme_id;

INSERT INTO country_tax_month (scheme_id, scheme_version, family, country, month, period_start, period_end,
                               energy_low_kwh, energy_kwh, energy_high_kwh, base_name, base_low, base_amount,
                               base_high, base_unit, avg_price_kzt_per_kwh, rate, rate_unit, fx_rate, rate_basis,
                               tax_low_kzt, tax_kzt, tax_high_kzt, tax_dynamic_kzt, suspended_kwh, tax_suspended_kzt)
WITH country_months AS (
    SELECT country_month.country, country_month.month, country_month.energy_low_kwh, country_month.energy_kwh,
           country_month.energy_high_kwh, country_month.avg_price_kzt_per_kwh AS month_price_kzt_per_kwh,
           country_month.mined_value_kzt,
           country_month.mined_value_kzt * country_month.share_low / nullif(country_month.share, 0) AS value_low_kzt,
           country_month.mined_value_kzt * country_month.share_high / nullif(country_month.share, 0)
               AS value_high_kzt,
           CAST(date_trunc($tax_period, country_month.month) AS DATE) AS period_start
    FROM model.country_month
    WHERE country_month.scenario_id = $scenario_id AND country_month.month BETWEEN $m_from AND $m_to
),
country_bases AS (
    SELECT country_months.*,
           CASE $base WHEN 'energy_kwh' THEN energy_low_kwh
                      WHEN 'electricity_cost_kzt' THEN energy_low_kwh * month_price_kzt_per_kwh
                      WHEN 'mined_value_kzt' THEN value_low_kzt
                      ELSE value_low_kzt - energy_low_kwh * month_price_kzt_per_kwh END AS base_low,
           CASE $base WHEN 'energy_kwh' THEN energy_kwh
                      WHEN 'electricity_cost_kzt' THEN energy_kwh * month_price_kzt_per_kwh
                      WHEN 'mined_value_kzt' THEN mined_value_kzt
                      ELSE mined_value_kzt - energy_kwh * month_price_kzt_per_kwh END AS base_amount,
           CASE $base WHEN 'energy_kwh' THEN energy_high_kwh
                      WHEN 'electricity_cost_kzt' THEN energy_high_kwh * month_price_kzt_per_kwh
                      WHEN 'mined_value_kzt' THEN value_high_kzt
                      ELSE value_high_kzt - energy_high_kwh * month_price_kzt_per_kwh END AS base_high
    FROM country_months
),
country_rates AS (
    SELECT subject_id AS country, month, avg_price_kzt_per_kwh, rate, rate_basis, suspended_share
    FROM rate_in_force
    WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id AND scheme_version = $scheme_version
      AND subject_kind = 'country'
),
rated AS (
    SELECT country_bases.*, country_rates.avg_price_kzt_per_kwh, country_rates.rate, country_rates.rate_basis,
           country_rates.suspended_share,
           period_fx.fx_rate, period_fx.period_end, coalesce(country_rates.rate, 0) * period_fx.fx_rate AS rate_kzt
    FROM country_bases
    JOIN country_rates USING (country, month)
    JOIN period_fx USING (period_start)
),
period_tax AS (
    SELECT country, period_start,
           greatest(sum(rate_kzt * base_amount), 0) AS floored_kzt,
           sum(greatest(rate_kzt * base_amount, 0)) AS positive_kzt,
           greatest(sum(rate_kzt * base_low), 0) AS floored_low_kzt,
           sum(greatest(rate_kzt * base_low, 0)) AS positive_low_kzt,
           greatest(sum(rate_kzt * base_high), 0) AS floored_high_kzt,
           sum(greatest(rate_kzt * base_high, 0)) AS positive_high_kzt
    FROM rated GROUP BY country, period_start
),
allocated AS (
    SELECT rated.*,
           CASE WHEN $family <> 'income_tax' THEN rate_kzt * base_amount
                WHEN positive_kzt > 0 THEN floored_kzt * greatest(rate_kzt * base_amount, 0) / positive_kzt
                ELSE 0 END AS central_kzt,
           CASE WHEN $family <> 'income_tax' THEN rate_kzt * base_low
                WHEN positive_low_kzt > 0 THEN floored_low_kzt * greatest(rate_kzt * base_low, 0) / positive_low_kzt
                ELSE 0 END AS low_kzt,
           CASE WHEN $family <> 'income_tax' THEN rate_kzt * base_high
                WHEN positive_high_kzt > 0
                    THEN floored_high_kzt * greatest(rate_kzt * base_high, 0) / positive_high_kzt
                ELSE 0 END AS high_kzt
    FROM rated JOIN period_tax USING (country, period_start)
)
SELECT $scheme_id AS scheme_id, $scheme_version AS scheme_version, $family AS family, country, month, period_start,
       period_end, energy_low_kwh, energy_kwh, energy_high_kwh, $base AS base_name, base_low, base_amount, base_high,
       CASE $base WHEN 'energy_kwh' THEN 'kWh' ELSE 'KZT' END AS base_unit,
       avg_price_kzt_per_kwh, rate, $rate_unit AS rate_unit, fx_rate, rate_basis,
       least(low_kzt, central_kzt, high_kzt) AS tax_low_kzt, central_kzt AS tax_kzt,
       greatest(low_kzt, central_kzt, high_kzt) AS tax_high_kzt, NULL AS tax_dynamic_kzt,
       energy_kwh * coalesce(suspended_share, 0) AS suspended_kwh,
       central_kzt * coalesce(suspended_share, 0) AS tax_suspended_kzt
FROM allocated;
