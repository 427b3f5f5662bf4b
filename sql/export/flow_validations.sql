-- flow_validations: the validation results of one run, one row per suite and target (an input file or an output
-- table), as the Prefect run's table artifact shows them (flows/artifacts.py). Grain: suite × target. Rules are
-- expectations; failures are failed expectations; unexpected_rows counts the rows they found.
SELECT suite, target, expectations AS rules, failed AS failures, CAST(unexpected_rows AS BIGINT) AS unexpected_rows
FROM data_quality WHERE run_id = $run_id ORDER BY suite, target;
