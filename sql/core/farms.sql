-- model: core.farms
-- grain: farm
-- units: capacity MW
-- reads: stage_farms
-- recompute: per file staged (upsert)
-- params: none
-- upsert validated farms into core.farms (grain: farm; key farm_id). Idempotent.
INSERT OR REPLACE INTO core.farms (farm_id, name, region, energy_source, connection, metered, licensed, capacity_mw,
                                  commissioned_on, decommissioned_on, taxpayer_id)
SELECT farm_id, name, region, energy_source, connection, metered, licensed, capacity_mw,
       commissioned_on, decommissioned_on, taxpayer_id
FROM stage_farms;
