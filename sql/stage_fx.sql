-- stage_fx: exchange rates, typed. Grain: pair × date from which the rate applies. rate = quote per 1 base.
CREATE OR REPLACE TEMP TABLE stage_fx AS
SELECT
    _row,
    upper(trim(CAST(pair AS VARCHAR))) AS pair,
    TRY_CAST(date AS DATE) AS date,
    TRY_CAST(rate AS DOUBLE) AS rate,
    CAST(source AS VARCHAR) AS source,
    coalesce(isfinite(TRY_CAST(rate AS DOUBLE)), false) AS rate_finite_ok
FROM src_fx;
