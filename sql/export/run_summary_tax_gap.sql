-- run_summary_tax_gap: the tax gap (top-down minus declared) of one scenario by country, scheme and year, newest
-- year first within each scheme, for the summary `minetax run` prints. Grain: country × scheme × year. KZT.
-- Parameter: $scenario_id.
SELECT country, scheme_id, year(period_start) AS year, sum(gap_low_kzt) AS gap_low_kzt, sum(gap_kzt) AS gap_kzt,
       sum(gap_high_kzt) AS gap_high_kzt
FROM tax_gap WHERE scenario_id = $scenario_id
GROUP BY ALL ORDER BY scheme_id, year DESC;
