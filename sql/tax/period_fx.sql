-- model: period_fx (temp table)
-- grain: tax period
-- units: fx rate KZT per unit of the rate's currency
-- reads: model.farm_month, core.fx
-- recompute: per scheme
-- params: $scenario_id, $tax_period, $fx_pair
-- tax_period_fx: the tax periods of one scheme over the scenario's months, with their last day and the rate
-- that converts the scheme's rate to KZT: the mean of the monthly $fx_pair rates in force on each month's
-- first day (1 when the rate is in KZT). Grain: tax period. Temp table period_fx, read by tax_farm.sql and
-- tax_country.sql. Parameters: $scenario_id, $tax_period, $fx_pair.
CREATE OR REPLACE TEMP TABLE period_fx AS
WITH periods AS (
    SELECT DISTINCT CAST(date_trunc($tax_period, month) AS DATE) AS period_start
    FROM model.farm_month WHERE scenario_id = $scenario_id
),
period_months AS (
    SELECT p.period_start, CAST(p.period_start + to_months(CAST(k.range AS INTEGER)) AS DATE) AS month
    FROM periods p, range(CASE $tax_period WHEN 'month' THEN 1 WHEN 'quarter' THEN 3 ELSE 12 END) k
)
SELECT pm.period_start,
       CAST(pm.period_start + CASE $tax_period WHEN 'month' THEN INTERVAL 1 MONTH WHEN 'quarter' THEN INTERVAL 3 MONTH
                                               ELSE INTERVAL 1 YEAR END - INTERVAL 1 DAY AS DATE) AS period_end,
       CASE WHEN $fx_pair IS NULL THEN 1.0 ELSE avg(r.rate) END AS fx_rate
FROM period_months pm
ASOF LEFT JOIN (SELECT date, rate FROM core.fx WHERE pair = $fx_pair) r ON pm.month >= r.date
GROUP BY pm.period_start;
