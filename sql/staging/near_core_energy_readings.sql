-- model: near_core_energy_readings (query)
-- grain: one row
-- units: a count (0 or 1)
-- reads: core.energy_readings, reading_spans
-- recompute: per file staged (readings)
-- params: none
-- Whether core holds a reading of one of the staged file's farms near the file's span (it may overlap one, or be
-- replaced by it): 1 if so, else 0. A reading is at most 32 days long, so only core readings starting within 32
-- days before a farm's span are looked at.
SELECT count(*) AS near_readings
FROM (
    SELECT 1
    FROM core.energy_readings c JOIN reading_spans s USING (farm_id)
    WHERE c.ts_start > s.lo - INTERVAL 32 DAY AND c.ts_start < s.hi AND c.ts_end > s.lo
    LIMIT 1
);
