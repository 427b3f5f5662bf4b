-- view_energy_readings: core.energy_readings, the loaded meter readings, as one relation over the Parquet
-- segments listed in core.energy_reading_segments. Grain: farm × interval (key farm_id, ts_start).
-- Units: kWh, KZT/kWh. `segment` is the sha256 of the segment a row comes from. Rows replaced by a later file
-- (core.energy_readings_replaced) are left out by an anti-join, hashed on that small table. Built by
-- minetax.segments, which fills in the list of segment files and leaves the anti-join out while nothing is
-- replaced (the marked lines).
CREATE OR REPLACE VIEW core.energy_readings AS
SELECT r.farm_id, r.ts_start, r.ts_end, r.kwh, r.price_kzt_per_kwh, parse_filename(r.filename, true) AS segment
FROM read_parquet(/*segments*/, filename = true, union_by_name = true) r
/*replaced*/
ANTI JOIN core.energy_readings_replaced x
       ON x.farm_id = r.farm_id AND x.ts_start = r.ts_start AND x.segment = parse_filename(r.filename, true)
/*end*/;
