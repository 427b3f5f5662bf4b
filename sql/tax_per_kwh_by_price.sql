-- tax_per_kwh_by_price: fee per kWh whose rate comes from brackets on the farm's average electricity
-- price over the tax period, replaced by category overrides (highest matching override wins).
-- Grain of tax.estimates_month: scenario × scheme × farm × month; the month's kWh at the rate in force
-- on the month's first day, with the average price of the whole tax period. Units: kWh, KZT/kWh, KZT.
-- Parameters: $run_id, $scenario_id, $scheme_id, $scheme_version, $tax_period ('month'|'quarter'|'year'),
-- $rate_unit, $price_decimals (the average price is rounded to this many decimals before the lookup).
DELETE FROM tax.estimates_month WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id;

INSERT INTO tax.estimates_month
WITH fm AS (
    SELECT m.farm_id, m.month, m.energy_kwh, m.electricity_cost_kzt,
           CAST(date_trunc($tax_period, m.month) AS DATE) AS period_start,
           f.connection, f.energy_source, f.metered
    FROM model.farm_month m JOIN core.farms f USING (farm_id)
    WHERE m.scenario_id = $scenario_id
),
period AS (
    SELECT farm_id, period_start,
           round(sum(electricity_cost_kzt) / nullif(sum(energy_kwh), 0), $price_decimals) AS avg_price
    FROM fm GROUP BY ALL
),
x AS (
    SELECT fm.*, p.avg_price,
           CAST(p.period_start + CASE $tax_period WHEN 'month' THEN INTERVAL 1 MONTH
                                                  WHEN 'quarter' THEN INTERVAL 3 MONTH
                                                  ELSE INTERVAL 1 YEAR END - INTERVAL 1 DAY AS DATE) AS period_end
    FROM fm JOIN period p USING (farm_id, period_start)
),
rules AS (
    SELECT * FROM tax.rate_rules WHERE scheme_id = $scheme_id AND scheme_version = $scheme_version
),
override AS (
    SELECT x.farm_id, x.month, max(r.rate) AS rate,
           arg_max(r.name, r.rate) AS name, arg_max(r.status, r.rate) AS status
    FROM x JOIN rules r
      ON r.kind = 'override' AND x.month >= r.valid_from AND (r.valid_to IS NULL OR x.month < r.valid_to)
     AND (r.when_connection IS NULL OR list_contains(r.when_connection, x.connection))
     AND (r.when_energy_source IS NULL OR list_contains(r.when_energy_source, x.energy_source))
     AND (r.when_metered IS NULL OR r.when_metered = x.metered)
    GROUP BY ALL
),
bracket AS (
    SELECT x.farm_id, x.month, r.rate, r.name, r.status
    FROM x JOIN rules r
      ON r.kind = 'bracket' AND x.month >= r.valid_from AND (r.valid_to IS NULL OR x.month < r.valid_to)
     AND (r.price_lo IS NULL OR x.avg_price > r.price_lo OR (r.price_lo_inclusive AND x.avg_price = r.price_lo))
     AND (r.price_hi IS NULL OR x.avg_price < r.price_hi OR (r.price_hi_inclusive AND x.avg_price = r.price_hi))
),
in_force AS (
    SELECT DISTINCT x.month FROM x JOIN rules r
      ON r.kind = 'bracket' AND x.month >= r.valid_from AND (r.valid_to IS NULL OR x.month < r.valid_to)
)
SELECT $run_id, $scenario_id, $scheme_id, $scheme_version, x.farm_id, x.month, x.period_start, x.period_end,
       x.energy_kwh AS base_kwh, x.avg_price AS avg_price_kzt_per_kwh,
       CASE WHEN f.month IS NULL THEN 0 ELSE coalesce(o.rate, b.rate) END AS rate, $rate_unit AS rate_unit,
       CASE WHEN f.month IS NULL THEN 'not in force'
            WHEN o.rate IS NOT NULL THEN 'override: ' || o.name
            WHEN b.rate IS NOT NULL THEN 'bracket: ' || b.name
            ELSE 'no consumption' END AS rate_basis,
       CASE WHEN f.month IS NOT NULL THEN coalesce(o.status, b.status) END AS rate_status,
       CASE WHEN f.month IS NULL THEN 0 ELSE x.energy_kwh * coalesce(o.rate, b.rate, 0) END AS tax_kzt
FROM x
LEFT JOIN in_force f USING (month)
LEFT JOIN override o USING (farm_id, month)
LEFT JOIN bracket b USING (farm_id, month);
