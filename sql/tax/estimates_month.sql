-- model: tax.estimates_month
-- grain: scenario × scheme × farm × calendar month
-- units: energy kWh; base kWh or KZT; rate in the scheme's rate unit; tax KZT
-- reads: model.farm_month, rate_in_force, period_fx
-- recompute: by tax period ($m_from..$m_to, whole periods), per scheme
-- params: $run_id, $scenario_id, $scheme_id, $scheme_version, $family, $base, $tax_period, $rate_unit, $m_from,
--     $m_to
-- tax_farm: apply one scheme to every farm, month by month. Grain of tax.estimates_month: scenario × scheme ×
-- farm × month. The rate, its basis, status and the rounded average price are the farm's rows of rate_in_force
-- (sql/tax/rate_in_force.sql: the law in force on the month's first day, evaluated once for farms, countries
-- and the forecast; subjects from sql/tax/rate_subjects_farm.sql). The base by family ($base):
-- energy_kwh [kWh], electricity_cost_kzt, mined_value_kzt, mining_profit_kzt (= mined value − electricity
-- cost) [KZT]; low/high bases come from the model's bands. A rate in another currency is converted at the
-- tax period's mean monthly rate of $fx_pair (temp table period_fx, sql/tax/period_fx.sql).
-- Income tax is floored at 0 over the tax period and allocated to its months in proportion to their positive tax.
-- Suspension windows (rate_in_force.suspended_share: the share of the month's kWh on days mining was banned):
-- suspended_kwh = energy × share (readings inside a ban: a data-quality finding, view suspension_findings) and
-- tax_suspended_kzt = the month's tax × share (the revenue lost to the ban where it is obeyed; behaviour on, the
-- dynamic tax leaves it out: estimates_month_dynamic.sql).
-- $m_from/$m_to: the months recomputed (whole tax periods).
DELETE FROM tax.estimates_month
WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id AND month BETWEEN $m_from AND $m_to;

INSERT INTO tax.estimates_month (run_id, scenario_id, scheme_id, scheme_version, family, farm_id, month, period_start,
                                 period_end, base_kwh, base_name, base_amount, base_unit, avg_price_kzt_per_kwh, rate,
                                 rate_unit, fx_rate, rate_basis, rate_status, tax_low_kzt, tax_kzt, tax_high_kzt,
                                 tax_dynamic_kzt, suspended_kwh, tax_suspended_kzt)
WITH farm_bases AS (
    SELECT farm_month.farm_id, farm_month.month, farm_month.energy_kwh,
           CAST(date_trunc($tax_period, farm_month.month) AS DATE) AS period_start,
           CASE $base WHEN 'energy_kwh' THEN farm_month.energy_kwh
                      WHEN 'electricity_cost_kzt' THEN farm_month.electricity_cost_kzt
                      WHEN 'mined_value_kzt' THEN farm_month.mined_value_kzt
                      ELSE farm_month.mined_value_kzt - farm_month.electricity_cost_kzt END AS base_amount,
           CASE $base WHEN 'energy_kwh' THEN farm_month.energy_low_kwh
                      WHEN 'electricity_cost_kzt' THEN farm_month.electricity_cost_low_kzt
                      WHEN 'mined_value_kzt' THEN farm_month.mined_value_low_kzt
                      ELSE farm_month.mined_value_low_kzt - farm_month.electricity_cost_low_kzt END AS base_low,
           CASE $base WHEN 'energy_kwh' THEN farm_month.energy_high_kwh
                      WHEN 'electricity_cost_kzt' THEN farm_month.electricity_cost_high_kzt
                      WHEN 'mined_value_kzt' THEN farm_month.mined_value_high_kzt
                      ELSE farm_month.mined_value_high_kzt - farm_month.electricity_cost_high_kzt END AS base_high
    FROM model.farm_month
    WHERE farm_month.scenario_id = $scenario_id AND farm_month.month BETWEEN $m_from AND $m_to
),
farm_rates AS (
    SELECT subject_id AS farm_id, month, avg_price_kzt_per_kwh, rate, rate_basis, rate_status, suspended_share
    FROM rate_in_force
    WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id AND scheme_version = $scheme_version
      AND subject_kind = 'farm'
),
rated AS (
    SELECT farm_bases.*, farm_rates.avg_price_kzt_per_kwh, farm_rates.rate, farm_rates.rate_basis,
           farm_rates.rate_status, farm_rates.suspended_share, period_fx.fx_rate, period_fx.period_end
    FROM farm_bases
    JOIN farm_rates USING (farm_id, month)
    JOIN period_fx USING (period_start)
),
month_tax AS (
    SELECT rated.*,
           coalesce(rate, 0) * base_amount * fx_rate AS tax_month_kzt,
           coalesce(rate, 0) * base_low * fx_rate AS tax_month_low_kzt,
           coalesce(rate, 0) * base_high * fx_rate AS tax_month_high_kzt
    FROM rated
),
period_tax AS (
    SELECT farm_id, period_start,
           greatest(sum(tax_month_kzt), 0) AS floored_kzt, sum(greatest(tax_month_kzt, 0)) AS positive_kzt,
           greatest(sum(tax_month_low_kzt), 0) AS floored_low_kzt,
           sum(greatest(tax_month_low_kzt, 0)) AS positive_low_kzt,
           greatest(sum(tax_month_high_kzt), 0) AS floored_high_kzt,
           sum(greatest(tax_month_high_kzt, 0)) AS positive_high_kzt
    FROM month_tax GROUP BY farm_id, period_start
),
allocated AS (
    SELECT month_tax.*,
           CASE WHEN $family <> 'income_tax' THEN tax_month_kzt
                WHEN positive_kzt > 0 THEN floored_kzt * greatest(tax_month_kzt, 0) / positive_kzt
                ELSE 0 END AS central_kzt,
           CASE WHEN $family <> 'income_tax' THEN tax_month_low_kzt
                WHEN positive_low_kzt > 0 THEN floored_low_kzt * greatest(tax_month_low_kzt, 0) / positive_low_kzt
                ELSE 0 END AS low_kzt,
           CASE WHEN $family <> 'income_tax' THEN tax_month_high_kzt
                WHEN positive_high_kzt > 0
                    THEN floored_high_kzt * greatest(tax_month_high_kzt, 0) / positive_high_kzt
                ELSE 0 END AS high_kzt
    FROM month_tax JOIN period_tax USING (farm_id, period_start)
)
SELECT $run_id AS run_id, $scenario_id AS scenario_id, $scheme_id AS scheme_id, $scheme_version AS scheme_version,
       $family AS family, farm_id, month, period_start, period_end,
       energy_kwh AS base_kwh, $base AS base_name, base_amount,
       CASE $base WHEN 'energy_kwh' THEN 'kWh' ELSE 'KZT' END AS base_unit,
       avg_price_kzt_per_kwh, rate, $rate_unit AS rate_unit, fx_rate, rate_basis, rate_status,
       least(low_kzt, central_kzt, high_kzt) AS tax_low_kzt, central_kzt AS tax_kzt,
       greatest(low_kzt, central_kzt, high_kzt) AS tax_high_kzt, NULL AS tax_dynamic_kzt,
       energy_kwh * coalesce(suspended_share, 0) AS suspended_kwh,
       central_kzt * coalesce(suspended_share, 0) AS tax_suspended_kzt
FROM allocated;
