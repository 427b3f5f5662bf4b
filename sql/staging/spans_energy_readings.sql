-- model: reading_spans (rows)
-- grain: farm
-- units: timestamps
-- reads: typed_energy_readings
-- recompute: per file staged
-- params: none
-- per farm, the time span of the staged readings file (first ts_start, last ts_end),
-- into temp table reading_spans. Grain: farm. Used by the general (unordered) path; the ordered path gets
-- the spans from its one pass.
INSERT INTO reading_spans (farm_id, lo, hi)
SELECT farm_id, min(ts_start) AS lo, max(ts_end) AS hi
FROM typed_energy_readings
WHERE farm_id IS NOT NULL AND ts_start IS NOT NULL AND ts_end IS NOT NULL
GROUP BY farm_id;
