-- merge_fx: upsert exchange rates (grain: pair × date).
INSERT OR REPLACE INTO core.fx SELECT pair, date, rate, source FROM stage_fx;
