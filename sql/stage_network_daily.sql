-- stage_network_daily: network figures by UTC day, typed, with check columns.
-- Units: hashrate TH/s, subsidy and fees BTC per day, price USD per BTC.
CREATE OR REPLACE TEMP TABLE stage_network_daily AS
SELECT
    _row,
    TRY_CAST(date AS DATE) AS date,
    TRY_CAST(hashrate_ths AS DOUBLE) AS hashrate_ths,
    TRY_CAST(difficulty AS DOUBLE) AS difficulty,
    TRY_CAST(blocks AS DOUBLE) AS blocks,
    TRY_CAST(subsidy_btc AS DOUBLE) AS subsidy_btc,
    TRY_CAST(fees_btc AS DOUBLE) AS fees_btc,
    CAST(fees_source AS VARCHAR) AS fees_source,
    TRY_CAST(price_usd AS DOUBLE) AS price_usd,
    coalesce(isfinite(TRY_CAST(hashrate_ths AS DOUBLE)) AND isfinite(TRY_CAST(subsidy_btc AS DOUBLE))
             AND isfinite(TRY_CAST(fees_btc AS DOUBLE)) AND isfinite(TRY_CAST(price_usd AS DOUBLE)), false)
        AS values_finite_ok
FROM src_network_daily;
