-- model: readings_flags_raw (rows: overlapping intervals)
-- grain: file row (_row)
-- units: none (flags)
-- reads: reading_timeline
-- recompute: per file staged
-- params: none
-- rows of the staged readings file whose interval overlaps another reading of the
-- same farm on temp view reading_timeline (file rows with their _row, core rows with _row NULL), which
-- flags_energy_readings.sql or flags_core_energy_readings.sql defines. Both rows of an overlapping pair are
-- flagged. Grain: file row (_row); flagged rows go to temp table readings_flags_raw.
-- In start order a reading overlaps an earlier one when it starts before the latest end so far (not only the
-- previous reading's end: a long reading can cover several short ones), and a later one when it ends after
-- the next start.
INSERT INTO readings_flags_raw (_row, duplicate, overlapping)
WITH overlap_check AS (
    SELECT _row,
           coalesce(ts_start < max(ts_end) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false)
             OR coalesce(ts_end > lead(ts_start) OVER w, false) AS overlapping
    FROM reading_timeline
    WINDOW w AS (PARTITION BY farm_id ORDER BY ts_start, ts_end)
)
SELECT DISTINCT _row, false AS duplicate, true AS overlapping FROM overlap_check
WHERE _row IS NOT NULL AND overlapping;
