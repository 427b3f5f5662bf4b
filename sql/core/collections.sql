-- model: core.collections
-- grain: jurisdiction × scheme × tax period
-- units: KZT
-- reads: stage_collections
-- recompute: per file staged (upsert)
-- params: none
-- upsert collections (grain: jurisdiction × scheme × tax period; KZT).
INSERT OR REPLACE INTO core.collections
SELECT jurisdiction, scheme_id, period_start, period_end, collected_kzt, source FROM stage_collections;
