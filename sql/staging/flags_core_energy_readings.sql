-- model: reading_timeline (temp view)
-- grain: reading
-- units: none (keys and times)
-- reads: core.energy_readings, reading_spans, typed_energy_readings
-- recompute: per file staged
-- params: none
-- variant of: staging/flags_energy_readings.sql
-- for an ordered readings file (already checked against itself in one pass by
-- minetax.reading_order), the timeline in which sql/staging/overlaps_energy_readings.sql looks for overlaps with the
-- readings in core near it: temp view reading_timeline, the file's rows of farms with core readings near their
-- span, and those core readings. Grain: reading. Reads temp table reading_spans (farm_id, lo = first ts_start,
-- hi = last ts_end of the farm in the file). A core reading lies within one month, so one that overlaps
-- [lo, hi) starts after lo - 32 days. A core reading with the same key is replaced, not an overlap.
CREATE OR REPLACE TEMP VIEW reading_timeline AS
WITH near AS (
    SELECT c.farm_id, c.ts_start, c.ts_end
    FROM core.energy_readings c JOIN reading_spans s USING (farm_id)
    WHERE c.ts_start > s.lo - INTERVAL 32 DAY AND c.ts_start < s.hi AND c.ts_end > s.lo
),
near_farms AS (SELECT DISTINCT farm_id FROM near)
SELECT t.farm_id, t.ts_start, t.ts_end, t._row
FROM typed_energy_readings t SEMI JOIN near_farms USING (farm_id)
UNION ALL
SELECT n.farm_id, n.ts_start, n.ts_end, NULL AS _row
FROM near n ANTI JOIN typed_energy_readings t USING (farm_id, ts_start);
