-- stage_farms: the farms file as typed rows, one row per file row (_row = 1-based row in the file),
-- plus check columns (*_ok) that the Great Expectations suite tests. Capacity in MW.
CREATE OR REPLACE TEMP TABLE stage_farms AS
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
    (nullif(trim(CAST(decommissioned_on AS VARCHAR)), '') IS NULL
        OR TRY_CAST(nullif(trim(CAST(decommissioned_on AS VARCHAR)), '') AS DATE) IS NOT NULL)
        AS decommissioned_on_parses_ok,
    coalesce(TRY_CAST(nullif(trim(CAST(decommissioned_on AS VARCHAR)), '') AS DATE)
             >= TRY_CAST(commissioned_on AS DATE), true) AS decommissioned_after_commissioned_ok
FROM src_farms;
