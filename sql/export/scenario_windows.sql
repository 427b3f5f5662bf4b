-- scenario_windows: 1, 3 and 5-year revenue totals of one scenario from its first year. Grain: scheme × window.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
WITH y AS (
    SELECT scheme_id, year, tax_kzt FROM revenue_by_year WHERE scenario_id = $scenario_id
    UNION ALL
    SELECT 'all schemes', year, round(sum(tax_kzt), 2) FROM revenue_by_year WHERE scenario_id = $scenario_id GROUP BY year
),
s AS (SELECT min(year) AS y0 FROM y),
w AS (SELECT unnest([1, 3, 5]) AS window_years)
SELECT * FROM (
    SELECT y.scheme_id, w.window_years, s.y0 AS first_year, s.y0 + w.window_years - 1 AS last_year,
           count(*) AS years_covered, round(sum(y.tax_kzt), 2) AS tax_kzt
    FROM y, s, w WHERE y.year BETWEEN s.y0 AND s.y0 + w.window_years - 1
    GROUP BY ALL
) ORDER BY scheme_id = 'all schemes', scheme_id, window_years;
