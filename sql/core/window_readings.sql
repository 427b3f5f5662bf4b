-- model: window_readings (temp view)
-- grain: farm × interval
-- units: energy kWh; price KZT/kWh
-- reads: window_registered, core.energy_readings_replaced
-- recompute: per run (the months the run recomputes)
-- params: none
-- core.energy_readings restricted to the partitions of the months a run recomputes (minetax.load.segments.
-- window_view registers their files as window_registered: read_parquet for a folder store, Arrow for an object
-- store), less the readings later files replaced. Read by model files that need readings themselves; the
-- farm × day energy comes from the map's partials (sql/map/).
CREATE OR REPLACE TEMP VIEW window_readings AS
SELECT r.farm_id, r.ts_start, r.ts_end, r.kwh, r.price_kzt_per_kwh, r.segment
FROM window_registered r
ANTI JOIN core.energy_readings_replaced x
       ON x.farm_id = r.farm_id AND x.ts_start = r.ts_start AND x.segment = r.segment;
