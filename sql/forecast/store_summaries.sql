-- model: tax.forecast_by_year
-- grain: forecast × kind × compared_with × scheme × year (and × window for tax.forecast_budget_window)
-- units: tax KZT (p10, p50, p90, mean); runs (count)
-- reads: forecast_by_year_in, forecast_windows_in
-- recompute: per forecast run (one forecast's rows replaced)
-- params: $run_id, $forecast_id, $kind, $compared_with, $runs, $seed
-- also: tax.forecast_budget_window
-- Replaces a forecast's summaries (tax.forecast_by_year, tax.forecast_budget_window)
-- with those of this run. Reads the registered frames forecast_by_year_in (scheme, year, p10, p50, p90, mean)
-- and forecast_windows_in (scheme, window_years, first_year, last_year, p10, p50, p90, mean), amounts in KZT.
DELETE FROM tax.forecast_by_year
WHERE forecast_id = $forecast_id AND kind = $kind AND coalesce(compared_with, '') = coalesce($compared_with, '');

DELETE FROM tax.forecast_budget_window
WHERE forecast_id = $forecast_id AND kind = $kind AND coalesce(compared_with, '') = coalesce($compared_with, '');

INSERT INTO tax.forecast_by_year (run_id, forecast_id, kind, compared_with, scheme_id, year,
                                  p10_kzt, p50_kzt, p90_kzt, mean_kzt, runs, seed)
SELECT $run_id, $forecast_id, $kind, $compared_with, scheme, year, p10, p50, p90, mean, $runs, $seed
FROM forecast_by_year_in;

INSERT INTO tax.forecast_budget_window (run_id, forecast_id, kind, compared_with, scheme_id, window_years,
                                        first_year, last_year, p10_kzt, p50_kzt, p90_kzt, mean_kzt, runs, seed)
SELECT $run_id, $forecast_id, $kind, $compared_with, scheme, window_years, first_year, last_year,
       p10, p50, p90, mean, $runs, $seed
FROM forecast_windows_in;
