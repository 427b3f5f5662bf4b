-- model: forecast.history_fx
-- grain: one row per date from which a USD/KZT rate applies (core.fx), up to $date_to (NULL: all)
-- units: kzt_per_usd in KZT per 1 USD
-- reads: core.fx
-- recompute: per forecast run
-- params: $date_to (DATE or NULL, inclusive)
-- The validated exchange rate as the last committed run left it: the forecast carries the last rate forward.
WITH usd_kzt AS (
    SELECT date, rate AS kzt_per_usd
    FROM core.fx
    WHERE pair = 'USD/KZT'
)
SELECT date, kzt_per_usd
FROM usd_kzt
WHERE CAST($date_to AS DATE) IS NULL OR date <= CAST($date_to AS DATE)
ORDER BY date;
