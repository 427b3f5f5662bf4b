-- stage_energy_readings: the typed readings (typed_energy_readings.sql) with the check columns (*_ok) of the input
-- suite. Grain: farm × interval. Units: kWh, KZT/kWh. A view: the suite's one aggregate scan reads the file as it
-- goes. Key uniqueness and overlaps come from temp table readings_flags (_row, duplicate, overlapping; flagged
-- rows only), filled by minetax.reading_order.
CREATE OR REPLACE TEMP TABLE readings_flags (_row BIGINT, duplicate BOOLEAN, overlapping BOOLEAN);

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
