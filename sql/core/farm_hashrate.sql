-- model: core.farm_hashrate
-- grain: farm × day
-- units: hashrate TH/s
-- reads: stage_farm_hashrate
-- recompute: per file staged (upsert)
-- params: none
-- upsert reported hashrate (grain: farm × day; TH/s).
INSERT OR REPLACE INTO core.farm_hashrate SELECT farm_id, date, hashrate_ths FROM stage_farm_hashrate;
