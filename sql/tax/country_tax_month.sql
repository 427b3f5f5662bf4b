-- tax_country: apply one scheme to the top-down country estimate, month by month, into the temp table
-- country_tax_month (grain: scheme × country × month; KZT). Bases by family as in tax_farm.sql, on the
-- country's energy low/central/high [kWh], its energy × the metered farms' average price (the price proxy)
-- [KZT], and its coins' value [KZT] scaled by the low/high share. Only the price brackets apply (the
-- fleet's categories are unknown top-down, so no overrides or exemptions); the bracket is found with
-- the proxy's average over the tax period. Parameters as in tax_farm.sql.
CREATE TEMP TABLE IF NOT EXISTS country_tax_month (
    scheme_id VARCHAR, scheme_version VARCHAR, family VARCHAR, country VARCHAR, month DATE,
    period_start DATE, period_end DATE, energy_low_kwh DOUBLE, energy_kwh DOUBLE, energy_high_kwh DOUBLE,
    base_name VARCHAR, base_low DOUBLE, base_amount DOUBLE, base_high DOUBLE, base_unit VARCHAR,
    avg_price_kzt_per_kwh DOUBLE, rate DOUBLE, rate_unit VARCHAR, fx_rate DOUBLE, rate_basis VARCHAR,
    tax_low_kzt DOUBLE, tax_kzt DOUBLE, tax_high_kzt DOUBLE, tax_dynamic_kzt DOUBLE
);

DELETE FROM country_tax_month WHERE scheme_id = $scheme_id;

INSERT INTO country_tax_month
WITH cm AS (
    SELECT c.*, CAST(date_trunc($tax_period, c.month) AS DATE) AS period_start,
           c.mined_value_kzt * c.share_low / nullif(c.share, 0) AS value_low_kzt,
           c.mined_value_kzt * c.share_high / nullif(c.share, 0) AS value_high_kzt
    FROM model.country_month c WHERE c.scenario_id = $scenario_id AND c.month BETWEEN $m_from AND $m_to
),
period AS (
    SELECT country, period_start,
           round(sum(energy_kwh * avg_price_kzt_per_kwh) / nullif(sum(energy_kwh) FILTER (
                 WHERE avg_price_kzt_per_kwh IS NOT NULL), 0), $price_decimals) AS avg_price
    FROM cm GROUP BY ALL
),
x AS (
    SELECT cm.*, p.avg_price, fx.fx_rate, fx.period_end,
           CASE $base WHEN 'energy_kwh' THEN energy_low_kwh
                      WHEN 'electricity_cost_kzt' THEN energy_low_kwh * avg_price_kzt_per_kwh
                      WHEN 'mined_value_kzt' THEN value_low_kzt
                      ELSE value_low_kzt - energy_low_kwh * avg_price_kzt_per_kwh END AS b_low,
           CASE $base WHEN 'energy_kwh' THEN energy_kwh
                      WHEN 'electricity_cost_kzt' THEN energy_kwh * avg_price_kzt_per_kwh
                      WHEN 'mined_value_kzt' THEN mined_value_kzt
                      ELSE mined_value_kzt - energy_kwh * avg_price_kzt_per_kwh END AS b,
           CASE $base WHEN 'energy_kwh' THEN energy_high_kwh
                      WHEN 'electricity_cost_kzt' THEN energy_high_kwh * avg_price_kzt_per_kwh
                      WHEN 'mined_value_kzt' THEN value_high_kzt
                      ELSE value_high_kzt - energy_high_kwh * avg_price_kzt_per_kwh END AS b_high
    FROM cm JOIN period p USING (country, period_start) JOIN period_fx fx USING (period_start)
),
rules AS (
    SELECT * FROM tax.rate_rules
    WHERE scheme_id = $scheme_id AND scheme_version = $scheme_version AND kind = 'bracket'
),
bracket AS (
    SELECT x.country, x.month, r.rate, r.name
    FROM x JOIN rules r
      ON x.month >= r.valid_from AND (r.valid_to IS NULL OR x.month < r.valid_to)
     AND (r.price_lo IS NULL OR x.avg_price > r.price_lo OR (r.price_lo_inclusive AND x.avg_price = r.price_lo))
     AND (r.price_hi IS NULL OR x.avg_price < r.price_hi OR (r.price_hi_inclusive AND x.avg_price = r.price_hi))
),
in_force AS (
    SELECT DISTINCT x.month FROM x JOIN rules r
      ON x.month >= r.valid_from AND (r.valid_to IS NULL OR x.month < r.valid_to)
),
raw AS (
    SELECT x.*,
           CASE WHEN f.month IS NULL THEN 0 ELSE b.rate END AS rate,
           CASE WHEN f.month IS NULL THEN 'not in force' WHEN b.rate IS NOT NULL THEN 'bracket: ' || b.name
                ELSE 'no price for the bracket' END AS rate_basis,
           CASE WHEN f.month IS NULL THEN 0 ELSE coalesce(b.rate, 0) END * fx_rate AS r_kzt
    FROM x LEFT JOIN in_force f USING (month) LEFT JOIN bracket b USING (country, month)
),
per AS (
    SELECT country, period_start,
           greatest(sum(r_kzt * b), 0) AS pt, sum(greatest(r_kzt * b, 0)) AS pos,
           greatest(sum(r_kzt * b_low), 0) AS pt_low, sum(greatest(r_kzt * b_low, 0)) AS pos_low,
           greatest(sum(r_kzt * b_high), 0) AS pt_high, sum(greatest(r_kzt * b_high, 0)) AS pos_high
    FROM raw GROUP BY ALL
),
taxed AS (
    SELECT raw.*,
           CASE WHEN $family <> 'income_tax' THEN r_kzt * b
                WHEN pos > 0 THEN pt * greatest(r_kzt * b, 0) / pos ELSE 0 END AS tc,
           CASE WHEN $family <> 'income_tax' THEN r_kzt * b_low
                WHEN pos_low > 0 THEN pt_low * greatest(r_kzt * b_low, 0) / pos_low ELSE 0 END AS tl,
           CASE WHEN $family <> 'income_tax' THEN r_kzt * b_high
                WHEN pos_high > 0 THEN pt_high * greatest(r_kzt * b_high, 0) / pos_high ELSE 0 END AS th
    FROM raw JOIN per USING (country, period_start)
)
SELECT $scheme_id, $scheme_version, $family, country, month, period_start, period_end,
       energy_low_kwh, energy_kwh, energy_high_kwh, $base, b_low, b, b_high,
       CASE $base WHEN 'energy_kwh' THEN 'kWh' ELSE 'KZT' END,
       avg_price, rate, $rate_unit, fx_rate, rate_basis,
       least(tl, tc, th), tc, greatest(tl, tc, th), NULL
FROM taxed;
