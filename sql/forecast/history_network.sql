-- model: forecast.history_network
-- grain: one row per UTC day of core.network_daily between $date_from and $date_to (either may be NULL: open)
-- units: hashrate_ths in TH/s; blocks, subsidy_btc and fees_btc per day (blocks, BTC); price_usd in USD per BTC;
--     fees_source: where the day's fees come from ('estimated': a fixed share, left out of the fee-share fit)
-- reads: core.network_daily
-- recompute: per forecast run
-- params: $date_from, $date_to (DATE or NULL, inclusive)
-- The validated daily network as the last committed run left it: the forecast's price and hashrate fits, the
-- chain's height and block rate, and the backtest's actual year.
WITH network_days AS (
    SELECT date, hashrate_ths, blocks, subsidy_btc, fees_btc, fees_source, price_usd
    FROM core.network_daily
),
in_window AS (
    SELECT date, hashrate_ths, blocks, subsidy_btc, fees_btc, fees_source, price_usd
    FROM network_days
    WHERE (CAST($date_from AS DATE) IS NULL OR date >= CAST($date_from AS DATE))
      AND (CAST($date_to AS DATE) IS NULL OR date <= CAST($date_to AS DATE))
)
SELECT date, hashrate_ths, blocks, subsidy_btc, fees_btc, fees_source, price_usd
FROM in_window
ORDER BY date;
