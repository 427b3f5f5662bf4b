-- model: window_readings (temp view, no segment in the window)
-- grain: farm × interval
-- units: energy kWh; price KZT/kWh
-- reads: core.energy_readings
-- recompute: per run (the months the run recomputes)
-- params: none
-- variant of: core/window_readings.sql
-- window_readings when no listed segment overlaps the months a run recomputes: no rows, the view's columns.
CREATE OR REPLACE TEMP VIEW window_readings AS
SELECT farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh, segment FROM core.energy_readings WHERE false;
