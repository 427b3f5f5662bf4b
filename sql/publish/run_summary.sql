-- model: run_summary (query)
-- grain: run
-- units: none (ids, times, file names)
-- reads: meta.runs, meta.inputs
-- recompute: per run (for the run log, minetax.publish.runlog)
-- params: $run_id
-- One run of the warehouse with its input files summarised, as sql/publish/runs_list.sql lists them from the
-- published snapshot (the same columns).
SELECT r.run_id, r.flow_run_id, r.started_at, r.finished_at, r.status, r.scenario_id, r.periods, r.message,
       string_agg(i.file_name || '@' || left(i.sha256, 8)
                  || CASE i.status WHEN 'loaded' THEN '' ELSE ' (' || i.status || ')' END, ', '
                  ORDER BY i.dataset) AS inputs
FROM meta.runs r LEFT JOIN meta.inputs i USING (run_id)
WHERE r.run_id = $run_id
GROUP BY ALL;
