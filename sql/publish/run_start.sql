-- model: meta.runs (run record)
-- grain: run
-- units: none (ids, times, paths, JSON parameters, a process id)
-- reads: none
-- recompute: per run (its first step)
-- params: $run_id, $flow_run_id, $started_at, $scenario_id, $data_dir, $code_version, $parameters, $pid
-- A run starts: recorded as 'running' until it finishes (minetax.publish.runs.finish) or a later run finds it dead.
INSERT INTO meta.runs (run_id, flow_run_id, started_at, status, scenario_id, data_dir, code_version, parameters, pid)
VALUES ($run_id, $flow_run_id, $started_at, 'running', $scenario_id, $data_dir, $code_version, $parameters, $pid);
