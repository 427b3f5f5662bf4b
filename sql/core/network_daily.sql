-- model: core.network_daily
-- grain: UTC day
-- units: hashrate TH/s; subsidy and fees BTC/day; price USD/BTC
-- reads: stage_network_daily
-- recompute: per file staged (upsert)
-- params: none
-- upsert network figures (grain: UTC day). TH/s, BTC/day, USD/BTC.
INSERT OR REPLACE INTO core.network_daily
SELECT date, hashrate_ths, difficulty, blocks, subsidy_btc, fees_btc, fees_source, price_usd
FROM stage_network_daily;
