-- model: meta.backfills (run record)
-- grain: backfill × chunk (tax period)
-- units: none (ids, months as their first days, status)
-- reads: meta.backfills
-- recompute: per run (each chunk of `minetax backfill`, done or failed)
-- params: $backfill_id, $scenario_id, $m_from, $m_to, $chunk_start, $chunk_end, $status, $run_id
-- The state of one chunk of a backfill, replacing what was recorded for it (a failed chunk is done later).
DELETE FROM meta.backfills WHERE backfill_id = $backfill_id AND chunk_start = $chunk_start;

INSERT INTO meta.backfills (backfill_id, scenario_id, month_from, month_to, chunk_start, chunk_end, status, run_id,
                            updated_at)
VALUES ($backfill_id, $scenario_id, $m_from, $m_to, $chunk_start, $chunk_end, $status, $run_id, current_timestamp);
