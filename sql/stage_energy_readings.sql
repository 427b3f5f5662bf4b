-- stage_energy_readings: meter readings as typed rows (_row = 1-based row in the file), with check columns
-- (*_ok) for the input suite. Grain: farm × interval. Units: kWh, KZT/kWh. Both are views over src_energy_readings
-- (a view over the Parquet file, or a temp table for CSV): readings are the one large input, and each
-- consumer (the suite's one aggregate scan, the order check, the typed copy) reads them as it goes.
-- Parse checks look at the text as received: a value that does not parse (text in kwh, 12,5 with a decimal
-- comma, 2023-13-45) is named as such, beside the not-null rule its empty typed value fails. Timestamps are
-- local Asia/Almaty time and must carry no zone: DuckDB's cast would silently drop a +06:00, Z or zone name.
-- Typed Parquet columns (TIMESTAMP, DOUBLE) need neither check: the CASE skips them.
-- Key uniqueness and overlaps come from temp table readings_flags (_row, duplicate, overlapping), filled by
-- minetax.reading_order before the suite runs (only flagged rows are in it).
CREATE OR REPLACE TEMP TABLE readings_flags (_row BIGINT, duplicate BOOLEAN, overlapping BOOLEAN);

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
    -- a time followed by Z, a zone name or an offset (+06, +06:00, -0500)
    CASE WHEN typeof(ts_start) = 'TIMESTAMP' AND typeof(ts_end) = 'TIMESTAMP' THEN true
         ELSE NOT coalesce(regexp_matches(trim(CAST(ts_start AS VARCHAR)),
                  '\d:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[A-Za-z]{2,}.*|[+-]\d{1,2}(:?\d{2})?)$'), false)
              AND NOT coalesce(regexp_matches(trim(CAST(ts_end AS VARCHAR)),
                  '\d:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[A-Za-z]{2,}.*|[+-]\d{1,2}(:?\d{2})?)$'), false)
    END AS ts_no_zone_ok
FROM src_energy_readings;

CREATE OR REPLACE TEMP VIEW stage_energy_readings AS
WITH known_farms AS (
    SELECT farm_id, capacity_mw, commissioned_on, decommissioned_on FROM stage_farms
    UNION ALL
    SELECT farm_id, capacity_mw, commissioned_on, decommissioned_on FROM core.farms
    WHERE farm_id NOT IN (SELECT farm_id FROM stage_farms WHERE farm_id IS NOT NULL)
)
SELECT
    t.*,
    f.farm_id IS NOT NULL AS farm_known_ok,
    NOT coalesce(x.duplicate, false) AS key_unique_ok,
    NOT coalesce(x.overlapping, false) AS no_overlap_ok,
    -- at least 15 minutes (900 s), within one calendar month: a reading within one day (from 1970 on) is, and
    -- only the others need the calendar (integer arithmetic first: 100M month additions take seconds)
    coalesce(t.ts_end > t.ts_start
             AND epoch_us(t.ts_end) - epoch_us(t.ts_start) >= 900000000
             AND CASE WHEN epoch_us(t.ts_start) >= 0
                       AND epoch_us(t.ts_start) // 86400000000 = (epoch_us(t.ts_end) - 1) // 86400000000 THEN true
                      ELSE t.ts_end <= date_trunc('month', t.ts_start) + INTERVAL 1 MONTH END, false) AS interval_ok,
    coalesce(isfinite(t.kwh), false) AS kwh_finite_ok,
    coalesce(isfinite(t.price_kzt_per_kwh), false) AS price_finite_ok,
    coalesce(t.kwh <= f.capacity_mw * 1000 * 1.5
             * (epoch_us(t.ts_end) - epoch_us(t.ts_start)) / 3600e6, true) AS kwh_within_capacity_ok,
    coalesce(CAST(t.ts_start AS DATE) >= f.commissioned_on
             AND (f.decommissioned_on IS NULL OR CAST(t.ts_start AS DATE) <= f.decommissioned_on), true)
        AS within_operation_ok,
    coalesce(CAST(t.ts_start AS DATE) <= current_date, true) AS not_future_ok
FROM typed_energy_readings t
LEFT JOIN known_farms f USING (farm_id)
LEFT JOIN readings_flags x USING (_row);
