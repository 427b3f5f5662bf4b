-- model: tax.estimates
-- grain: scenario × scheme × farm × tax period
-- units: energy kWh; base kWh or KZT; rate in the scheme's rate unit; tax KZT
-- reads: tax.estimates_month, farm_operating
-- recompute: by tax period ($m_from..$m_to, whole periods), per scheme
-- params: $scenario_id, $scheme_id, $behaviour, $m_from, $m_to
-- tax_estimates_by_period: roll tax.estimates_month up to the tax period.
-- Grain: scenario × scheme × farm × tax period. Units: kWh, the base's unit, the rate's unit, KZT.
-- rate is the period's rate; where the law changed within the period it is tax_kzt / (base × fx_rate).
-- operating_dynamic: the farm kept mining in every month of the period (NULL when behaviour is off).
-- Only the periods starting in $m_from..$m_to (whole periods) are rebuilt. suspended_kwh, tax_suspended_kzt: the
-- months' sums (suspension windows, estimates_month.sql).
DELETE FROM tax.estimates
WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id AND period_start BETWEEN $m_from AND $m_to;

INSERT INTO tax.estimates
SELECT any_value(e.run_id), scenario_id, scheme_id, any_value(scheme_version), any_value(family), farm_id,
       period_start, any_value(period_end),
       sum(base_kwh) AS base_kwh, any_value(base_name), sum(base_amount) AS base_amount, any_value(base_unit),
       any_value(avg_price_kzt_per_kwh) AS avg_price_kzt_per_kwh,
       CASE WHEN min(rate) = max(rate) THEN min(rate)
            ELSE sum(tax_kzt) / nullif(sum(base_amount) * any_value(fx_rate), 0) END AS rate,
       any_value(rate_unit), any_value(fx_rate),
       string_agg(DISTINCT rate_basis, '; ' ORDER BY rate_basis) AS rate_basis,
       string_agg(DISTINCT rate_status, ', ' ORDER BY rate_status) AS rate_status,
       sum(tax_low_kzt), sum(tax_kzt), sum(tax_high_kzt), sum(tax_dynamic_kzt),
       CASE WHEN $behaviour THEN bool_and(coalesce(o.operating, true)) END,
       sum(suspended_kwh), sum(tax_suspended_kzt)
FROM tax.estimates_month e
LEFT JOIN farm_operating o USING (farm_id, month)
WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id AND period_start BETWEEN $m_from AND $m_to
GROUP BY scenario_id, scheme_id, farm_id, period_start;
