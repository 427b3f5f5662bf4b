-- model: output.reconcile (query for the output suite)
-- grain: scenario × scheme
-- units: relative differences (fraction); counts
-- reads: readings_total, model.farm_month, tax.estimates_month, tax.estimates
-- recompute: per scheme (after the tax stage)
-- params: $scenario_id, $scheme_id, $tax_period
-- totals that must agree across grains, one row per scenario × scheme.
-- kWh: readings vs farm_month vs estimates; KZT: tax by month vs tax by period; counts: farm-periods
-- expected (a farm operating in a tax period) vs estimated.
WITH readings AS (SELECT kwh FROM readings_total),  -- all readings' kWh, summed once per run (model/readings_total.sql)
farm_months AS (SELECT sum(energy_kwh) AS kwh FROM model.farm_month WHERE scenario_id = $scenario_id),
by_month AS (SELECT sum(base_kwh) AS kwh, sum(tax_kzt) AS tax FROM tax.estimates_month
             WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id),
by_period AS (SELECT sum(base_kwh) AS kwh, sum(tax_kzt) AS tax, count(*) AS n FROM tax.estimates
              WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id),
expected AS (SELECT count(DISTINCT (farm_id, CAST(date_trunc($tax_period, month) AS DATE))) AS n
             FROM model.farm_month WHERE scenario_id = $scenario_id)
SELECT $scenario_id AS scenario_id, $scheme_id AS scheme_id,
       abs(readings.kwh - farm_months.kwh) / greatest(readings.kwh, 1) AS kwh_readings_vs_model_rel_diff,
       abs(farm_months.kwh - by_period.kwh) / greatest(farm_months.kwh, 1) AS kwh_model_vs_estimates_rel_diff,
       abs(by_month.tax - by_period.tax) / greatest(by_period.tax, 1) AS tax_month_vs_period_rel_diff,
       expected.n AS farm_periods_expected, by_period.n AS farm_periods_estimated
FROM readings, farm_months, by_month, by_period, expected;
