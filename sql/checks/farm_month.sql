-- model: output.farm_month (query for the output suite)
-- grain: farm × month
-- units: as model.farm_month
-- reads: model.farm_month
-- recompute: per run (after the model stage)
-- params: $scenario_id
-- model.farm_month of one scenario with check columns for the output suite.
-- Grain: farm × month. The low/central/high bands must be ordered; coins known where energy was used.
SELECT m.*,
       hashrate_low_ths <= hashrate_ths + 1e-9 AND hashrate_ths <= hashrate_high_ths + 1e-9 AS hashrate_band_ordered_ok,
       energy_kwh = 0 OR (btc_mined IS NOT NULL AND btc_mined_low <= btc_mined + 1e-12
                          AND btc_mined <= btc_mined_high + 1e-12) AS btc_mined_known_and_ordered_ok
FROM model.farm_month m
WHERE m.scenario_id = $scenario_id;
