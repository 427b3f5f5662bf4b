-- tax_gap_by_year: top-down vs declared tax by scheme and year for one scenario. Grain: scheme × year. KZT.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
SELECT scheme_id, year(period_start) AS year, round(sum(topdown_tax_low_kzt), 2) AS topdown_tax_low_kzt,
       round(sum(topdown_tax_kzt), 2) AS topdown_tax_kzt, round(sum(topdown_tax_high_kzt), 2) AS topdown_tax_high_kzt,
       round(sum(declared_tax_kzt), 2) AS declared_tax_kzt, round(sum(gap_kzt), 2) AS gap_kzt
FROM tax_gap WHERE scenario_id = $scenario_id GROUP BY ALL ORDER BY scheme_id, year;
