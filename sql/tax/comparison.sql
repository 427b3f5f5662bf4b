-- model: tax.comparison
-- grain: baseline × reform × scheme × year × region
-- units: tax KZT
-- reads: tax.estimates, core.farms
-- recompute: per comparison (minetax compare: whole)
-- params: $baseline, $reform
-- also: tax.budget_windows
-- compare: baseline vs reform scenario. tax.comparison grain: scheme × calendar year (of the tax period) ×
-- region; a scheme only one scenario uses counts 0 in the other. difference = reform − baseline, KZT.
-- tax.budget_windows: 1, 3 and 5-year totals per scheme and for 'all schemes', starting with the first year
-- in which the total differs (or the first year, if none does); years_covered says how many years of data
-- the window has. Parameters: $baseline, $reform.
DELETE FROM tax.comparison WHERE baseline_scenario = $baseline AND reform_scenario = $reform;

INSERT INTO tax.comparison
WITH t AS (
    SELECT e.scenario_id, e.scheme_id, year(e.period_start) AS year, f.region,
           sum(e.tax_kzt) AS tax, sum(e.tax_low_kzt) AS tax_low, sum(e.tax_high_kzt) AS tax_high
    FROM tax.estimates e JOIN core.farms f USING (farm_id)
    WHERE e.scenario_id IN ($baseline, $reform) GROUP BY ALL
),
k AS (SELECT DISTINCT scheme_id, year, region FROM t),
b AS (SELECT * FROM t WHERE scenario_id = $baseline),
r AS (SELECT * FROM t WHERE scenario_id = $reform)
SELECT $baseline, $reform, k.scheme_id, k.year, k.region,
       coalesce(b.tax, 0), coalesce(r.tax, 0), coalesce(r.tax, 0) - coalesce(b.tax, 0),
       coalesce(r.tax_low, 0) - coalesce(b.tax_low, 0), coalesce(r.tax_high, 0) - coalesce(b.tax_high, 0),
       current_timestamp
FROM k LEFT JOIN b USING (scheme_id, year, region) LEFT JOIN r USING (scheme_id, year, region);

DELETE FROM tax.budget_windows WHERE baseline_scenario = $baseline AND reform_scenario = $reform;

INSERT INTO tax.budget_windows
WITH yearly AS (
    SELECT scheme_id, year, sum(tax_baseline_kzt) AS b, sum(tax_reform_kzt) AS r
    FROM tax.comparison WHERE baseline_scenario = $baseline AND reform_scenario = $reform GROUP BY ALL
    UNION ALL
    SELECT 'all schemes', year, sum(tax_baseline_kzt), sum(tax_reform_kzt)
    FROM tax.comparison WHERE baseline_scenario = $baseline AND reform_scenario = $reform GROUP BY ALL
),
start AS (
    SELECT coalesce(min(year) FILTER (WHERE abs(r - b) > 0.005), min(year)) AS y0
    FROM yearly WHERE scheme_id = 'all schemes'
),
w AS (SELECT unnest([1, 3, 5]) AS n)
SELECT $baseline, $reform, y.scheme_id, w.n, s.y0, s.y0 + w.n - 1, count(*),
       sum(y.b), sum(y.r), sum(y.r - y.b), current_timestamp
FROM yearly y, start s, w
WHERE y.year BETWEEN s.y0 AND s.y0 + w.n - 1
GROUP BY y.scheme_id, w.n, s.y0;
