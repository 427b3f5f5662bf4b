-- model: model.farm_month_hour
-- grain: scenario × farm × calendar month × local hour of the day (0-23)
-- units: energy kWh; cost KZT
-- reads: window_readings
-- recompute: by month ($m_from..$m_to)
-- params: $run_id, $scenario_id, $m_from, $m_to
-- also: model.farm_day_energy, reading_hours
-- The readings by hour of the local day (time-of-use rates) and by day (suspension windows), for the tax stage.
-- Time zone: a reading's ts_start/ts_end are the farm's local wall-clock time (README, energy_readings: local
-- time, Asia/Almaty; no time zone in the data), so the hour of the day is the hour of the timestamp as written,
-- with no conversion (Kazakhstan has no daylight saving time since 2005). A reading is spread over the clock
-- hours it covers pro rata by time (most readings lie within one hour); hour 18 is 18:00-18:59.
-- model.farm_month_hour: energy_kwh and cost_kzt (kWh × the reading's price) per scenario, farm, month, hour.
-- model.farm_day_energy: energy_kwh and cost_kzt per scenario, farm, day.
-- This is the one place the issue-17 families read raw readings (temp view window_readings, as farm_month.sql);
-- the tax stage reads these tables, never the readings. Only months $m_from..$m_to are recomputed. Tables: schema.sql.
-- reading_hours: farm × clock hour (hours since 1970-01-01 00:00 local), readings spread pro rata by time.
CREATE OR REPLACE TEMP TABLE reading_hours AS
WITH readings AS (
    SELECT farm_id, epoch_us(ts_start) AS s_us, epoch_us(ts_end) AS e_us, kwh, kwh * price_kzt_per_kwh AS cost_kzt,
           CAST(floor(epoch_us(ts_start) / 3600000000.0) AS BIGINT) AS h0,
           CAST(floor((epoch_us(ts_end) - 1) / 3600000000.0) AS BIGINT) AS h1
    FROM window_readings
    WHERE ts_start >= $m_from AND ts_start < $m_to + INTERVAL 1 MONTH
),
one_hour AS (
    SELECT farm_id, h0 AS h, sum(kwh) AS kwh, sum(cost_kzt) AS cost_kzt
    FROM readings WHERE h0 = h1 GROUP BY farm_id, h0
),
spread AS (
    SELECT farm_id, h, kwh * frac AS kwh, cost_kzt * frac AS cost_kzt
    FROM (
        SELECT r.farm_id, r.kwh, r.cost_kzt, covered.h,
               (least(r.e_us, (covered.h + 1) * 3600000000) - greatest(r.s_us, covered.h * 3600000000))
                   / (r.e_us - r.s_us) AS frac
        FROM readings r, LATERAL (SELECT unnest(range(r.h0, r.h1 + 1)) AS h) covered
        WHERE r.h0 <> r.h1
    )
)
SELECT farm_id, h, sum(kwh) AS kwh, sum(cost_kzt) AS cost_kzt
FROM (SELECT * FROM one_hour UNION ALL SELECT * FROM spread)
GROUP BY farm_id, h;

DELETE FROM model.farm_month_hour WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to;

INSERT INTO model.farm_month_hour (run_id, scenario_id, farm_id, month, hour, energy_kwh, cost_kzt)
SELECT $run_id, $scenario_id, farm_id, CAST(date_trunc('month', make_timestamp(h * 3600000000)) AS DATE) AS month,
       CAST(((h % 24) + 24) % 24 AS INTEGER) AS hour, sum(kwh), sum(cost_kzt)
FROM reading_hours
GROUP BY ALL
HAVING month BETWEEN $m_from AND $m_to;

DELETE FROM model.farm_day_energy
WHERE scenario_id = $scenario_id AND day >= $m_from AND day < $m_to + INTERVAL 1 MONTH;

INSERT INTO model.farm_day_energy (run_id, scenario_id, farm_id, day, energy_kwh, cost_kzt)
SELECT $run_id, $scenario_id, farm_id, CAST(make_timestamp(h * 3600000000) AS DATE) AS day, sum(kwh), sum(cost_kzt)
FROM reading_hours
GROUP BY ALL
HAVING day >= $m_from AND day < $m_to + INTERVAL 1 MONTH;
