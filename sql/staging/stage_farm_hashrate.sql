-- model: stage_farm_hashrate (temp table)
-- grain: farm × day
-- units: hashrate TH/s; capacity MW
-- reads: src_farm_hashrate, stage_farms, core.farms
-- recompute: per file staged
-- params: none
-- reported farm hashrate as typed rows, with check columns. Grain: farm × day; TH/s.
-- farm_id_skeleton and farm_id_lookalikes: sql/staging/farm_id_macros.sql.

-- Known farms: the farms file of this run (stage_farms) over core.farms. A reported hashrate above what the farm's
-- capacity can run is a unit slip (H/s, GH/s) or another farm's figure: at most capacity_mw × 1e6 W / 5 J/TH, i.e.
-- 200,000 TH/s per MW. 5 J/TH is about twice as efficient as the best machines sold in 2025 (9.5-12 J/TH without
-- cooling; the CBECI fleet lower bound in data/reference is 13.5 J/TH), so no real farm comes near it.
CREATE OR REPLACE TEMP TABLE stage_farm_hashrate AS
WITH known_farms AS (  -- one row per farm, also when the farms file repeats an id (refused by its own suite)
    SELECT DISTINCT ON (farm_id) farm_id, capacity_mw FROM stage_farms WHERE farm_id IS NOT NULL
    UNION ALL
    SELECT farm_id, capacity_mw FROM core.farms WHERE farm_id NOT IN (SELECT farm_id FROM stage_farms
                                                                      WHERE farm_id IS NOT NULL)
),
typed AS (
    SELECT
        _row,
        trim(CAST(farm_id AS VARCHAR)) AS farm_id,
        TRY_CAST(date AS DATE) AS date,
        TRY_CAST(hashrate_ths AS DOUBLE) AS hashrate_ths
    FROM src_farm_hashrate
)
SELECT
    t.*,
    coalesce(isfinite(t.hashrate_ths), false) AS hashrate_finite_ok,
    f.farm_id IS NOT NULL AS farm_known_ok,
    -- an unknown id that matches a known farm after folding case, spaces, invisible and look-alike characters
    CASE WHEN f.farm_id IS NULL  -- CASE, not OR: evaluated for unknown ids only (100M known ones cost nothing)
         THEN farm_id_lookalikes(t.farm_id, (SELECT list(farm_id) FROM known_farms)) IS NULL
         ELSE true END AS farm_id_exact_ok,
    CASE WHEN f.farm_id IS NULL  -- worked out for unknown ids only
         THEN 'farm_id ''' || t.farm_id || ''' looks like farm '
              || farm_id_lookalikes(t.farm_id, (SELECT list(farm_id) FROM known_farms))
    END AS farm_id_exact_detail,
    coalesce(t.hashrate_ths <= f.capacity_mw * 1e6 / 5, true) AS hashrate_within_capacity_ok
FROM typed t
LEFT JOIN known_farms f USING (farm_id);
