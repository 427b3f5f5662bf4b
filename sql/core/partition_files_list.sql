-- model: partition_files_list (query)
-- grain: partition file
-- units: none
-- reads: core.energy_reading_partitions, core.energy_reading_segments
-- recompute: per query
-- params: none
-- The listed partition files (paths relative to the readings store) in load order. Read by
-- minetax.load.partitions.files.
SELECT p.path
FROM core.energy_reading_partitions p JOIN core.energy_reading_segments s ON s.sha256 = p.segment
ORDER BY s.seq, p.bucket, p.month
