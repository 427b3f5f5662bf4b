-- merge_country_share: upsert hashrate shares (grain: country × month; fraction).
INSERT OR REPLACE INTO core.country_share SELECT country, month, share, source FROM stage_country_share;
