-- model: readings_total (temp table)
-- grain: one row
-- units: energy kWh
-- reads: core.energy_reading_segments, core.energy_readings_replaced
-- recompute: per run
-- params: none
-- Run with the model files, and after sql/model/model_copy.sql when the model rows are copied.
-- The kWh of all readings as loaded (each segment's total, less the readings later files replaced), for the
-- reconciliation check of every scheme (sql/checks/reconcile.sql): counted at load, independent of the model.
CREATE OR REPLACE TEMP TABLE readings_total AS
SELECT (SELECT coalesce(sum(kwh), 0) FROM core.energy_reading_segments)
     - (SELECT coalesce(sum(kwh), 0) FROM core.energy_readings_replaced) AS kwh;
