-- model: model.farm_month
-- grain: scenario × farm × calendar month
-- units: energy kWh; price KZT/kWh; cost KZT; hashrate TH/s; coins BTC; value USD, KZT
-- reads: map_partials, core.energy_reading_partitions, core.energy_reading_segments, core.energy_readings_replaced,
--     core.farms, core.farm_hashrate, core.fleet_efficiency, core.fx, core.network_daily, price_path
-- recompute: by month ($m_from..$m_to)
-- params: $run_id, $scenario_id, $m_from, $m_to, $pue_low, $pue_central, $pue_high, $efficiency, $fx_pair,
--     $band_low, $band_high
-- also: energy_agg, farm_day, farm_day_model
-- the bottom-up model. Grain of the result: scenario × farm × calendar month.
-- Units: energy kWh; prices KZT/kWh; cost KZT; hashrate TH/s (monthly mean over calendar days);
-- coins BTC; value USD and KZT. Parameters: $run_id, $scenario_id, $pue_low/$pue_central/$pue_high
-- (power usage effectiveness), $efficiency ('lower' | 'estimated' | 'upper': the fleet efficiency series
-- used for the central implied hashrate), $fx_pair (e.g. 'USD/KZT'), $band_low/$band_high (range of an
-- unmetered farm's true consumption around the estimate). Reads temp table price_path(date, multiplier):
-- the scenario's BTC price multiplier from each date on. Only months $m_from..$m_to (first days) are
-- recomputed; the rest of model.farm_month stays as it is (incremental runs and backfill).
--
-- 1. energy_agg: the readings of the window summed by farm and day for readings within one day; a reading over
--    more than one day (or before 1970) stays a row of its own, to be spread (farm_day). Monthly sums add these up
--    (a reading lies within one month, validated). Made by the map: one task per group of partitions of the
--    window's months (sql/map/partial_energy.sql, minetax.model.partials), whose partials are unioned here.
CREATE OR REPLACE TEMP TABLE energy_agg AS
SELECT farm_id, day, multi_start, multi_end, kwh, cost_kzt FROM map_partials;

-- farm_day: readings spread over the days they cover, pro rata by time (most lie within a day).
CREATE OR REPLACE TEMP TABLE farm_day AS
WITH one_day AS (
    SELECT farm_id, day, kwh, cost_kzt FROM energy_agg WHERE multi_start IS NULL
),
multi_day AS (
    SELECT farm_id, multi_start AS ts_start, multi_end AS ts_end, kwh, cost_kzt,
           CAST(multi_start AS DATE) AS d0, CAST(multi_end - INTERVAL 1 MICROSECOND AS DATE) AS d1
    FROM energy_agg WHERE multi_start IS NOT NULL
),
spread AS (
    SELECT farm_id, day, kwh * frac AS kwh, cost_kzt * frac AS cost_kzt
    FROM (
        SELECT farm_id, kwh, cost_kzt, CAST(covered.day AS DATE) AS day,
               (epoch(least(ts_end, covered.day + INTERVAL 1 DAY)) - epoch(greatest(ts_start, covered.day)))
                 / (epoch(ts_end) - epoch(ts_start)) AS frac
        FROM multi_day, LATERAL (SELECT unnest(generate_series(CAST(multi_day.d0 AS TIMESTAMP),
                                                               CAST(multi_day.d1 AS TIMESTAMP), INTERVAL 1 DAY))
                                 AS day) covered
    )
)
SELECT farm_id, day, sum(kwh) AS energy_kwh, sum(cost_kzt) AS cost_kzt
FROM (SELECT * FROM one_day UNION ALL SELECT * FROM spread)
GROUP BY farm_id, day;

-- 2. farm_day_model: hashrate (reported, else implied from energy, fleet efficiency and PUE), coins, value.
--    Implied: H [TH/s] = E [kWh/day] × 1000 / 24 / (η [J/TH] × PUE). Low: the low energy (unmetered farms),
--    the upper efficiency bound and high PUE; high: the high energy, the lower bound and low PUE.
--    Coins = H / H_network × (subsidy + fees); value at that day's price × the scenario's multiplier.
CREATE OR REPLACE TEMP TABLE farm_day_model AS
WITH with_reported AS (
    SELECT fd.*, h.hashrate_ths AS reported_ths,
           fd.energy_kwh * CASE WHEN f.metered THEN 1 ELSE $band_low END AS energy_low_kwh,
           fd.energy_kwh * CASE WHEN f.metered THEN 1 ELSE $band_high END AS energy_high_kwh
    FROM farm_day fd
    JOIN core.farms f USING (farm_id)
    LEFT JOIN core.farm_hashrate h ON h.farm_id = fd.farm_id AND h.date = fd.day
),
with_efficiency AS (
    SELECT wr.*, fe.lower_j_per_th, fe.estimated_j_per_th, fe.upper_j_per_th
    FROM with_reported wr ASOF LEFT JOIN core.fleet_efficiency fe ON wr.day >= fe.date
),
with_prices AS (
    SELECT we.*, fx.rate AS fx_rate, coalesce(pp.multiplier, 1) AS price_multiplier
    FROM with_efficiency we
    ASOF LEFT JOIN (SELECT date, rate FROM core.fx WHERE pair = $fx_pair) fx ON we.day >= fx.date
    ASOF LEFT JOIN price_path pp ON we.day >= pp.date
),
with_hashrate AS (
    SELECT wp.*,
           coalesce(reported_ths, energy_kwh * 1000 / 24 / (CASE $efficiency WHEN 'lower' THEN lower_j_per_th
                WHEN 'upper' THEN upper_j_per_th ELSE estimated_j_per_th END * $pue_central)) AS hashrate_ths,
           coalesce(reported_ths, energy_low_kwh * 1000 / 24 / (upper_j_per_th * $pue_high)) AS hashrate_low_ths,
           coalesce(reported_ths, energy_high_kwh * 1000 / 24 / (lower_j_per_th * $pue_low)) AS hashrate_high_ths
    FROM with_prices wp
)
SELECT wh.farm_id, wh.day, wh.energy_kwh, wh.cost_kzt, wh.reported_ths IS NOT NULL AS reported,
       wh.hashrate_ths, wh.hashrate_low_ths, wh.hashrate_high_ths,
       n.date IS NOT NULL AS has_network,
       wh.hashrate_ths / n.hashrate_ths * (n.subsidy_btc + n.fees_btc) AS btc,
       wh.hashrate_low_ths / n.hashrate_ths * (n.subsidy_btc + n.fees_btc) AS btc_low,
       wh.hashrate_high_ths / n.hashrate_ths * (n.subsidy_btc + n.fees_btc) AS btc_high,
       n.price_usd * wh.price_multiplier AS price_usd, wh.fx_rate
FROM with_hashrate wh LEFT JOIN core.network_daily n ON n.date = wh.day;

-- 3. farm_month: every month a farm operates within the span of the readings, with or without energy.
--    Energy and cost are summed exactly from the readings; hashrate and coins from farm_day_model.
DELETE FROM model.farm_month WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to;

INSERT INTO model.farm_month (run_id, scenario_id, farm_id, month, region, metered,
    energy_kwh, energy_low_kwh, energy_high_kwh, avg_price_kzt_per_kwh,
    electricity_cost_kzt, electricity_cost_low_kzt, electricity_cost_high_kzt,
    hashrate_ths, hashrate_low_ths, hashrate_high_ths, hashrate_source,
    btc_mined, btc_mined_low, btc_mined_high,
    mined_value_usd, mined_value_kzt, mined_value_low_kzt, mined_value_high_kzt)
WITH span AS (  -- months with readings anywhere (the listed partitions: no scan of the readings), within the window
    SELECT greatest(min(month), $m_from) AS m0, least(max(month), $m_to) AS m1
    FROM core.energy_reading_partitions
),
active AS (
    SELECT f.farm_id, f.region, f.metered, CAST(m.month AS DATE) AS month
    FROM core.farms f, span,
         LATERAL (SELECT unnest(generate_series(CAST(span.m0 AS TIMESTAMP), CAST(span.m1 AS TIMESTAMP),
                                                INTERVAL 1 MONTH)) AS month) m
    WHERE CAST(m.month AS DATE) >= CAST(date_trunc('month', f.commissioned_on) AS DATE)
      AND (f.decommissioned_on IS NULL OR CAST(m.month AS DATE) <= f.decommissioned_on)
),
energy AS (  -- monthly sums of energy_agg: a reading lies within one month (validated), no pro-rating needed
    SELECT farm_id, CAST(date_trunc('month', coalesce(multi_start, day)) AS DATE) AS month,
           sum(kwh) AS energy_kwh, sum(cost_kzt) AS cost_kzt
    FROM energy_agg GROUP BY ALL
),
daily_sums AS (
    SELECT farm_id, CAST(date_trunc('month', day) AS DATE) AS month,
           sum(hashrate_ths) AS sum_ths, sum(hashrate_low_ths) AS sum_low_ths,
           sum(hashrate_high_ths) AS sum_high_ths,
           count(*) FILTER (WHERE energy_kwh > 0) AS days_on,
           count(*) FILTER (WHERE energy_kwh > 0 AND reported) AS days_reported,
           bool_and(has_network AND fx_rate IS NOT NULL) AS network_complete,
           sum(btc) AS btc, sum(btc_low) AS btc_low, sum(btc_high) AS btc_high,
           sum(btc * price_usd) AS value_usd,
           sum(btc * price_usd * fx_rate) AS value_kzt,
           sum(btc_low * price_usd * fx_rate) AS value_low_kzt,
           sum(btc_high * price_usd * fx_rate) AS value_high_kzt
    FROM farm_day_model GROUP BY ALL
),
farm_months AS (
    SELECT a.farm_id, a.month, a.region, a.metered,
           coalesce(en.energy_kwh, 0) AS energy_kwh, coalesce(en.cost_kzt, 0) AS cost_kzt,
           CASE WHEN a.metered THEN 1 ELSE $band_low END AS f_low,
           CASE WHEN a.metered THEN 1 ELSE $band_high END AS f_high,
           g.sum_ths, g.sum_low_ths, g.sum_high_ths, g.days_on, g.days_reported, g.network_complete,
           g.btc, g.btc_low, g.btc_high, g.value_usd, g.value_kzt, g.value_low_kzt, g.value_high_kzt
    FROM active a LEFT JOIN daily_sums g USING (farm_id, month) LEFT JOIN energy en USING (farm_id, month)
)
SELECT $run_id, $scenario_id, farm_id, month, region, metered,
       energy_kwh, energy_kwh * f_low, energy_kwh * f_high,
       cost_kzt / nullif(energy_kwh, 0) AS avg_price_kzt_per_kwh,
       cost_kzt, cost_kzt * f_low, cost_kzt * f_high,
       coalesce(sum_ths, 0) / day(last_day(month)) AS hashrate_ths,
       coalesce(sum_low_ths, 0) / day(last_day(month)) AS hashrate_low_ths,
       coalesce(sum_high_ths, 0) / day(last_day(month)) AS hashrate_high_ths,
       CASE WHEN coalesce(days_on, 0) = 0 THEN NULL
            WHEN days_reported = days_on THEN 'reported'
            WHEN days_reported = 0 THEN 'implied' ELSE 'mixed' END AS hashrate_source,
       CASE WHEN days_on IS NULL THEN 0 WHEN network_complete THEN btc END,
       CASE WHEN days_on IS NULL THEN 0 WHEN network_complete THEN btc_low END,
       CASE WHEN days_on IS NULL THEN 0 WHEN network_complete THEN btc_high END,
       CASE WHEN days_on IS NULL THEN 0 WHEN network_complete THEN value_usd END,
       CASE WHEN days_on IS NULL THEN 0 WHEN network_complete THEN value_kzt END,
       CASE WHEN days_on IS NULL THEN 0 WHEN network_complete THEN value_low_kzt END,
       CASE WHEN days_on IS NULL THEN 0 WHEN network_complete THEN value_high_kzt END
FROM farm_months;
