-- model: core.energy_readings (view)
-- grain: farm × interval (key farm_id, ts_start)
-- units: energy kWh; price KZT/kWh
-- reads: core.energy_readings_replaced
-- recompute: per file staged (and when the warehouse is opened)
-- params: $segments (literal: the listed segment files, in load order)
-- also: core.readings_of
-- The loaded meter readings, as one relation over the Parquet segments listed in core.energy_reading_segments.
-- `segment` is the sha256 of the segment a row comes from (its file name). Rows replaced by a later file
-- (core.energy_readings_replaced) are left out by an anti-join, hashed on that small table (empty: the join
-- passes every row). minetax.load.segments runs this file with the segment list; sql/core/window_readings.sql
-- reads the same macro over the segments of the months a run recomputes.
-- core.readings_of(segments): the readings of the given segment files, less those replaced (a table macro:
-- DuckDB needs the list of files as a constant, so the view and the window each call it with theirs).
CREATE OR REPLACE MACRO core.readings_of(segments) AS TABLE
SELECT r.farm_id, r.ts_start, r.ts_end, r.kwh, r.price_kzt_per_kwh, parse_filename(r.filename, true) AS segment
FROM read_parquet(segments, filename = true, union_by_name = true) r
ANTI JOIN core.energy_readings_replaced x
       ON x.farm_id = r.farm_id AND x.ts_start = r.ts_start AND x.segment = parse_filename(r.filename, true);

CREATE OR REPLACE VIEW core.energy_readings AS
SELECT farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh, segment FROM core.readings_of($segments);
