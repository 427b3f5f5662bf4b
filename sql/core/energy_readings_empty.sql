-- model: core.energy_readings (view, no segments yet)
-- grain: farm × interval
-- units: energy kWh; price KZT/kWh
-- reads: none
-- recompute: per file staged (and when the warehouse is opened)
-- params: none
-- variant of: core/energy_readings.sql
-- core.energy_readings before any readings file is loaded (no segments yet).
-- Grain and units as sql/core/energy_readings.sql.
CREATE OR REPLACE VIEW core.energy_readings AS
SELECT CAST(NULL AS VARCHAR) AS farm_id, CAST(NULL AS TIMESTAMP) AS ts_start, CAST(NULL AS TIMESTAMP) AS ts_end,
       CAST(NULL AS DOUBLE) AS kwh, CAST(NULL AS DOUBLE) AS price_kzt_per_kwh, CAST(NULL AS VARCHAR) AS segment
WHERE false;
