-- tax_farm: apply one scheme to every farm, month by month. Grain of tax.estimates_month: scenario × scheme ×
-- farm × month. The rate is the one in force on the month's first day: an exemption matching the farm gives
-- 0; else the highest matching override; else the bracket of the farm's average price over the whole tax
-- period (rounded to $price_decimals; a flat rate is one open bracket). The base by family ($base):
-- energy_kwh [kWh], electricity_cost_kzt, mined_value_kzt, mining_profit_kzt (= mined value − electricity
-- cost) [KZT]; low/high bases come from the model's bands. A rate in another currency is converted at the
-- tax period's mean monthly rate of $fx_pair (temp table period_fx, sql/tax/period_fx.sql).
-- Income tax is floored at 0 over the tax period and allocated to its months in proportion to their positive tax.
-- Parameters: $run_id, $scenario_id, $scheme_id, $scheme_version, $family, $base, $tax_period, $rate_unit,
-- $price_decimals, $fx_pair, $m_from/$m_to (the months recomputed: whole tax periods).
DELETE FROM tax.estimates_month
WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id AND month BETWEEN $m_from AND $m_to;

INSERT INTO tax.estimates_month
WITH fm AS (
    SELECT m.*, f.connection, f.energy_source, f.licensed, f.capacity_mw,
           CAST(date_trunc($tax_period, m.month) AS DATE) AS period_start,
           CASE $base WHEN 'energy_kwh' THEN m.energy_kwh WHEN 'electricity_cost_kzt' THEN m.electricity_cost_kzt
                      WHEN 'mined_value_kzt' THEN m.mined_value_kzt
                      ELSE m.mined_value_kzt - m.electricity_cost_kzt END AS b,
           CASE $base WHEN 'energy_kwh' THEN m.energy_low_kwh
                      WHEN 'electricity_cost_kzt' THEN m.electricity_cost_low_kzt
                      WHEN 'mined_value_kzt' THEN m.mined_value_low_kzt
                      ELSE m.mined_value_low_kzt - m.electricity_cost_low_kzt END AS b_low,
           CASE $base WHEN 'energy_kwh' THEN m.energy_high_kwh
                      WHEN 'electricity_cost_kzt' THEN m.electricity_cost_high_kzt
                      WHEN 'mined_value_kzt' THEN m.mined_value_high_kzt
                      ELSE m.mined_value_high_kzt - m.electricity_cost_high_kzt END AS b_high
    FROM model.farm_month m JOIN core.farms f USING (farm_id)
    WHERE m.scenario_id = $scenario_id AND m.month BETWEEN $m_from AND $m_to
),
period AS (
    SELECT farm_id, period_start,
           round(sum(electricity_cost_kzt) / nullif(sum(energy_kwh), 0), $price_decimals) AS avg_price
    FROM fm GROUP BY ALL
),
x AS (
    SELECT fm.*, p.avg_price, fx.fx_rate, fx.period_end
    FROM fm JOIN period p USING (farm_id, period_start) JOIN period_fx fx USING (period_start)
),
rules AS (
    SELECT * FROM tax.rate_rules WHERE scheme_id = $scheme_id AND scheme_version = $scheme_version
),
matched AS (
    SELECT x.farm_id, x.month, r.kind, r.name, r.rate, r.status
    FROM x JOIN rules r
      ON r.kind IN ('override', 'exemption') AND x.month >= r.valid_from AND (r.valid_to IS NULL OR x.month < r.valid_to)
     AND (r.when_connection IS NULL OR list_contains(r.when_connection, x.connection))
     AND (r.when_energy_source IS NULL OR list_contains(r.when_energy_source, x.energy_source))
     AND (r.when_metered IS NULL OR r.when_metered = x.metered)
     AND (r.when_licensed IS NULL OR r.when_licensed = x.licensed)
     AND (r.when_capacity_mw_below IS NULL OR x.capacity_mw < r.when_capacity_mw_below)
),
exempt AS (
    SELECT farm_id, month, min(name) AS name, min(status) AS status FROM matched WHERE kind = 'exemption' GROUP BY ALL
),
override AS (
    SELECT farm_id, month, max(rate) AS rate, arg_max(name, rate) AS name, arg_max(status, rate) AS status
    FROM matched WHERE kind = 'override' GROUP BY ALL
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
),
rated AS (
    SELECT x.*,
           CASE WHEN f.month IS NULL OR e.name IS NOT NULL THEN 0 ELSE coalesce(o.rate, b.rate) END AS rate,
           CASE WHEN f.month IS NULL THEN 'not in force'
                WHEN e.name IS NOT NULL THEN 'exempt: ' || e.name
                WHEN o.rate IS NOT NULL THEN 'override: ' || o.name
                WHEN b.rate IS NOT NULL THEN 'bracket: ' || b.name
                ELSE 'no consumption' END AS rate_basis,
           CASE WHEN f.month IS NOT NULL THEN coalesce(e.status, o.status, b.status) END AS rate_status
    FROM x
    LEFT JOIN in_force f USING (month)
    LEFT JOIN exempt e USING (farm_id, month)
    LEFT JOIN override o USING (farm_id, month)
    LEFT JOIN bracket b USING (farm_id, month)
),
raw AS (
    SELECT rated.*,
           coalesce(rate, 0) * b * fx_rate AS t, coalesce(rate, 0) * b_low * fx_rate AS t_low,
           coalesce(rate, 0) * b_high * fx_rate AS t_high
    FROM rated
),
per AS (
    SELECT farm_id, period_start,
           greatest(sum(t), 0) AS pt, sum(greatest(t, 0)) AS pos,
           greatest(sum(t_low), 0) AS pt_low, sum(greatest(t_low, 0)) AS pos_low,
           greatest(sum(t_high), 0) AS pt_high, sum(greatest(t_high, 0)) AS pos_high
    FROM raw GROUP BY ALL
),
taxed AS (
    SELECT raw.*,
           CASE WHEN $family <> 'income_tax' THEN t WHEN pos > 0 THEN pt * greatest(t, 0) / pos ELSE 0 END AS tc,
           CASE WHEN $family <> 'income_tax' THEN t_low
                WHEN pos_low > 0 THEN pt_low * greatest(t_low, 0) / pos_low ELSE 0 END AS tl,
           CASE WHEN $family <> 'income_tax' THEN t_high
                WHEN pos_high > 0 THEN pt_high * greatest(t_high, 0) / pos_high ELSE 0 END AS th
    FROM raw JOIN per USING (farm_id, period_start)
)
SELECT $run_id, $scenario_id, $scheme_id, $scheme_version, $family, farm_id, month, period_start, period_end,
       energy_kwh AS base_kwh, $base AS base_name, b AS base_amount,
       CASE $base WHEN 'energy_kwh' THEN 'kWh' ELSE 'KZT' END AS base_unit,
       avg_price AS avg_price_kzt_per_kwh, rate, $rate_unit AS rate_unit, fx_rate, rate_basis, rate_status,
       least(tl, tc, th) AS tax_low_kzt, tc AS tax_kzt, greatest(tl, tc, th) AS tax_high_kzt,
       NULL AS tax_dynamic_kzt
FROM taxed;
