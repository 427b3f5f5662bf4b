-- model: readings_flags_raw (rows: duplicate keys)
-- grain: file row (_row)
-- units: none (flags)
-- reads: typed_energy_readings, core.energy_readings
-- recompute: per file staged
-- params: none
-- also: reading_timeline
-- the general check of keys and overlaps, for a readings file that is not in
-- (farm, time) order. Grain: file row (_row); duplicates are written to temp table readings_flags_raw, and the
-- timeline for sql/staging/overlaps_energy_readings.sql is defined (temp view reading_timeline).
-- duplicate: another row of the file has the same farm_id and ts_start (as Great Expectations'
-- compound-uniqueness rule: every row of the key, rows with both NULL ignored). overlapping: the interval
-- overlaps another reading of the farm, in the file or in core within the file's time range (a core
-- reading with the same key is replaced by the file's, so it is not an overlap).
INSERT INTO readings_flags_raw (_row, duplicate, overlapping)
SELECT t._row, true AS duplicate, false AS overlapping
FROM typed_energy_readings t
WHERE EXISTS (SELECT 1 FROM (SELECT farm_id, ts_start FROM typed_energy_readings
                             WHERE farm_id IS NOT NULL OR ts_start IS NOT NULL
                             GROUP BY ALL HAVING count(*) > 1) d
              WHERE d.farm_id IS NOT DISTINCT FROM t.farm_id AND d.ts_start IS NOT DISTINCT FROM t.ts_start)
  AND (t.farm_id IS NOT NULL OR t.ts_start IS NOT NULL);

-- the timeline for sql/staging/overlaps_energy_readings.sql: the whole file, and core readings in its time range
CREATE OR REPLACE TEMP VIEW reading_timeline AS
WITH typed AS (SELECT _row, farm_id, ts_start, ts_end FROM typed_energy_readings),
bounds AS (
    SELECT min(ts_start) - INTERVAL 32 DAY AS lo, max(ts_end) AS hi FROM typed
)
SELECT farm_id, ts_start, ts_end, _row FROM typed
UNION ALL
SELECT c.farm_id, c.ts_start, c.ts_end, NULL AS _row
FROM core.energy_readings c, bounds b
WHERE c.ts_start BETWEEN b.lo AND b.hi
  AND c.farm_id IN (SELECT DISTINCT farm_id FROM typed)
  AND NOT EXISTS (SELECT 1 FROM typed t WHERE t.farm_id = c.farm_id AND t.ts_start = c.ts_start);
