-- model: window_readings (temp view)
-- grain: farm × interval
-- units: energy kWh; price KZT/kWh
-- reads: core.readings_of
-- recompute: per run (the months the run recomputes)
-- params: $segments (literal: the segment files that may hold readings starting in the window)
-- core.energy_readings restricted to the segments whose listed time range overlaps the months a run recomputes
-- (minetax.load.segments.window_view), so a run recomputing one new month reads that month's file, not three
-- years of readings whose row groups (one farm each, over all years) min/max pruning cannot skip. Read by
-- sql/model/farm_month.sql.
CREATE OR REPLACE TEMP VIEW window_readings AS
SELECT farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh, segment FROM core.readings_of($segments);
