-- model: core.energy_readings (view, object store)
-- grain: farm × interval (key farm_id, ts_start)
-- units: energy kWh; price KZT/kWh
-- reads: readings_registered, core.energy_readings_replaced
-- recompute: per file staged (and when the warehouse is opened)
-- params: none
-- variant of: core/energy_readings.sql
-- core.energy_readings when the readings store is an object store (s3://…): DuckDB cannot read S3 itself here (no
-- httpfs), so minetax.load.partitions registers the listed partition files as an Arrow dataset,
-- readings_registered, on the warehouse connection each time it is opened, and this view reads it. Grain, units
-- and the replaced readings as sql/core/energy_readings.sql.
CREATE OR REPLACE VIEW core.energy_readings AS
SELECT r.farm_id, r.ts_start, r.ts_end, r.kwh, r.price_kzt_per_kwh, r.segment
FROM readings_registered r
ANTI JOIN core.energy_readings_replaced x
       ON x.farm_id = r.farm_id AND x.ts_start = r.ts_start AND x.segment = r.segment;
