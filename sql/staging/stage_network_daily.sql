-- model: stage_network_daily (temp table)
-- grain: UTC day
-- units: hashrate TH/s; subsidy and fees BTC/day; price USD/BTC
-- reads: src_network_daily
-- recompute: per file staged
-- params: none
-- network figures by UTC day, typed, with check columns.
-- Units: hashrate TH/s, subsidy and fees BTC per day, price USD per BTC.
-- hashrate_difficulty_ok: a day's hashrate and difficulty describe the same network. Difficulty D means 2^32 × D
-- hashes per block on average, one block per 600 s, so hashrate ≈ D × 2^32 / 600 H/s × (blocks found / 144). The
-- blocks found on a day vary (0.41 to 1.37 × 144 from 2019 to 2025 in data/reference), so the ratio must lie within
-- 1/4 .. 4: outside it one of the two is in other units (PH/s or EH/s given as TH/s) or belongs to another day.
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
        AS values_finite_ok,
    coalesce(TRY_CAST(hashrate_ths AS DOUBLE) * 1e12 * 600 / (TRY_CAST(difficulty AS DOUBLE) * 4294967296)
             BETWEEN 0.25 AND 4, true) AS hashrate_difficulty_ok
FROM src_network_daily;
