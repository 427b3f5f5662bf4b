-- model: core.fleet_efficiency
-- grain: month
-- units: efficiency J/TH
-- reads: stage_fleet_efficiency
-- recompute: per file staged (upsert)
-- params: none
-- upsert efficiency bounds (grain: month; J/TH).
INSERT OR REPLACE INTO core.fleet_efficiency
SELECT date, lower_j_per_th, estimated_j_per_th, upper_j_per_th, source FROM stage_fleet_efficiency;
