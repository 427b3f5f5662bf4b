-- model: model.farm_month_hour
-- grain: scenario × farm × calendar month × local hour of the day (0-23)
-- units: energy kWh; cost KZT
-- reads: map_partial_hours, farm_day
-- recompute: by month ($m_from..$m_to)
-- params: $run_id, $scenario_id, $m_from, $m_to, $days
-- also: model.farm_day_energy
-- The readings by hour of the local day (time-of-use rates) and by day (suspension windows), for the tax stage.
-- Time zone: a reading's ts_start/ts_end are the farm's local wall-clock time (README, energy_readings: local
-- time, Asia/Almaty; no time zone in the data), so the hour of the day is the hour of the timestamp as written,
-- with no conversion (Kazakhstan has no daylight saving time since 2005). A reading is spread over the clock
-- hours it covers pro rata by time (most readings lie within one hour); hour 18 is 18:00-18:59.
-- model.farm_month_hour: energy_kwh and cost_kzt (kWh × the reading's price) per scenario, farm, month, hour.
-- model.farm_day_energy: energy_kwh and cost_kzt per scenario, farm, day; only for a scenario with a scheme that
-- has suspension windows ($days), their one reader (1.2M rows a scenario at 100M readings, written for nothing
-- otherwise).
-- Neither reads the readings again: the hours come from the map's second partial (sql/map/partial_hours.sql, one
-- per map task, cached with the first; made only for scenarios with a time-of-use scheme, else no rows), the days from farm_day (sql/model/farm_month.sql, the same spreading pro
-- rata by time). The tax stage reads these tables, never the readings. Only months $m_from..$m_to are recomputed.
-- Tables: schema.sql.
DELETE FROM model.farm_month_hour WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to;

INSERT INTO model.farm_month_hour (run_id, scenario_id, farm_id, month, hour, energy_kwh, cost_kzt)
SELECT $run_id, $scenario_id, farm_id, month, hour, sum(kwh), sum(cost_kzt)
FROM map_partial_hours
WHERE month BETWEEN $m_from AND $m_to
GROUP BY ALL;

DELETE FROM model.farm_day_energy
WHERE scenario_id = $scenario_id AND day >= $m_from AND day < $m_to + INTERVAL 1 MONTH;

INSERT INTO model.farm_day_energy (run_id, scenario_id, farm_id, day, energy_kwh, cost_kzt)
SELECT $run_id, $scenario_id, farm_id, day, energy_kwh, cost_kzt
FROM farm_day
WHERE $days AND day >= $m_from AND day < $m_to + INTERVAL 1 MONTH;
