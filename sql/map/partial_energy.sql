-- model: partial_energy (query)
-- grain: farm × day for readings within one day; one row per reading spanning days (kept whole, to be spread)
-- units: energy kWh; cost KZT
-- reads: task_rows
-- recompute: per map task
-- params: none
-- The additive partial of one map task, written to the readings store as _partials/<task key>.parquet, keyed by
-- the content of the task's partitions: the farm × day sums that sql/model/farm_month.sql spreads, prices and
-- models. One scan of the task's readings. The day test is integer arithmetic on microseconds: casting or
-- truncating 100M timestamps costs seconds. Rows are grouped on one integer key beside the farm: 2 × day for a
-- one-day reading, 2 × ts_start (µs) + 1 for any other, which is unique per reading (farm and ts_start are its
-- key). A farm lies in one bucket and a reading in one month (validated), so the partials of all tasks add up to
-- exactly the groups one scan of all readings would make: the reduce only unions them.
WITH readings AS (
    SELECT farm_id, ts_end, kwh, kwh * price_kzt_per_kwh AS cost_kzt, epoch_us(ts_start) AS start_us,
           epoch_us(ts_start) >= 0
             AND epoch_us(ts_start) // 86400000000 = (epoch_us(ts_end) - 1) // 86400000000 AS one_day
    FROM task_rows
),
grouped AS (
    SELECT farm_id, CASE WHEN one_day THEN start_us // 86400000000 * 2 ELSE start_us * 2 + 1 END AS k,
           max(CASE WHEN NOT one_day THEN ts_end END) AS multi_end, sum(kwh) AS kwh, sum(cost_kzt) AS cost_kzt,
           count(*) AS readings
    FROM readings
    GROUP BY farm_id, k
)
SELECT farm_id,
       CASE WHEN k % 2 = 0 THEN DATE '1970-01-01' + CAST(k // 2 AS INTEGER)
            ELSE CAST(make_timestamp((k - 1) // 2) AS DATE) END AS day,
       CASE WHEN k % 2 <> 0 THEN make_timestamp((k - 1) // 2) END AS multi_start, multi_end, kwh, cost_kzt, readings
FROM grouped
