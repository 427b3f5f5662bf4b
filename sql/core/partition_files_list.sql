-- model: partition_files_list (query)
-- grain: partition file
-- units: none
-- reads: core.energy_reading_partitions, core.energy_reading_segments
-- recompute: per query
-- params: none
-- The listed partition files (paths relative to the readings store) in load order, optionally only the months
-- in [?, ?) (positional: lo, lo, hi, hi; NULL: no bound). Read by minetax.load.partitions.files.
SELECT p.path
FROM core.energy_reading_partitions p JOIN core.energy_reading_segments s ON s.sha256 = p.segment
WHERE (CAST(? AS DATE) IS NULL OR p.month >= ?) AND (CAST(? AS DATE) IS NULL OR p.month < ?)
ORDER BY s.seq, p.bucket, p.month
