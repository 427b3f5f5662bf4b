-- model: output.country (query for the output suite)
-- grain: scenario × scheme × country × tax period
-- units: as tax.estimates_country
-- reads: tax.estimates_country
-- recompute: per scheme (after the tax stage)
-- params: $scenario_id, $scheme_id
-- tax.estimates_country of one scenario and scheme with check columns for the output suite.
-- Grain: scenario × scheme × country × tax period. Bands must be ordered; tax is never negative.
SELECT c.*,
       c.energy_low_kwh <= c.energy_kwh * (1 + 1e-9) AND c.energy_kwh <= c.energy_high_kwh * (1 + 1e-9)
           AS energy_band_ordered_ok,
       c.tax_low_kzt <= c.tax_kzt + 1e-6 AND c.tax_kzt <= c.tax_high_kzt + 1e-6 AS tax_band_ordered_ok
FROM tax.estimates_country c
WHERE c.scenario_id = $scenario_id AND c.scheme_id = $scheme_id;
