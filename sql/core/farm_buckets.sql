-- model: farm_buckets (temp table)
-- grain: farm
-- units: bucket number (0 .. $buckets - 1)
-- reads: core.farms, stage_farms
-- recompute: per file staged
-- params: $buckets
-- The farm bucket of every known farm: a stable hash of the farm id (md5_number_lower: the last 8 bytes of its
-- MD5 digest read as a little-endian integer, modulo the number of buckets recorded in core.readings_layout), so
-- a farm's readings always land in the same bucket whatever file, run, machine or DuckDB version wrote them. Computed once per farm, not per reading: the partition
-- write joins the readings to this small table (hashing 100M farm ids row by row costs seconds).
CREATE OR REPLACE TEMP TABLE farm_buckets AS
SELECT farm_id, CAST(md5_number_lower(farm_id) % $buckets AS INTEGER) AS bucket
FROM (SELECT farm_id FROM core.farms UNION SELECT farm_id FROM stage_farms);
