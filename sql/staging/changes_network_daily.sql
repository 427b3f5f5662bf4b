-- model: meta.changes (rows for network_daily)
-- grain: month
-- units: none (months)
-- reads: stage_network_daily, core.network_daily
-- recompute: per file staged
-- params: $run_id
-- months whose network figures the staged file adds or alters. Grain: month.
INSERT INTO meta.changes (run_id, dataset, month)
SELECT DISTINCT $run_id, 'network_daily', CAST(date_trunc('month', s.date) AS DATE)
FROM stage_network_daily s
LEFT JOIN core.network_daily c USING (date)
WHERE c.date IS NULL OR (c.hashrate_ths, c.subsidy_btc, c.fees_btc, c.price_usd)
      IS DISTINCT FROM (s.hashrate_ths, s.subsidy_btc, s.fees_btc, s.price_usd);
