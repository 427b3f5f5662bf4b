-- model: meta.runs (the forecast run's row)
-- grain: run
-- units: none (ids, JSON parameters)
-- reads: meta.runs
-- recompute: per forecast run
-- params: $run_id, $label, $parameters
-- Marks the run pipeline.begin recorded as a forecast run (meta.runs), with its parameters.
UPDATE meta.runs
SET scenario_id = $label, parameters = json_merge_patch(parameters, CAST($parameters AS JSON))
WHERE run_id = $run_id;
