-- model: forecast.history_fleet_efficiency
-- grain: one row per month of core.fleet_efficiency, up to $date_to (NULL: all)
-- units: estimated_j_per_th in J/TH
-- reads: core.fleet_efficiency
-- recompute: per forecast run
-- params: $date_to (DATE or NULL, inclusive)
-- The validated world fleet efficiency as the last committed run left it.
WITH efficiency AS (
    SELECT date, estimated_j_per_th
    FROM core.fleet_efficiency
)
SELECT date, estimated_j_per_th
FROM efficiency
WHERE CAST($date_to AS DATE) IS NULL OR date <= CAST($date_to AS DATE)
ORDER BY date;
