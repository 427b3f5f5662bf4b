-- model: meta.validations (a run's validation results)
-- grain: run × suite × target × expectation
-- units: none (names, counts, JSON examples, times)
-- reads: none
-- recompute: per run (when it ends, committed or not)
-- params: none (positional, one row per expectation: run_id, suite, target, expectation, column_name, success,
--     element_count, unexpected_count, examples, checked_at)
-- The result of every expectation of every suite the run evaluated, on its inputs and its outputs.
INSERT INTO meta.validations (run_id, suite, target, expectation, column_name, success, element_count,
                              unexpected_count, examples, checked_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
