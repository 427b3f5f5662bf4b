-- model: forecast.history_coverage
-- grain: one row per core table the forecast reads
-- units: rows (count); first_date and last_date (DATE)
-- reads: core.network_daily, core.fx, core.fleet_efficiency
-- recompute: per forecast run
-- params: (none)
-- What the last committed run left for the forecast: no network day means nothing was loaded yet.
WITH network AS (
    SELECT 'core.network_daily' AS table_name, count(*) AS rows, min(date) AS first_date, max(date) AS last_date
    FROM core.network_daily
),
usd_kzt AS (
    SELECT 'core.fx' AS table_name, count(*) AS rows, min(date) AS first_date, max(date) AS last_date
    FROM core.fx
    WHERE pair = 'USD/KZT'
),
efficiency AS (
    SELECT 'core.fleet_efficiency' AS table_name, count(*) AS rows, min(date) AS first_date, max(date) AS last_date
    FROM core.fleet_efficiency
)
SELECT table_name, rows, first_date, last_date FROM network
UNION ALL
SELECT table_name, rows, first_date, last_date FROM usd_kzt
UNION ALL
SELECT table_name, rows, first_date, last_date FROM efficiency;
