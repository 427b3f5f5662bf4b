-- model: model.country_month
-- grain: scenario × country × calendar month
-- units: share (fraction); hashrate TH/s; energy kWh; price KZT/kWh; coins BTC; value USD, KZT
-- reads: model.farm_month, core.network_daily, core.fleet_efficiency, core.fx, core.country_share, price_path,
--     share_assumed
-- recompute: by month ($m_from..$m_to)
-- params: $run_id, $scenario_id, $m_from, $m_to, $pue_low, $pue_central, $pue_high, $efficiency, $fx_pair
-- the top-down (CBECI-style) model. Grain: scenario × country × month; 'World' is the
-- whole network (share 1). Hashrate share: observed (country_share input) where it covers the month, else
-- the scenario's assumption in force (temp table share_assumed(country, date, low, central, high, source)).
-- Energy [kWh] = share × Σ_days H_network [TH/s] × η [J/TH] × PUE × 24 h / 1000, low with the lower
-- efficiency bound, PUE low and the low share; high with the upper bound, PUE high and the high share.
-- Coins = share × (subsidy + fees); value at the day's price × the scenario's multiplier (price_path).
-- The price proxy is the kWh-weighted average price of the metered farms that month (KZT/kWh).
-- Parameters: $run_id, $scenario_id, $pue_low/$pue_central/$pue_high, $efficiency, $fx_pair; only months
-- $m_from..$m_to are recomputed.
DELETE FROM model.country_month WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to;

INSERT INTO model.country_month (run_id, scenario_id, country, month, share_low, share, share_high, share_source,
    network_hashrate_ths, hashrate_ths, energy_low_kwh, energy_kwh, energy_high_kwh, avg_price_kzt_per_kwh,
    btc_mined, mined_value_usd, mined_value_kzt)
WITH span AS (
    SELECT greatest(min(month), $m_from) AS m0, least(max(month), $m_to) AS m1
    FROM model.farm_month WHERE scenario_id = $scenario_id
),
months AS (
    SELECT CAST(unnest(generate_series(CAST(m0 AS TIMESTAMP), CAST(m1 AS TIMESTAMP), INTERVAL 1 MONTH)) AS DATE)
        AS month
    FROM span
),
countries AS (
    SELECT DISTINCT country FROM share_assumed UNION SELECT 'World'
),
network_days AS (
    SELECT n.*, e.lower_j_per_th, e.upper_j_per_th,
           CASE $efficiency WHEN 'lower' THEN e.lower_j_per_th WHEN 'upper' THEN e.upper_j_per_th
                ELSE e.estimated_j_per_th END AS central_j_per_th,
           fx.rate AS fx_rate, coalesce(pp.multiplier, 1) AS price_multiplier
    FROM (SELECT * FROM core.network_daily WHERE date >= $m_from AND date < $m_to + INTERVAL 1 MONTH) n
    ASOF LEFT JOIN core.fleet_efficiency e ON n.date >= e.date
    ASOF LEFT JOIN (SELECT date, rate FROM core.fx WHERE pair = $fx_pair) fx ON n.date >= fx.date
    ASOF LEFT JOIN price_path pp ON n.date >= pp.date
),
network_months AS (
    SELECT CAST(date_trunc('month', date) AS DATE) AS month,
           avg(hashrate_ths) AS hashrate_ths,
           sum(hashrate_ths * lower_j_per_th) * 24 / 1000 AS e_lower_kwh,
           sum(hashrate_ths * central_j_per_th) * 24 / 1000 AS e_central_kwh,
           sum(hashrate_ths * upper_j_per_th) * 24 / 1000 AS e_upper_kwh,
           sum(subsidy_btc + fees_btc) AS btc,
           sum((subsidy_btc + fees_btc) * price_usd * price_multiplier) AS value_usd,
           sum((subsidy_btc + fees_btc) * price_usd * price_multiplier * fx_rate) AS value_kzt,
           count(*) AS days
    FROM network_days GROUP BY 1
),
price AS (
    SELECT month, sum(electricity_cost_kzt) / nullif(sum(energy_kwh), 0) AS avg_price_kzt_per_kwh
    FROM model.farm_month WHERE scenario_id = $scenario_id AND metered AND month BETWEEN $m_from AND $m_to
    GROUP BY 1
),
share AS (
    SELECT c.country, m.month,
           CASE WHEN c.country = 'World' THEN 1 ELSE coalesce(o.share, a.low) END AS share_low,
           CASE WHEN c.country = 'World' THEN 1 ELSE coalesce(o.share, a.central) END AS share,
           CASE WHEN c.country = 'World' THEN 1 ELSE coalesce(o.share, a.high) END AS share_high,
           CASE WHEN c.country = 'World' THEN 'whole network'
                WHEN o.share IS NOT NULL THEN 'observed: ' || coalesce(o.source, 'country_share input')
                WHEN a.central IS NOT NULL THEN 'assumed: ' || coalesce(a.source, 'scenario') END AS share_source
    FROM countries c CROSS JOIN months m
    LEFT JOIN core.country_share o ON o.country = c.country AND o.month = m.month
    ASOF LEFT JOIN share_assumed a ON a.country = c.country AND m.month >= a.date
)
SELECT $run_id, $scenario_id, s.country, s.month, s.share_low, s.share, s.share_high, s.share_source,
       n.hashrate_ths, s.share * n.hashrate_ths,
       s.share_low * n.e_lower_kwh * $pue_low, s.share * n.e_central_kwh * $pue_central,
       s.share_high * n.e_upper_kwh * $pue_high,
       p.avg_price_kzt_per_kwh,
       s.share * n.btc, s.share * n.value_usd, s.share * n.value_kzt
FROM share s JOIN network_months n USING (month) LEFT JOIN price p USING (month)
WHERE s.share IS NOT NULL;
