-- stage_energy_readings: meter readings as typed rows (_row = 1-based row in the file), with check
-- columns (*_ok) for the Great Expectations suite. Grain: farm × interval. Units: kWh, KZT/kWh.
-- Overlap is checked against the staged file and against core rows of the same farms in the same
-- time range (a reading already in core with the same key is replaced, not an overlap).
-- Parse checks look at the text as received: a value that does not parse (text in kwh, 12,5 with a decimal
-- comma, 2023-13-45) is named as such, beside the not-null rule its empty typed value fails. Timestamps are
-- local Asia/Almaty time and must carry no zone: DuckDB's cast would silently drop a +06:00, Z or zone name.
CREATE OR REPLACE TEMP TABLE stage_energy_readings AS
WITH typed AS (
    SELECT
        _row,
        trim(CAST(farm_id AS VARCHAR)) AS farm_id,
        TRY_CAST(ts_start AS TIMESTAMP) AS ts_start,
        TRY_CAST(ts_end AS TIMESTAMP) AS ts_end,
        TRY_CAST(kwh AS DOUBLE) AS kwh,
        TRY_CAST(price_kzt_per_kwh AS DOUBLE) AS price_kzt_per_kwh,
        (nullif(trim(CAST(ts_start AS VARCHAR)), '') IS NULL OR TRY_CAST(ts_start AS TIMESTAMP) IS NOT NULL)
            AND (nullif(trim(CAST(ts_end AS VARCHAR)), '') IS NULL OR TRY_CAST(ts_end AS TIMESTAMP) IS NOT NULL)
            AS ts_parses_ok,
        nullif(trim(CAST(kwh AS VARCHAR)), '') IS NULL OR TRY_CAST(kwh AS DOUBLE) IS NOT NULL AS kwh_parses_ok,
        nullif(trim(CAST(price_kzt_per_kwh AS VARCHAR)), '') IS NULL
            OR TRY_CAST(price_kzt_per_kwh AS DOUBLE) IS NOT NULL AS price_parses_ok,
        -- a time followed by Z, a zone name or an offset (+06, +06:00, -0500)
        NOT coalesce(regexp_matches(trim(CAST(ts_start AS VARCHAR)),
            '\d:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[A-Za-z]{2,}.*|[+-]\d{1,2}(:?\d{2})?)$'), false)
            AND NOT coalesce(regexp_matches(trim(CAST(ts_end AS VARCHAR)),
            '\d:\d{2}(:\d{2}(\.\d+)?)?\s*([zZ]|[A-Za-z]{2,}.*|[+-]\d{1,2}(:?\d{2})?)$'), false)
            AS ts_no_zone_ok
    FROM src_energy_readings
),
known_farms AS (
    SELECT farm_id, capacity_mw, commissioned_on, decommissioned_on FROM stage_farms
    UNION ALL
    SELECT farm_id, capacity_mw, commissioned_on, decommissioned_on FROM core.farms
    WHERE farm_id NOT IN (SELECT farm_id FROM stage_farms WHERE farm_id IS NOT NULL)
),
bounds AS (
    SELECT min(ts_start) - INTERVAL 32 DAY AS lo, max(ts_end) AS hi FROM typed
),
timeline AS (
    SELECT farm_id, ts_start, ts_end, _row FROM typed
    UNION ALL
    SELECT c.farm_id, c.ts_start, c.ts_end, NULL AS _row
    FROM core.energy_readings c, bounds b
    WHERE c.ts_start BETWEEN b.lo AND b.hi
      AND c.farm_id IN (SELECT DISTINCT farm_id FROM typed)
      AND NOT EXISTS (SELECT 1 FROM typed t WHERE t.farm_id = c.farm_id AND t.ts_start = c.ts_start)
),
overlap_check AS (
    SELECT _row,
           coalesce(ts_start < lag(ts_end) OVER w, false)
             OR coalesce(ts_end > lead(ts_start) OVER w, false) AS overlapping
    FROM timeline
    WINDOW w AS (PARTITION BY farm_id ORDER BY ts_start, ts_end)
)
SELECT
    t.*,
    f.farm_id IS NOT NULL AS farm_known_ok,
    NOT coalesce(o.overlapping, false) AS no_overlap_ok,
    coalesce(t.ts_end > t.ts_start
             AND t.ts_end - t.ts_start >= INTERVAL 15 MINUTE
             AND t.ts_end <= date_trunc('month', t.ts_start) + INTERVAL 1 MONTH, false) AS interval_ok,
    coalesce(isfinite(t.kwh), false) AS kwh_finite_ok,
    coalesce(isfinite(t.price_kzt_per_kwh), false) AS price_finite_ok,
    coalesce(t.kwh <= f.capacity_mw * 1000 * 1.5
             * (epoch(t.ts_end) - epoch(t.ts_start)) / 3600.0, true) AS kwh_within_capacity_ok,
    coalesce(CAST(t.ts_start AS DATE) >= f.commissioned_on
             AND (f.decommissioned_on IS NULL OR CAST(t.ts_start AS DATE) <= f.decommissioned_on), true)
        AS within_operation_ok,
    coalesce(CAST(t.ts_start AS DATE) <= current_date, true) AS not_future_ok
FROM typed t
LEFT JOIN known_farms f USING (farm_id)
LEFT JOIN (SELECT _row, bool_or(overlapping) AS overlapping FROM overlap_check
           WHERE _row IS NOT NULL GROUP BY _row) o USING (_row);
