-- list_runs: runs, newest first, with their input files summarised. Grain: run. {schema} is meta. in the
-- warehouse and empty in the published snapshot. Parameter: the number of runs.
SELECT r.run_id, r.flow_run_id, r.started_at, r.finished_at, r.status, r.scenario_id, r.periods, r.message,
       string_agg(i.file_name || '@' || left(i.sha256, 8)
                  || CASE i.status WHEN 'loaded' THEN '' ELSE ' (' || i.status || ')' END, ', '
                  ORDER BY i.dataset) AS inputs
FROM {schema}runs r LEFT JOIN {schema}inputs i USING (run_id)
GROUP BY ALL ORDER BY r.started_at DESC LIMIT ?
