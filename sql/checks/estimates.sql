-- model: output.estimates (query for the output suite)
-- grain: scenario × scheme × farm × tax period
-- units: as tax.estimates
-- reads: tax.estimates
-- recompute: per scheme (after the tax stage)
-- params: $scenario_id, $scheme_id, $rate_min, $rate_max
-- tax.estimates of one scenario and scheme with check columns for the output suite.
-- Grain: scenario × scheme × farm × tax period. $rate_min/$rate_max: the scheme's range of rates; 0 is
-- allowed where the scheme was not in force or the farm exempt, and below the range where a period mixes
-- months of different rates (then rate = tax / (base × fx)).
SELECT e.*,
       coalesce((e.rate IS NULL AND e.base_kwh = 0)
                OR (e.rate = 0 AND (e.rate_basis LIKE '%not in force%' OR e.rate_basis LIKE '%exempt: %'))
                OR (e.rate BETWEEN $rate_min AND $rate_max)
                OR (e.rate_basis LIKE '%;%' AND e.rate BETWEEN 0 AND $rate_max), false) AS rate_in_law_range_ok,
       abs(e.tax_kzt - greatest(0, e.base_amount * coalesce(e.rate, 0) * e.fx_rate))
           <= 1e-6 * greatest(1, e.tax_kzt) AS tax_equals_base_times_rate_ok,
       e.tax_low_kzt <= e.tax_kzt + 1e-6 AND e.tax_kzt <= e.tax_high_kzt + 1e-6 AS tax_band_ordered_ok,
       e.tax_dynamic_kzt IS NULL OR e.tax_dynamic_kzt <= e.tax_kzt + 1e-6 AS dynamic_not_above_static_ok
FROM tax.estimates e
WHERE e.scenario_id = $scenario_id AND e.scheme_id = $scheme_id;
