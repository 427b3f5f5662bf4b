-- model: map_partials (temp view, no readings in the window)
-- grain: farm × day (as sql/map/partial_energy.sql), farm × month × hour (as sql/map/partial_hours.sql)
-- units: energy kWh; cost KZT
-- reads: none
-- recompute: per run (the months the run recomputes)
-- params: none
-- also: map_partial_hours
-- The map's partials when the run's months hold no readings partition: no rows, the partials' columns.
CREATE OR REPLACE TEMP VIEW map_partials AS
SELECT CAST(NULL AS VARCHAR) AS farm_id, CAST(NULL AS DATE) AS day, CAST(NULL AS TIMESTAMP) AS multi_start,
       CAST(NULL AS TIMESTAMP) AS multi_end, CAST(NULL AS DOUBLE) AS kwh, CAST(NULL AS DOUBLE) AS cost_kzt,
       CAST(NULL AS BIGINT) AS readings
WHERE false;
CREATE OR REPLACE TEMP VIEW map_partial_hours AS
SELECT CAST(NULL AS VARCHAR) AS farm_id, CAST(NULL AS DATE) AS month, CAST(NULL AS INTEGER) AS hour,
       CAST(NULL AS DOUBLE) AS kwh, CAST(NULL AS DOUBLE) AS cost_kzt
WHERE false;
