-- model: stage_fleet_efficiency (temp table)
-- grain: month
-- units: efficiency J/TH
-- reads: src_fleet_efficiency
-- recompute: per file staged
-- params: none
-- fleet efficiency bounds by month, typed. Units: J/TH.
CREATE OR REPLACE TEMP TABLE stage_fleet_efficiency AS
SELECT
    _row,
    TRY_CAST(date AS DATE) AS date,
    TRY_CAST(lower_j_per_th AS DOUBLE) AS lower_j_per_th,
    TRY_CAST(estimated_j_per_th AS DOUBLE) AS estimated_j_per_th,
    TRY_CAST(upper_j_per_th AS DOUBLE) AS upper_j_per_th,
    CAST(source AS VARCHAR) AS source,
    coalesce(TRY_CAST(lower_j_per_th AS DOUBLE) <= TRY_CAST(estimated_j_per_th AS DOUBLE)
             AND TRY_CAST(estimated_j_per_th AS DOUBLE) <= TRY_CAST(upper_j_per_th AS DOUBLE), false)
        AS bounds_ordered_ok
FROM src_fleet_efficiency;
