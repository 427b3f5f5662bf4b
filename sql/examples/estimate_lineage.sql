-- Lineage of every published estimate of one farm and quarter: run, code version, scheme version, input files.
-- Grain: estimate × input file.
SELECT e.scheme_id, e.tax_kzt, e.run_id, r.code_version, r.finished_at, v.file_name AS scheme_file,
       e.scheme_version, i.dataset, i.file_name, i.sha256, i.rows
FROM estimates e
JOIN runs r USING (run_id)
LEFT JOIN scheme_versions v ON v.run_id = e.run_id AND v.kind = 'scheme' AND v.id = e.scheme_id
JOIN inputs i ON i.run_id = e.run_id
WHERE e.scenario_id = 'kz-baseline' AND e.farm_id = 'KZ-F01' AND e.period_start = '2023-01-01'
ORDER BY e.scheme_id, i.dataset;
