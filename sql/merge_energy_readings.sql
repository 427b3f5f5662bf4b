-- merge_energy_readings: upsert validated readings (grain: farm × interval; key farm_id, ts_start). kWh, KZT/kWh.
INSERT OR REPLACE INTO core.energy_readings
SELECT farm_id, ts_start, ts_end, kwh, price_kzt_per_kwh FROM stage_energy_readings;
