-- model: plan_replaced (query)
-- grain: farm × interval
-- units: none
-- reads: core.energy_readings_replaced, core.energy_reading_partitions, core.readings_layout
-- recompute: per run (the months the run recomputes)
-- params: none
-- The readings that later files replaced, within the given partition files (positional: a list of their paths
-- relative to the store): sent with the map task that reads those files, which leaves them out. A replaced reading
-- lies in the partition of its segment, its farm's bucket and the month of its ts_start.
SELECT x.farm_id, x.ts_start, x.segment
FROM core.energy_readings_replaced x
JOIN core.energy_reading_partitions p
  ON p.segment = x.segment AND p.month = CAST(date_trunc('month', x.ts_start) AS DATE)
 AND p.bucket = CAST(md5_number_lower(x.farm_id) % (SELECT max(buckets) FROM core.readings_layout) AS INTEGER)
WHERE list_contains(?, p.path)
ORDER BY ALL
