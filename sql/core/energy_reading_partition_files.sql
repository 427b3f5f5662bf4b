-- model: energy_reading_partition_files (query)
-- grain: partition file (farm bucket × month of ts_start)
-- units: rows
-- reads: partition_source, farm_buckets, core.readings_layout
-- recompute: per file staged
-- params: $dir (literal), $pattern (literal), $segment (literal)
-- Write one validated readings file as Parquet partitioned by farm bucket and month (Hive layout
-- bucket=B/ym=YYYYMM/<sha256>_<i>.parquet under $dir, a folder of the run's own), one query, one pass. Returns one
-- row per file written (name, rows, partition keys), which minetax.load.partitions moves into the readings store
-- and lists in core.energy_reading_partitions. A reading lies within one month (validated), so the month of its
-- ts_start is its partition; year × 100 + month is cheaper than truncating 100M timestamps. A farm missing from
-- farm_buckets (impossible after validation: readings name known farms) would still get its stable bucket.
-- Each row carries its segment (the file's sha256: one dictionary value per file, a few bytes), so that a reader
-- of the store, DuckDB or Arrow, knows which readings a later file replaced without the file's name.
-- partition_source is a temp view over the staged file (the file itself when it has core's types).
COPY (
    SELECT r.farm_id, r.ts_start, r.ts_end, r.kwh, r.price_kzt_per_kwh, $segment AS segment,
           coalesce(b.bucket, CAST(md5_number_lower(r.farm_id) % (SELECT max(buckets) FROM core.readings_layout)
                    AS INTEGER)) AS bucket,
           year(r.ts_start) * 100 + month(r.ts_start) AS ym
    FROM partition_source r LEFT JOIN farm_buckets b USING (farm_id)
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (bucket, ym), FILENAME_PATTERN $pattern,
           RETURN_STATS true);
