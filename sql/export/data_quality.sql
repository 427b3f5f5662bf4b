-- data_quality: validation results of the runs behind the scenario's estimates. Grain: run × expectation.
SELECT v.run_id, v.suite, v.target, v.expectation, v.column_name, v.success, v.element_count, v.unexpected_count
FROM validations v
WHERE v.run_id IN (SELECT DISTINCT run_id FROM estimates WHERE scenario_id = $scenario_id)
ORDER BY v.run_id, v.suite, v.target, v.expectation, v.column_name, v.success, v.unexpected_count;
