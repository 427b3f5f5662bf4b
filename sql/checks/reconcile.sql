-- check_reconcile: totals that must agree across grains, one row per scenario × scheme.
-- kWh: readings vs farm_month vs estimates; KZT: tax by month vs tax by period; counts: farm-periods
-- expected (a farm operating in a tax period) vs estimated.
WITH readings AS (SELECT kwh FROM readings_total),  -- all readings' kWh, summed once per run (model_farm_month.sql)
fm AS (SELECT sum(energy_kwh) AS kwh FROM model.farm_month WHERE scenario_id = $scenario_id),
em AS (SELECT sum(base_kwh) AS kwh, sum(tax_kzt) AS tax FROM tax.estimates_month
       WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id),
ep AS (SELECT sum(base_kwh) AS kwh, sum(tax_kzt) AS tax, count(*) AS n FROM tax.estimates
       WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id),
expected AS (SELECT count(DISTINCT (farm_id, CAST(date_trunc($tax_period, month) AS DATE))) AS n
             FROM model.farm_month WHERE scenario_id = $scenario_id)
SELECT $scenario_id AS scenario_id, $scheme_id AS scheme_id,
       abs(readings.kwh - fm.kwh) / greatest(readings.kwh, 1) AS kwh_readings_vs_model_rel_diff,
       abs(fm.kwh - ep.kwh) / greatest(fm.kwh, 1) AS kwh_model_vs_estimates_rel_diff,
       abs(em.tax - ep.tax) / greatest(ep.tax, 1) AS tax_month_vs_period_rel_diff,
       expected.n AS farm_periods_expected, ep.n AS farm_periods_estimated
FROM readings, fm, em, ep, expected;
