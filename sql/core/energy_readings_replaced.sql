-- model: core.energy_readings_replaced (rows)
-- grain: farm × interval
-- units: energy kWh
-- reads: core.energy_readings (previous), reading_spans, typed_energy_readings
-- recompute: per file staged
-- params: $segment
-- readings in core that the staged file replaces (same farm_id and ts_start), listed
-- with their segment (and kWh) so that core.energy_readings leaves them out; the file's own readings ($segment,
-- when the same content is loaded again) are not. Grain: farm × interval. kWh. Reads temp table reading_spans
-- to look only where the file has readings.
INSERT INTO core.energy_readings_replaced (farm_id, ts_start, segment, kwh)
SELECT c.farm_id, c.ts_start, c.segment, c.kwh
FROM core.energy_readings c JOIN reading_spans s USING (farm_id)
WHERE c.ts_start >= s.lo AND c.ts_start < s.hi
  AND c.segment <> $segment  -- the file's own readings, when the same content is loaded again
  AND EXISTS (SELECT 1 FROM typed_energy_readings t WHERE t.farm_id = c.farm_id AND t.ts_start = c.ts_start);
