-- data_quality_rules: every rule checked by the runs behind one scenario's estimates (and by the runs that loaded
-- their input files), in words, passed or failed, with rows checked and rows failing; failures first.
-- Grain: run × suite × target × rule. Parameter: $scenario_id.
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
rule_text AS (
    SELECT v.*, coalesce(v.examples ->> '$.rule', v.expectation) AS rule_raw
    FROM validations v JOIN scenario_runs USING (run_id)
)
SELECT suite, target, column_name,
       CASE WHEN starts_with(rule_raw, 'expect_') THEN replace(rule_raw[8:], '_', ' ') ELSE rule_raw END AS rule,
       CASE WHEN success THEN 'passed' ELSE 'failed' END AS result, element_count AS rows_checked,
       unexpected_count AS rows_failing, run_id
FROM rule_text
ORDER BY success, run_id, suite, target, column_name NULLS FIRST, rule;
