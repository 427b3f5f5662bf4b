-- model: stage_farms (temp table)
-- grain: file row (farm)
-- units: capacity MW; energy kWh (loaded readings checked)
-- reads: src_farms, core.farms, core.energy_readings
-- recompute: per file staged
-- params: none
-- the farms file as typed rows, one row per file row (_row = 1-based row in the file),
-- plus check columns (*_ok) that the Great Expectations suite tests and *_detail texts that say what a failed
-- check found. Capacity in MW.
-- farm_id_skeleton(id): sql/staging/farm_id_macros.sql.

CREATE OR REPLACE TEMP TABLE stage_farms AS
WITH typed AS (
    SELECT
        _row,
        trim(CAST(farm_id AS VARCHAR)) AS farm_id,
        CAST(name AS VARCHAR) AS name,
        CAST(region AS VARCHAR) AS region,
        lower(trim(CAST(energy_source AS VARCHAR))) AS energy_source,
        lower(trim(CAST(connection AS VARCHAR))) AS connection,
        TRY_CAST(metered AS BOOLEAN) AS metered,
        TRY_CAST(licensed AS BOOLEAN) AS licensed,
        TRY_CAST(capacity_mw AS DOUBLE) AS capacity_mw,
        TRY_CAST(commissioned_on AS DATE) AS commissioned_on,
        TRY_CAST(nullif(trim(CAST(decommissioned_on AS VARCHAR)), '') AS DATE) AS decommissioned_on,
        nullif(trim(CAST(taxpayer_id AS VARCHAR)), '') AS taxpayer_id,  -- optional column: NULL = the farm itself
        (nullif(trim(CAST(decommissioned_on AS VARCHAR)), '') IS NULL
            OR TRY_CAST(nullif(trim(CAST(decommissioned_on AS VARCHAR)), '') AS DATE) IS NOT NULL)
            AS decommissioned_on_parses_ok,
        coalesce(TRY_CAST(nullif(trim(CAST(decommissioned_on AS VARCHAR)), '') AS DATE)
                 >= TRY_CAST(commissioned_on AS DATE), true) AS decommissioned_after_commissioned_ok
    FROM src_farms
),
-- every id of the file and of core with its skeleton; an id of the file replaces the same id in core
ids AS (
    SELECT DISTINCT farm_id, farm_id_skeleton(farm_id) AS skeleton, 'this file' AS place
    FROM typed WHERE farm_id IS NOT NULL
    UNION ALL
    SELECT farm_id, farm_id_skeleton(farm_id), 'already loaded' FROM core.farms
    WHERE farm_id NOT IN (SELECT farm_id FROM typed WHERE farm_id IS NOT NULL)
),
clashes AS (
    SELECT a.farm_id, string_agg(DISTINCT '''' || b.farm_id || ''' (' || b.place || ')', ', ') AS others
    FROM ids a JOIN ids b ON a.skeleton = b.skeleton AND a.farm_id <> b.farm_id AND a.place = 'this file'
    GROUP BY a.farm_id
),
-- farms of the file that exist in core with another operating period or capacity: their loaded readings are
-- checked against the new values with the readings suite's own rules (within_operation_ok, kwh_within_capacity_ok).
-- One aggregate over core.energy_readings, joined to these few farms; none changed: the join is empty.
changed AS (
    SELECT t.farm_id, t.capacity_mw, t.commissioned_on, t.decommissioned_on
    FROM typed t JOIN core.farms c USING (farm_id)
    WHERE t.capacity_mw IS DISTINCT FROM c.capacity_mw OR t.commissioned_on IS DISTINCT FROM c.commissioned_on
       OR t.decommissioned_on IS DISTINCT FROM c.decommissioned_on
),
loaded AS (
    SELECT farm_id, count(*) AS n,
           count_if(NOT operating) AS outside, count_if(NOT within_capacity) AS above,
           arg_min(reading, r.ts_start) FILTER (WHERE NOT operating) AS first_outside,
           arg_min(reading, r.ts_start) FILTER (WHERE NOT within_capacity) AS first_above
    FROM (
        SELECT r.farm_id, r.ts_start,
               r.ts_start::VARCHAR || ' .. ' || r.ts_end::VARCHAR || ', ' || r.kwh::VARCHAR || ' kWh' AS reading,
               coalesce(r.ts_start >= CAST(c.commissioned_on AS TIMESTAMP)
                        AND (c.decommissioned_on IS NULL OR r.ts_start < CAST(c.decommissioned_on + 1 AS TIMESTAMP)),
                        true) AS operating,
               coalesce(r.kwh <= c.capacity_mw * 1000 * 1.5 * (epoch_us(r.ts_end) - epoch_us(r.ts_start)) / 3600e6,
                        true) AS within_capacity
        FROM core.energy_readings r JOIN changed c USING (farm_id)
    ) r
    GROUP BY farm_id
)
SELECT
    t.*,
    NOT coalesce(regexp_matches(t.farm_id, '[\p{Cc}\p{Cf}\x{00A0}\x{2028}-\x{202F}\x{205F}\x{3000}]'), false)
        AS farm_id_visible_ok,
    CASE WHEN regexp_matches(t.farm_id, '[\p{Cc}\p{Cf}\x{00A0}\x{2028}-\x{202F}\x{205F}\x{3000}]')
         THEN 'farm_id ''' || t.farm_id || ''' holds ' || (
             SELECT string_agg(DISTINCT printf('U+%04X', unicode(c)), ', ')
             FROM unnest(string_split(t.farm_id, '')) s(c)
             WHERE regexp_matches(c, '[\p{Cc}\p{Cf}\x{00A0}\x{2028}-\x{202F}\x{205F}\x{3000}]'))
    END AS farm_id_visible_detail,
    k.farm_id IS NULL AS farm_id_distinct_ok,
    CASE WHEN k.farm_id IS NOT NULL THEN 'farm_id ''' || t.farm_id || ''' looks like ' || k.others END
        AS farm_id_distinct_detail,
    coalesce(l.outside, 0) = 0 AS readings_within_operation_ok,
    coalesce(l.above, 0) = 0 AS readings_within_capacity_ok,
    CASE WHEN l.outside > 0 OR l.above > 0 THEN
        t.farm_id || ': ' || l.n || ' readings already loaded; '
        || CASE WHEN l.outside > 0 THEN l.outside || ' outside ' || t.commissioned_on::VARCHAR || ' .. '
                || coalesce(t.decommissioned_on::VARCHAR, 'open') || ', e.g. ' || l.first_outside || '; ' ELSE '' END
        || CASE WHEN l.above > 0 THEN l.above || ' above 1.5 x ' || t.capacity_mw::VARCHAR || ' MW, e.g. '
                || l.first_above ELSE '' END
    END AS readings_detail
FROM typed t
LEFT JOIN clashes k USING (farm_id)
LEFT JOIN loaded l USING (farm_id);
