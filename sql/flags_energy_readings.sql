-- flags_energy_readings: the general check of keys and overlaps, for a readings file that is not in
-- (farm, time) order. Grain: file row (_row); only flagged rows are written to temp table readings_flags_raw.
-- duplicate: another row of the file has the same farm_id and ts_start (as Great Expectations'
-- compound-uniqueness rule: every row of the key, rows with both NULL ignored). overlapping: the interval
-- overlaps another reading of the farm, in the file or in core within the file's time range (a core
-- reading with the same key is replaced by the file's, so it is not an overlap).
INSERT INTO readings_flags_raw
SELECT t._row, true AS duplicate, false AS overlapping
FROM typed_energy_readings t
WHERE EXISTS (SELECT 1 FROM (SELECT farm_id, ts_start FROM typed_energy_readings
                             WHERE farm_id IS NOT NULL OR ts_start IS NOT NULL
                             GROUP BY ALL HAVING count(*) > 1) d
              WHERE d.farm_id IS NOT DISTINCT FROM t.farm_id AND d.ts_start IS NOT DISTINCT FROM t.ts_start)
  AND (t.farm_id IS NOT NULL OR t.ts_start IS NOT NULL);

INSERT INTO readings_flags_raw
WITH typed AS (SELECT _row, farm_id, ts_start, ts_end FROM typed_energy_readings),
bounds AS (
    SELECT min(ts_start) - INTERVAL 32 DAY AS lo, max(ts_end) AS hi FROM typed
),
timeline AS (
    SELECT farm_id, ts_start, ts_end, _row FROM typed
    UNION ALL
    SELECT c.farm_id, c.ts_start, c.ts_end, NULL AS _row
    FROM core.energy_readings c, bounds b
    WHERE c.ts_start BETWEEN b.lo AND b.hi
      AND c.farm_id IN (SELECT DISTINCT farm_id FROM typed)
      AND NOT EXISTS (SELECT 1 FROM typed t WHERE t.farm_id = c.farm_id AND t.ts_start = c.ts_start)
),
overlap_check AS (
    SELECT _row,
           coalesce(ts_start < lag(ts_end) OVER w, false)
             OR coalesce(ts_end > lead(ts_start) OVER w, false) AS overlapping
    FROM timeline
    WINDOW w AS (PARTITION BY farm_id ORDER BY ts_start, ts_end)
)
SELECT DISTINCT _row, false AS duplicate, true AS overlapping FROM overlap_check
WHERE _row IS NOT NULL AND overlapping;
