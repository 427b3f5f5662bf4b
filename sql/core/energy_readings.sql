-- model: core.energy_readings (view)
-- grain: farm × interval (key farm_id, ts_start)
-- units: energy kWh; price KZT/kWh
-- reads: core.energy_readings_replaced
-- recompute: per file staged (and when the warehouse is opened)
-- params: $files (literal: the listed partition files of a folder store, in load order), $segment_of_name (literal:
--   the pattern of a partition file's name whose group 1 is the segment, minetax.storage.SEGMENT_OF_NAME)
-- also: core.readings_of
-- The loaded meter readings, as one relation over the partition files listed in core.energy_reading_partitions
-- (minetax.load.partitions). `segment` is the sha256 of the loaded file a row comes from, taken from the partition
-- file's name (<sha256>_<i>.parquet; files written before 2026-11-27 also hold it as a column, not read). Rows replaced by a later file (core.energy_readings_replaced) are left out by an anti-join,
-- hashed on that small table (empty: the join passes every row). minetax.load.segments runs this file with the
-- file list.
-- core.readings_of(files): the readings of the given partition files, less those replaced (a table macro:
-- DuckDB needs the list of files as a constant).
-- An object store's files are read through Arrow instead: sql/core/energy_readings_registered.sql.
CREATE OR REPLACE MACRO core.readings_of(files) AS TABLE
SELECT r.farm_id, r.ts_start, r.ts_end, r.kwh, r.price_kzt_per_kwh, r.segment
FROM (SELECT farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh,
             regexp_extract(filename, $segment_of_name, 1) AS segment  -- parsed once per file
      FROM read_parquet(files, union_by_name = false, filename = true)) r  -- binds on the first file only
ANTI JOIN core.energy_readings_replaced x
       ON x.farm_id = r.farm_id AND x.ts_start = r.ts_start AND x.segment = r.segment;

CREATE OR REPLACE VIEW core.energy_readings AS
SELECT farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh, segment FROM core.readings_of($files);
