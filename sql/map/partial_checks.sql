-- model: partial_checks (query)
-- grain: rule (one row per rule broken, with its count and up to five example readings)
-- units: readings
-- reads: task_rows
-- recompute: per map task
-- params: none
-- The per-farm rules across the loaded files of one map task: a key (farm_id, ts_start) held twice, and a reading
-- that starts before the farm's previous reading ended (an overlap), each named with its file (segment). Each file
-- was checked on its own when it was loaded, and against the readings already loaded near it; this is the same
-- rule over what the store now holds, run only where a partition holds readings of more than one file (a farm lies
-- in one bucket, so a farm's readings of one month are all in this task). One sort of the task's rows by farm and
-- time. Gaps (a reading starting after the previous one ended) are counted too, as information, not a failure.
WITH ordered AS (
    SELECT farm_id, ts_start, ts_end, segment,
           lag(ts_start) OVER w AS prev_start, lag(ts_end) OVER w AS prev_end, lag(segment) OVER w AS prev_segment
    FROM task_rows
    WINDOW w AS (PARTITION BY farm_id ORDER BY ts_start, ts_end)
),
flagged AS (
    SELECT CASE WHEN ts_start = prev_start THEN 'duplicate key (farm_id, ts_start) in two loaded files'
                WHEN ts_start < prev_end THEN 'reading overlaps the previous reading of the farm'
                ELSE 'gap before the reading (information)' END AS rule,
           ts_start > prev_end AS info,
           'farm_id=' || farm_id || ', ts_start=' || CAST(ts_start AS VARCHAR) || ', ts_end=' || CAST(ts_end AS VARCHAR)
             || ' (file ' || left(segment, 12) || '…; previous reading ' || CAST(prev_start AS VARCHAR) || '..'
             || CAST(prev_end AS VARCHAR) || ' from file ' || left(prev_segment, 12) || '…)' AS example
    FROM ordered
    WHERE prev_start IS NOT NULL AND ts_start <> prev_end
)
SELECT rule, bool_and(info) AS info, count(*) AS readings, list(example ORDER BY example)[1:5] AS examples
FROM flagged GROUP BY rule ORDER BY rule
