-- model: task_rows (temp view)
-- grain: farm × interval
-- units: energy kWh; price KZT/kWh
-- reads: task_readings, task_replaced
-- recompute: per map task
-- params: none
-- The readings of one map task: its partition files (task_readings, registered by minetax.model.partials over
-- the readings store) less those a later file replaced (task_replaced: the keys the warehouse lists for these
-- partitions, sent with the task). Runs on a worker in a connection of its own: it never opens the warehouse.
CREATE OR REPLACE TEMP VIEW task_rows AS
SELECT r.farm_id, r.ts_start, r.ts_end, r.kwh, r.price_kzt_per_kwh, r.segment
FROM task_readings r
ANTI JOIN task_replaced x ON x.farm_id = r.farm_id AND x.ts_start = r.ts_start AND x.segment = r.segment;
