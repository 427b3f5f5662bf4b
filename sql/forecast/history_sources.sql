-- model: forecast.history_sources
-- grain: one row per dataset the forecast reads: the latest file of it that a committed run loaded
-- units: (none: run ids, file names, SHA-256 hashes)
-- reads: meta.inputs
-- recompute: per forecast run
-- params: (none)
-- Where the forecast's history came from (recorded with the forecast's run).
WITH loaded AS (
    SELECT dataset, run_id, file_name, sha256, origin, loaded_at
    FROM meta.inputs
    WHERE status = 'loaded' AND dataset IN ('network_daily', 'fx', 'fleet_efficiency')
),
latest AS (
    SELECT dataset, arg_max(run_id, loaded_at) AS run_id, arg_max(file_name, loaded_at) AS file_name,
           arg_max(sha256, loaded_at) AS sha256, arg_max(origin, loaded_at) AS origin
    FROM loaded
    GROUP BY dataset
)
SELECT dataset, run_id, file_name, sha256, origin
FROM latest
ORDER BY dataset;
