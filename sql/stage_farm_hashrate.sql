-- stage_farm_hashrate: reported farm hashrate as typed rows, with check columns. Grain: farm × day; TH/s.
CREATE OR REPLACE TEMP TABLE stage_farm_hashrate AS
SELECT
    _row,
    trim(CAST(farm_id AS VARCHAR)) AS farm_id,
    TRY_CAST(date AS DATE) AS date,
    TRY_CAST(hashrate_ths AS DOUBLE) AS hashrate_ths,
    coalesce(isfinite(TRY_CAST(hashrate_ths AS DOUBLE)), false) AS hashrate_finite_ok,
    trim(CAST(farm_id AS VARCHAR)) IN (SELECT farm_id FROM stage_farms UNION SELECT farm_id FROM core.farms)
        AS farm_known_ok
FROM src_farm_hashrate;
