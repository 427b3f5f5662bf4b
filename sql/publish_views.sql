-- publish_views: the analyst views of the published snapshot (created inside the snapshot file).
-- revenue_by_month: scenario × scheme × calendar month; tax accrues in the month the kWh were used.
CREATE VIEW revenue_by_month AS
SELECT scenario_id, scheme_id, month, count(DISTINCT farm_id) FILTER (WHERE base_kwh > 0) AS farms,
       sum(base_kwh) AS base_kwh, sum(tax_kzt) AS tax_kzt, any_value(run_id) AS run_id
FROM estimates_month GROUP BY ALL ORDER BY scenario_id, scheme_id, month;

-- revenue_by_year: scenario × scheme × calendar year; farms = farms with consumption,
-- periods = tax periods with an estimate.
CREATE VIEW revenue_by_year AS
SELECT scenario_id, scheme_id, year(period_start) AS year,
       count(DISTINCT farm_id) FILTER (WHERE base_kwh > 0) AS farms,
       count(DISTINCT period_start) AS periods,
       sum(base_kwh) AS base_kwh, sum(tax_kzt) AS tax_kzt, any_value(run_id) AS run_id
FROM estimates GROUP BY ALL ORDER BY scenario_id, scheme_id, year;

-- revenue_by_region: scenario × scheme × region × tax period.
CREATE VIEW revenue_by_region AS
SELECT e.scenario_id, e.scheme_id, f.region, e.period_start, e.period_end,
       sum(e.base_kwh) AS base_kwh, sum(e.tax_kzt) AS tax_kzt
FROM estimates e JOIN farms f USING (farm_id) GROUP BY ALL
ORDER BY e.scenario_id, e.scheme_id, f.region, e.period_start;

-- data_quality: validation results per run and suite.
CREATE VIEW data_quality AS
SELECT run_id, suite, target, count(*) AS expectations, count(*) FILTER (WHERE success) AS passed,
       count(*) FILTER (WHERE NOT success) AS failed, sum(unexpected_count) AS unexpected_rows
FROM validations GROUP BY ALL ORDER BY run_id, suite, target;
