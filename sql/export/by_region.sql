-- by_region: one scenario by region, year and scheme. Grain: region × year × scheme. kWh and KZT.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
SELECT region, year(period_start) AS year, scheme_id, round(sum(base_kwh), 3) AS base_kwh, round(sum(tax_low_kzt), 2) AS tax_low_kzt,
       round(sum(tax_kzt), 2) AS tax_kzt, round(sum(tax_high_kzt), 2) AS tax_high_kzt
FROM revenue_by_region WHERE scenario_id = $scenario_id GROUP BY ALL ORDER BY region, year, scheme_id;
