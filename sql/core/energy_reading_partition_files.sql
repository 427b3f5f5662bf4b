-- model: energy_reading_partition_files (query)
-- grain: partition file (one farm bucket × month of ts_start)
-- units: rows
-- reads: bucket_source
-- recompute: per file staged
-- params: $dir (literal), $pattern (literal)
-- Write the readings of one farm bucket of one validated readings file as Parquet partitioned by month (Hive layout
-- ym=YYYYMM/<sha256>_<i>.parquet under $dir, the bucket's folder bucket=B in a folder of the run's own), one query.
-- minetax.load.partitions runs it once per bucket (bucket_source: the file's readings of farms of that bucket),
-- so a write holds the months of one bucket open, not buckets × months: at a billion readings (8 buckets × 36
-- months) one write of all partitions at once spilled 24 GB under a 3 GB memory limit. Returns one row per file
-- written (name, rows, partition keys), which minetax.load.partitions moves into the readings store and lists in
-- core.energy_reading_partitions (after checking that the rows written add up to the file's). A reading lies within
-- one month (validated), so the month of its ts_start is its partition; year × 100 + month is cheaper than
-- truncating 100M timestamps. The rows do not carry their segment (the file's sha256): every file is named after it
-- (<sha256>_<i>.parquet) and readers take it from the name (sql/core/energy_readings.sql, minetax.storage
-- readings_relation), once per file; a 64-character value in every row made the write 40% slower (10M readings:
-- 2.1-2.5 s with it, 1.4-1.5 s without). partition_source is a temp view over the staged file (the file itself when
-- it has core's types), already restricted to the bucket's farms when there are several buckets.
COPY (
    SELECT r.farm_id, r.ts_start, r.ts_end, r.kwh, r.price_kzt_per_kwh,
           year(r.ts_start) * 100 + month(r.ts_start) AS ym
    FROM bucket_source r
) TO $dir (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (ym), FILENAME_PATTERN $pattern, RETURN_STATS true);
