-- flags_core_energy_readings: overlaps between an ordered readings file (already checked against itself in
-- one pass by minetax.reading_order) and the readings in core near it. Grain: file row (_row); flagged rows
-- go to temp table readings_flags_raw. Reads temp table reading_spans (farm_id, lo = first ts_start,
-- hi = last ts_end of the farm in the file). A core reading lies within one month, so one that overlaps
-- [lo, hi) starts after lo - 32 days. A core reading with the same key is replaced, not an overlap.
INSERT INTO readings_flags_raw
WITH near AS (
    SELECT c.farm_id, c.ts_start, c.ts_end
    FROM core.energy_readings c JOIN reading_spans s USING (farm_id)
    WHERE c.ts_start > s.lo - INTERVAL 32 DAY AND c.ts_start < s.hi AND c.ts_end > s.lo
),
near_farms AS (SELECT DISTINCT farm_id FROM near),
timeline AS (
    SELECT t.farm_id, t.ts_start, t.ts_end, t._row
    FROM typed_energy_readings t SEMI JOIN near_farms USING (farm_id)
    UNION ALL
    SELECT n.farm_id, n.ts_start, n.ts_end, NULL AS _row
    FROM near n ANTI JOIN typed_energy_readings t USING (farm_id, ts_start)
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
