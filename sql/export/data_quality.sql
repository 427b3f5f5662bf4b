-- data_quality: the validation results of the runs behind one scenario's estimates (and of the runs that loaded
-- their input files), one row per suite and target: passed or failed, rules checked, rules failed, rows checked and rows failing. Grain: run × suite × target.
-- Parameter: $scenario_id.
WITH estimate_runs AS (
    SELECT DISTINCT run_id FROM estimates WHERE scenario_id = $scenario_id
),
loading_runs AS (  -- the runs that loaded (and so validated) the input files these runs read
    SELECT DISTINCT l.run_id
    FROM inputs i JOIN estimate_runs USING (run_id)
    JOIN inputs l ON l.sha256 = i.sha256 AND l.status = 'loaded'
),
scenario_runs AS (
    SELECT run_id FROM estimate_runs UNION SELECT run_id FROM loading_runs
),
by_suite AS (
    SELECT v.run_id, v.suite, v.target, count(*) AS rules, count(*) FILTER (WHERE v.success) AS rules_passed,
           count(*) FILTER (WHERE NOT v.success) AS rules_failed, max(v.element_count) AS rows_checked,
           CAST(sum(v.unexpected_count) AS BIGINT) AS rows_failing
    FROM validations v JOIN scenario_runs USING (run_id) GROUP BY ALL
)
SELECT run_id, suite, target, CASE WHEN rules_failed = 0 THEN 'passed' ELSE 'failed' END AS result, rules,
       rules_passed, rules_failed, rows_checked, rows_failing
FROM by_suite ORDER BY run_id, rules_failed = 0, suite, target;
