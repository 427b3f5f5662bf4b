-- revenue_by_quarter: one scenario by calendar quarter, all schemes, with the band (for the report's chart).
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
-- Grain: quarter. Monthly accruals summed, so schemes with yearly periods spread over their months. KZT.
SELECT CAST(date_trunc('quarter', month) AS DATE) AS quarter, round(sum(tax_low_kzt), 2) AS tax_low_kzt,
       round(sum(tax_kzt), 2) AS tax_kzt, round(sum(tax_high_kzt), 2) AS tax_high_kzt
FROM revenue_by_month WHERE scenario_id = $scenario_id GROUP BY 1 ORDER BY 1;
