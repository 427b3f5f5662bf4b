-- model: runs_list (query)
-- grain: run
-- units: none (ids, times, file names)
-- reads: meta.runs, meta.inputs
-- recompute: per query (minetax runs)
-- params: $limit
-- Runs of the published snapshot (its tables runs and inputs are copies of meta.runs and meta.inputs), newest
-- first, with their input files summarised (the columns sql/publish/run_summary.sql gives for one run of the
-- warehouse). $limit: the number of runs.
SELECT r.run_id, r.flow_run_id, r.started_at, r.finished_at, r.status, r.scenario_id, r.periods, r.message,
       string_agg(i.file_name || '@' || left(i.sha256, 8)
                  || CASE i.status WHEN 'loaded' THEN '' ELSE ' (' || i.status || ')' END, ', '
                  ORDER BY i.dataset) AS inputs
FROM runs r LEFT JOIN inputs i USING (run_id)
GROUP BY ALL ORDER BY r.started_at DESC LIMIT $limit;
