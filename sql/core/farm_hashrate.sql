-- merge_farm_hashrate: upsert reported hashrate (grain: farm × day; TH/s).
INSERT OR REPLACE INTO core.farm_hashrate SELECT farm_id, date, hashrate_ths FROM stage_farm_hashrate;
