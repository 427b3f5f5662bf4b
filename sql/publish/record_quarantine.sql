-- model: meta.quarantine (a run's refused input files)
-- grain: run × refused input file
-- units: none (names, sha256, paths, JSON findings, times)
-- reads: none
-- recompute: per run (after its transaction was rolled back)
-- params: $run_id, $dataset, $file_name, $sha256, $stored_path, $failed_rules, $quarantined_at
-- A refused file with its failed rules and example rows; the file itself stays in the raw store.
INSERT INTO meta.quarantine (run_id, dataset, file_name, sha256, stored_path, failed_rules, quarantined_at)
VALUES ($run_id, $dataset, $file_name, $sha256, $stored_path, $failed_rules, $quarantined_at);
