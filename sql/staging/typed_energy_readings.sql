-- model: typed_energy_readings (temp view)
-- grain: farm × interval
-- units: energy kWh; price KZT/kWh
-- reads: src_energy_readings
-- recompute: per file staged
-- params: none
-- meter readings as typed rows (_row = 1-based row in the file) with the parse checks.
-- Grain: farm × interval. Units: kWh, KZT/kWh. A view over src_energy_readings (a view over the Parquet file, or a
-- temp table of text columns for CSV): readings are the one large input, and each consumer reads them as it
-- goes. Run before stage_energy_readings.sql; the one-pass order check (minetax.reading_order) streams it.
-- Parse checks look at the text as received: a value that does not parse (text in kwh, 12,5 with a decimal
-- comma, 2023-13-45) is named as such, beside the not-null rule its empty typed value fails. Timestamps are
-- local Asia/Almaty time and must carry no zone: DuckDB's cast would silently drop a +06:00, Z or zone name.
-- Typed Parquet columns (TIMESTAMP, DOUBLE) need neither check: the CASE skips them.
CREATE OR REPLACE TEMP VIEW typed_energy_readings AS
SELECT
    _row,
    trim(CAST(farm_id AS VARCHAR)) AS farm_id,
    TRY_CAST(ts_start AS TIMESTAMP) AS ts_start,
    TRY_CAST(ts_end AS TIMESTAMP) AS ts_end,
    TRY_CAST(kwh AS DOUBLE) AS kwh,
    TRY_CAST(price_kzt_per_kwh AS DOUBLE) AS price_kzt_per_kwh,
    CASE WHEN typeof(ts_start) = 'TIMESTAMP' AND typeof(ts_end) = 'TIMESTAMP' THEN true
         ELSE (nullif(trim(CAST(ts_start AS VARCHAR)), '') IS NULL OR TRY_CAST(ts_start AS TIMESTAMP) IS NOT NULL)
          AND (nullif(trim(CAST(ts_end AS VARCHAR)), '') IS NULL OR TRY_CAST(ts_end AS TIMESTAMP) IS NOT NULL)
    END AS ts_parses_ok,
    CASE WHEN typeof(kwh) = 'DOUBLE' THEN true
         ELSE nullif(trim(CAST(kwh AS VARCHAR)), '') IS NULL OR TRY_CAST(kwh AS DOUBLE) IS NOT NULL
    END AS kwh_parses_ok,
    CASE WHEN typeof(price_kzt_per_kwh) = 'DOUBLE' THEN true
         ELSE nullif(trim(CAST(price_kzt_per_kwh AS VARCHAR)), '') IS NULL
              OR TRY_CAST(price_kzt_per_kwh AS DOUBLE) IS NOT NULL
    END AS price_parses_ok,
    -- a time followed by Z, a zone name or an offset (+06, +06:00, -0500, +05:00:30: DuckDB's cast drops them all)
    CASE WHEN typeof(ts_start) = 'TIMESTAMP' AND typeof(ts_end) = 'TIMESTAMP' THEN true
         ELSE NOT coalesce(regexp_matches(trim(CAST(ts_start AS VARCHAR)),
                  '\d:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[A-Za-z]{2,}.*|[+-]\d{1,2}(:?\d{2}){0,2})$'), false)
              AND NOT coalesce(regexp_matches(trim(CAST(ts_end AS VARCHAR)),
                  '\d:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[A-Za-z]{2,}.*|[+-]\d{1,2}(:?\d{2}){0,2})$'), false)
    END AS ts_no_zone_ok
FROM src_energy_readings;
