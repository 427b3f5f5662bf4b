-- refused_inputs: input files that runs refused (quarantine), newest first: the rule each failed, how many rows
-- failed it, and the first failed rows (at most 3, one per line). Grain: refused file × failed rule; at most 30.
-- No parameters: a refused file belongs to no scenario's estimates (its run was rolled back).
WITH failed_rule AS (
    SELECT q.quarantined_at, q.run_id, q.dataset, q.file_name, unnest(CAST(q.failed_rules AS JSON[])) AS f
    FROM quarantine q
)
SELECT date_trunc('second', quarantined_at) AS refused_at, run_id, dataset, file_name, f ->> 'column' AS column_name,
       f ->> 'rule' AS rule, CAST(f ->> 'unexpected_count' AS BIGINT) AS rows_failing,
       array_to_string(list_slice(CAST(f -> 'examples' AS VARCHAR[]), 1, 3), chr(10)) AS first_failed_rows
FROM failed_rule ORDER BY quarantined_at DESC, run_id, dataset, column_name NULLS FIRST, rule
LIMIT 30;
