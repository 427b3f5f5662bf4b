-- forecast_windows: 1, 3 and 5-year totals of one scenario's forecast (summed per draw, then P10/P50/P90/mean).
-- Grain: scheme × window. KZT, rounded to 0.01.
SELECT scheme_id, window_years, first_year, last_year, round(p10_kzt, 2) AS p10_kzt, round(p50_kzt, 2) AS p50_kzt,
       round(p90_kzt, 2) AS p90_kzt, round(mean_kzt, 2) AS mean_kzt
FROM forecast_budget_window WHERE forecast_id = $scenario_id AND kind = 'revenue'
ORDER BY scheme_id = 'all schemes' DESC, scheme_id, window_years;
