-- model: plan_partitions (query)
-- grain: partition (farm bucket × month)
-- units: readings
-- reads: core.energy_reading_partitions, core.energy_reading_segments
-- recompute: per run (the months the run recomputes)
-- params: none
-- The partitions of the months a run recomputes (positional: first month, last month, first days), in (month,
-- bucket) order, each with its files in load order (relative to the readings store), the number of loaded files
-- among them and its readings: what minetax.model.partials.plan groups into map tasks.
SELECT p.bucket, p.month, list(p.path ORDER BY s.seq) AS files, count(DISTINCT p.segment) AS segments,
       sum(p.rows) AS rows
FROM core.energy_reading_partitions p JOIN core.energy_reading_segments s ON s.sha256 = p.segment
WHERE p.month BETWEEN ? AND ?
GROUP BY p.bucket, p.month
ORDER BY p.month, p.bucket
