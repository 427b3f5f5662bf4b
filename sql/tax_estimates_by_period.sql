-- tax_estimates_by_period: roll tax.estimates_month up to the tax period.
-- Grain: scenario × scheme × farm × tax period. Units: kWh, KZT/kWh, KZT.
-- rate is the period's rate; where the law changed within the period it is tax_kzt / base_kwh.
DELETE FROM tax.estimates WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id;

INSERT INTO tax.estimates
SELECT any_value(run_id), scenario_id, scheme_id, any_value(scheme_version), farm_id,
       period_start, any_value(period_end),
       sum(base_kwh) AS base_kwh,
       any_value(avg_price_kzt_per_kwh) AS avg_price_kzt_per_kwh,
       CASE WHEN min(rate) = max(rate) THEN min(rate)
            ELSE sum(tax_kzt) / nullif(sum(base_kwh), 0) END AS rate,
       any_value(rate_unit),
       string_agg(DISTINCT rate_basis, '; ' ORDER BY rate_basis) AS rate_basis,
       string_agg(DISTINCT rate_status, ', ' ORDER BY rate_status) AS rate_status,
       sum(tax_kzt) AS tax_kzt
FROM tax.estimates_month
WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id
GROUP BY scenario_id, scheme_id, farm_id, period_start;
