-- run_inputs: the runs behind the scenario's estimates and every input file they read. Grain: run × file.
SELECT r.run_id, r.code_version, date_trunc('second', r.started_at) AS started_at,
       date_trunc('second', r.finished_at) AS finished_at, r.periods, i.dataset, i.file_name, i.sha256, i.rows,
       i.status
FROM runs r JOIN inputs i USING (run_id)
WHERE r.run_id IN (SELECT DISTINCT run_id FROM estimates WHERE scenario_id = $scenario_id)
ORDER BY r.started_at, r.run_id, i.dataset, i.file_name, i.sha256;
