-- forecast_by_year: the revenue forecast of one scenario by scheme and year (P10/P50/P90/mean of the Monte
-- Carlo draws). Grain: scheme × year. KZT, rounded to 0.01.
SELECT scheme_id, year, round(p10_kzt, 2) AS p10_kzt, round(p50_kzt, 2) AS p50_kzt, round(p90_kzt, 2) AS p90_kzt,
       round(mean_kzt, 2) AS mean_kzt, runs, seed, run_id
FROM forecast_by_year WHERE forecast_id = $scenario_id AND kind = 'revenue'
ORDER BY scheme_id = 'all schemes' DESC, scheme_id, year;
