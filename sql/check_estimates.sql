-- check_estimates: tax.estimates of one scenario with check columns for the output suite.
-- Grain: scenario × scheme × farm × tax period. $rate_min/$rate_max: the law's range of rates;
-- rate 0 is allowed only where the scheme was not in force.
SELECT e.*,
       coalesce((e.rate IS NULL AND e.base_kwh = 0)
                OR (e.rate = 0 AND e.rate_basis = 'not in force')
                OR (e.rate BETWEEN $rate_min AND $rate_max), false) AS rate_in_law_range_ok,
       abs(e.tax_kzt - e.base_kwh * coalesce(e.rate, 0)) <= 1e-6 * greatest(1, e.tax_kzt) AS tax_equals_base_times_rate_ok
FROM tax.estimates e
WHERE e.scenario_id = $scenario_id AND e.scheme_id = $scheme_id;
