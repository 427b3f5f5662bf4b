-- budget_windows: 1, 3 and 5-year totals of a comparison. Grain: scheme × window. KZT.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
SELECT scheme_id, window_years, first_year, last_year, years_covered, round(tax_baseline_kzt, 2) AS tax_baseline_kzt, round(tax_reform_kzt, 2) AS tax_reform_kzt,
       round(difference_kzt, 2) AS difference_kzt
FROM budget_windows WHERE baseline_scenario = $scenario_id AND reform_scenario = $reform
ORDER BY scheme_id = 'all schemes', scheme_id, window_years;
