-- model: meta.changes (rows for energy_readings)
-- grain: month
-- units: none (months)
-- reads: typed_energy_readings, core.energy_readings
-- recompute: per file staged
-- params: $run_id
-- months whose readings the staged file adds or alters (for incremental recompute).
-- Grain: month. Run before the file is listed as a segment (minetax.segments). Parameter: $run_id.
INSERT INTO meta.changes (run_id, dataset, month)
SELECT DISTINCT $run_id, 'energy_readings', CAST(date_trunc('month', s.ts_start) AS DATE)
FROM typed_energy_readings s
LEFT JOIN core.energy_readings c USING (farm_id, ts_start)
WHERE c.farm_id IS NULL OR c.ts_end IS DISTINCT FROM s.ts_end OR c.kwh IS DISTINCT FROM s.kwh
   OR c.price_kzt_per_kwh IS DISTINCT FROM s.price_kzt_per_kwh;
