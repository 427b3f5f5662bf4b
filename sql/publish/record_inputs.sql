-- model: meta.inputs (a run's input files)
-- grain: run × input file
-- units: none (names, paths, sha256, a row count, times)
-- reads: none
-- recompute: per run (when it ends, committed or not)
-- params: none (positional, one row per file: run_id, dataset, file_name, source_path, stored_path, sha256, rows,
--     status, loaded_at, origin)
-- Every file a run took, with what became of it (loaded, unchanged, duplicate, quarantined, not_loaded, not_taken).
INSERT INTO meta.inputs (run_id, dataset, file_name, source_path, stored_path, sha256, rows, status, loaded_at, origin)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
