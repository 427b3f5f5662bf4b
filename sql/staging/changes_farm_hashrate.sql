-- model: meta.changes (rows for farm_hashrate)
-- grain: month
-- units: none (months)
-- reads: stage_farm_hashrate, core.farm_hashrate
-- recompute: per file staged
-- params: $run_id
-- months whose reported hashrate the staged file adds or alters. Grain: month.
INSERT INTO meta.changes (run_id, dataset, month)
SELECT DISTINCT $run_id, 'farm_hashrate', CAST(date_trunc('month', s.date) AS DATE)
FROM stage_farm_hashrate s
LEFT JOIN core.farm_hashrate c USING (farm_id, date)
WHERE c.farm_id IS NULL OR c.hashrate_ths IS DISTINCT FROM s.hashrate_ths;
