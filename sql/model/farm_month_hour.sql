-- model: model.farm_month_hour
-- grain: scenario × farm × calendar month × local hour of the day (0-23)
-- units: energy kWh; cost KZT
-- reads: window_readings
-- recompute: by month ($m_from..$m_to)
-- params: $run_id, $scenario_id, $m_from, $m_to, $profiles
-- also: model.farm_day_energy, reading_hours, reading_profile
-- The readings by hour of the local day (time-of-use rates) and by day (suspension windows), for the tax stage.
-- Time zone: a reading's ts_start/ts_end are the farm's local wall-clock time (README, energy_readings: local
-- time, Asia/Almaty; no time zone in the data), so the hour of the day is the hour of the timestamp as written,
-- with no conversion (Kazakhstan has no daylight saving time since 2005). A reading is spread over the clock
-- hours it covers pro rata by time (most readings lie within one hour); hour 18 is 18:00-18:59.
-- model.farm_month_hour: energy_kwh and cost_kzt (kWh × the reading's price) per scenario, farm, month, hour.
-- model.farm_day_energy: energy_kwh and cost_kzt per scenario, farm, day.
-- This is the one place the issue-17 families read raw readings (temp view window_readings, as farm_month.sql);
-- the tax stage reads these tables, never the readings. Only months $m_from..$m_to are recomputed. Tables: schema.sql.
-- $profiles: whether a scheme of the scenario needs them (a time-of-use family or suspension windows; passed by
-- minetax.model.run); when false the window's rows are only deleted, and the readings are not scanned.
-- Cost: two aggregations over the window's readings, both to small groups (farm × month × hour of day; farm ×
-- day), in one pass (grouping sets) for readings within one clock hour (most); a reading over several hours (or before
-- 1970) is spread over its hours first (reading_hours).
-- reading_hours: the readings over more than one clock hour, spread pro rata by time over the hours they cover
-- (h: hours since 1970-01-01 00:00, local).
CREATE OR REPLACE TEMP TABLE reading_hours AS
WITH multi AS (
    SELECT farm_id, epoch_us(ts_start) AS s_us, epoch_us(ts_end) AS e_us, kwh, kwh * price_kzt_per_kwh AS cost_kzt,
           CAST(floor(epoch_us(ts_start) / 3600000000.0) AS BIGINT) AS h0,
           CAST(floor((epoch_us(ts_end) - 1) / 3600000000.0) AS BIGINT) AS h1
    FROM window_readings
    WHERE $profiles AND ts_start >= $m_from AND ts_start < $m_to + INTERVAL 1 MONTH
      AND NOT (epoch_us(ts_start) >= 0 AND epoch_us(ts_start) // 3600000000 = (epoch_us(ts_end) - 1) // 3600000000)
)
SELECT farm_id, covered.h, kwh * frac AS kwh, cost_kzt * frac AS cost_kzt
FROM (
    SELECT m.farm_id, m.kwh, m.cost_kzt, covered.h,
           (least(m.e_us, (covered.h + 1) * 3600000000) - greatest(m.s_us, covered.h * 3600000000))
               / (m.e_us - m.s_us) AS frac
    FROM multi m, LATERAL (SELECT unnest(range(m.h0, m.h1 + 1)) AS h) covered
) covered;

-- reading_profile: one scan of the window's readings summed two ways (grouping sets): by farm, month index
-- (year × 12 + month - 1) and hour of the day; and by farm and day (days since 1970-01-01). A reading within one
-- clock hour counts whole in its hour; the others come spread from reading_hours.
CREATE OR REPLACE TEMP TABLE reading_profile AS
WITH parts AS (
    SELECT farm_id, year(ts_start) * 12 + month(ts_start) - 1 AS month_index,
           CAST((epoch_us(ts_start) // 3600000000) % 24 AS INTEGER) AS hour,
           epoch_us(ts_start) // 86400000000 AS day_number, kwh, kwh * price_kzt_per_kwh AS cost_kzt
    FROM window_readings
    WHERE $profiles AND ts_start >= $m_from AND ts_start < $m_to + INTERVAL 1 MONTH
      AND epoch_us(ts_start) >= 0 AND epoch_us(ts_start) // 3600000000 = (epoch_us(ts_end) - 1) // 3600000000
    UNION ALL
    SELECT farm_id, year(t) * 12 + month(t) - 1, CAST(((h % 24) + 24) % 24 AS INTEGER),
           CAST(floor(h / 24.0) AS BIGINT), kwh, cost_kzt
    FROM (SELECT *, make_timestamp(h * 3600000000) AS t FROM reading_hours)
)
SELECT farm_id, month_index, hour, day_number, sum(kwh) AS kwh, sum(cost_kzt) AS cost_kzt
FROM parts
GROUP BY GROUPING SETS ((farm_id, month_index, hour), (farm_id, day_number));

DELETE FROM model.farm_month_hour WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to;

INSERT INTO model.farm_month_hour (run_id, scenario_id, farm_id, month, hour, energy_kwh, cost_kzt)
SELECT $run_id, $scenario_id, farm_id,
       make_date(CAST(month_index // 12 AS INTEGER), CAST(month_index % 12 + 1 AS INTEGER), 1) AS month, hour,
       sum(kwh), sum(cost_kzt)
FROM reading_profile
WHERE hour IS NOT NULL
GROUP BY farm_id, month_index, hour
HAVING month BETWEEN $m_from AND $m_to;

DELETE FROM model.farm_day_energy
WHERE scenario_id = $scenario_id AND day >= $m_from AND day < $m_to + INTERVAL 1 MONTH;

INSERT INTO model.farm_day_energy (run_id, scenario_id, farm_id, day, energy_kwh, cost_kzt)
SELECT $run_id, $scenario_id, farm_id, CAST(DATE '1970-01-01' + CAST(day_number AS INTEGER) AS DATE) AS day, sum(kwh),
       sum(cost_kzt)
FROM reading_profile
WHERE day_number IS NOT NULL
GROUP BY farm_id, day_number
HAVING day >= $m_from AND day < $m_to + INTERVAL 1 MONTH;
