-- model: published.estimates (the snapshot's tables, in the attached file pub)
-- grain: as in the warehouse
-- units: as in the warehouse
-- reads: pub, tax.estimates, tax.estimates_month, tax.estimates_country, model.farm_month, model.country_month,
--     core.farms, core.collections, tax.rate_rules, tax.comparison, tax.budget_windows, tax.forecast_by_year,
--     tax.forecast_budget_window, meta.runs, meta.inputs, meta.scheme_versions, meta.validations, meta.quarantine
-- recompute: per publish (whole snapshot)
-- params: $run_id
-- also: published.estimates_month, published.estimates_country, published.farm_month, published.country_month,
--     published.farms, published.collections, published.rate_rules, published.scheme_comparison,
--     published.budget_windows, published.forecast_by_year, published.forecast_budget_window, published.runs,
--     published.inputs, published.scheme_versions, published.validations, published.quarantine
-- copy the published outputs from the warehouse into the new snapshot attached as `pub`.
-- Tables keep their warehouse grain and units (see sql/schema.sql); views are added by publish_views.sql.
CREATE TABLE pub.estimates AS SELECT * FROM tax.estimates ORDER BY scenario_id, scheme_id, farm_id, period_start;
CREATE TABLE pub.estimates_month AS SELECT * FROM tax.estimates_month ORDER BY scenario_id, scheme_id, farm_id, month;
CREATE TABLE pub.estimates_country AS
SELECT * FROM tax.estimates_country ORDER BY scenario_id, scheme_id, country, period_start;
CREATE TABLE pub.farm_month AS SELECT * FROM model.farm_month ORDER BY scenario_id, farm_id, month;
CREATE TABLE pub.country_month AS SELECT * FROM model.country_month ORDER BY scenario_id, country, month;
CREATE TABLE pub.farms AS SELECT * FROM core.farms ORDER BY farm_id;
CREATE TABLE pub.collections AS SELECT * FROM core.collections ORDER BY jurisdiction, scheme_id, period_start;
CREATE TABLE pub.rate_rules AS SELECT * FROM tax.rate_rules ORDER BY scheme_id, scheme_version, valid_from, kind, rate;
CREATE TABLE pub.scheme_comparison AS
SELECT * FROM tax.comparison ORDER BY baseline_scenario, reform_scenario, scheme_id, year, region;
CREATE TABLE pub.budget_windows AS
SELECT * FROM tax.budget_windows ORDER BY baseline_scenario, reform_scenario, scheme_id, window_years;
CREATE TABLE pub.forecast_by_year AS
SELECT * FROM tax.forecast_by_year ORDER BY forecast_id, kind, compared_with, scheme_id = 'all schemes', scheme_id, year;
CREATE TABLE pub.forecast_budget_window AS
SELECT * FROM tax.forecast_budget_window
ORDER BY forecast_id, kind, compared_with, scheme_id = 'all schemes', scheme_id, window_years;
CREATE TABLE pub.runs AS  -- the run being published is 'publishing' in the warehouse until the swap is done
SELECT * REPLACE (CASE WHEN status = 'publishing' AND run_id = $run_id THEN 'succeeded' ELSE status END AS status)
FROM meta.runs ORDER BY started_at;
CREATE TABLE pub.inputs AS SELECT * FROM meta.inputs ORDER BY loaded_at, dataset;
CREATE TABLE pub.validations AS SELECT * FROM meta.validations ORDER BY checked_at, suite;
CREATE TABLE pub.quarantine AS SELECT * FROM meta.quarantine ORDER BY quarantined_at;
CREATE TABLE pub.scheme_versions AS SELECT * FROM meta.scheme_versions ORDER BY run_id, kind, id;
