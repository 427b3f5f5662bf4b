-- model: partial_hours (query)
-- grain: farm × month × local hour of the day (0-23)
-- units: energy kWh; cost KZT
-- reads: task_rows
-- recompute: per map task
-- params: none
-- The second partial of a map task, _partials/<task key>-hours.parquet: the task's readings by hour of the local
-- day, for time-of-use rates (sql/model/farm_month_hour.sql). Readings' timestamps are the farm's local wall-clock
-- time (no zone in the data), so the hour is the hour as written. A reading within one clock hour counts whole in
-- its hour; a longer one is spread over the clock hours it covers pro rata by time. A task holds one month (a
-- reading lies within one month, validated), so a farm has at most 24 groups here: grouping by the hour of the day
-- directly keeps the hash table small; the month is that of the group's first hour. Integer arithmetic on
-- microseconds (timestamps cast or truncated row by row cost seconds at 100M readings); OFF = 31557600000000000 µs
-- (1000 Julian years, a whole number of days) keeps the division flooring for readings before 1970.
WITH readings AS (  -- hours counted from 1000 years before 1970 (OFF µs), so that integer division floors
    SELECT farm_id, kwh, kwh * price_kzt_per_kwh AS cost_kzt, epoch_us(ts_start) AS s_us, epoch_us(ts_end) AS e_us,
           (epoch_us(ts_start) + 31557600000000000) // 3600000000 AS h0,
           (epoch_us(ts_end) - 1 + 31557600000000000) // 3600000000 AS h1
    FROM task_rows
),
hours AS (
    SELECT farm_id, h0 AS h, kwh, cost_kzt FROM readings WHERE h0 = h1
    UNION ALL
    SELECT farm_id, h, kwh * frac AS kwh, cost_kzt * frac AS cost_kzt
    FROM (
        SELECT r.farm_id, r.kwh, r.cost_kzt, covered.h,
               (least(r.e_us + 31557600000000000, (covered.h + 1) * 3600000000)
                  - greatest(r.s_us + 31557600000000000, covered.h * 3600000000)) / (r.e_us - r.s_us) AS frac
        FROM readings r, LATERAL (SELECT unnest(range(r.h0, r.h1 + 1)) AS h) covered
        WHERE r.h0 <> r.h1
    )
),
grouped AS (
    SELECT farm_id, CAST(h % 24 AS INTEGER) AS hour, min(h) AS first_h, sum(kwh) AS kwh, sum(cost_kzt) AS cost_kzt
    FROM hours GROUP BY ALL
)
SELECT farm_id, CAST(date_trunc('month', make_timestamp(first_h * 3600000000 - 31557600000000000)) AS DATE) AS month,
       hour, kwh, cost_kzt
FROM grouped
