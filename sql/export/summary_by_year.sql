-- summary_by_year: revenue of one scenario by year, all schemes together, with the band. Grain: year. KZT.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
SELECT year, round(sum(tax_low_kzt), 2) AS tax_low_kzt, round(sum(tax_kzt), 2) AS tax_kzt, round(sum(tax_high_kzt), 2) AS tax_high_kzt
FROM revenue_by_year WHERE scenario_id = $scenario_id GROUP BY year ORDER BY year;
