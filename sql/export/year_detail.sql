-- year_detail: one scenario's tax periods of one year, by scheme. Grain: scheme × tax period. kWh and KZT.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
SELECT scheme_id, period_start, period_end, count(DISTINCT farm_id) FILTER (WHERE base_kwh > 0) AS farms,
       round(sum(base_kwh), 3) AS base_kwh, round(sum(tax_low_kzt), 2) AS tax_low_kzt, round(sum(tax_kzt), 2) AS tax_kzt,
       round(sum(tax_high_kzt), 2) AS tax_high_kzt
FROM estimates WHERE scenario_id = $scenario_id AND year(period_start) = $year
GROUP BY ALL ORDER BY scheme_id, period_start;
