-- comparison: baseline vs reform by scheme and year (regions summed). Grain: scheme × year. KZT.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
SELECT scheme_id, year, round(sum(tax_baseline_kzt), 2) AS tax_baseline_kzt, round(sum(tax_reform_kzt), 2) AS tax_reform_kzt,
       round(sum(difference_kzt), 2) AS difference_kzt
FROM scheme_comparison WHERE baseline_scenario = $scenario_id AND reform_scenario = $reform
GROUP BY ALL ORDER BY scheme_id, year;
