-- by_scheme: one scenario by scheme and year. Grain: scheme × year. kWh and KZT.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
SELECT scheme_id, year, farms, periods, round(base_kwh, 3) AS base_kwh, round(tax_low_kzt, 2) AS tax_low_kzt, round(tax_kzt, 2) AS tax_kzt, round(tax_high_kzt, 2) AS tax_high_kzt, round(tax_dynamic_kzt, 2) AS tax_dynamic_kzt
FROM revenue_by_year WHERE scenario_id = $scenario_id ORDER BY scheme_id, year;
