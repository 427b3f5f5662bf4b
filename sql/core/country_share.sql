-- model: core.country_share
-- grain: country × month
-- units: share (fraction)
-- reads: stage_country_share
-- recompute: per file staged (upsert)
-- params: none
-- upsert hashrate shares (grain: country × month; fraction).
INSERT OR REPLACE INTO core.country_share SELECT country, month, share, source FROM stage_country_share;
