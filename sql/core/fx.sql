-- model: core.fx
-- grain: pair × date
-- units: rate quote per 1 base
-- reads: stage_fx
-- recompute: per file staged (upsert)
-- params: none
-- upsert exchange rates (grain: pair × date).
INSERT OR REPLACE INTO core.fx SELECT pair, date, rate, source FROM stage_fx;
