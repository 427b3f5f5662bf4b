-- stage_country_share: share of global hashrate by country and month (fraction 0..1), typed.
CREATE OR REPLACE TEMP TABLE stage_country_share AS
SELECT
    _row,
    trim(CAST(country AS VARCHAR)) AS country,
    TRY_CAST(month AS DATE) AS month,
    TRY_CAST(share AS DOUBLE) AS share,
    CAST(source AS VARCHAR) AS source,
    coalesce(day(TRY_CAST(month AS DATE)) = 1, false) AS month_start_ok
FROM src_country_share;
