-- forecast_tornado: P50 revenue of the next budget year (all schemes) with each assumption at the low and high end
-- of its stated range. Grain: assumption. KZT, rounded to 0.01; low/high: log per year or factor.
SELECT assumption, CAST(year AS VARCHAR) AS year, low, high,
       CASE WHEN assumption IN ('price_drift', 'network_growth') THEN 'log per year' ELSE 'factor' END AS unit,
       round(p50_low_kzt, 2) AS p50_low_kzt, round(p50_base_kzt, 2) AS p50_base_kzt,
       round(p50_high_kzt, 2) AS p50_high_kzt, round(swing_kzt, 2) AS swing_kzt,
       CAST(data_cut AS VARCHAR) AS data_cut, seed, runs, run_id
FROM forecast_tornado WHERE forecast_id = $scenario_id
ORDER BY swing_kzt DESC;
