-- model: rate_subjects_country
-- grain: scenario × country × month
-- units: avg_price_kzt_per_kwh in KZT/kWh; volumes in kWh
-- reads: model.country_month
-- recompute: per scheme (every run), the months $m_from..$m_to (whole tax periods)
-- params: $scenario_id, $tax_period, $m_from, $m_to
-- updates: rate_subjects
-- The top-down countries as subjects of the law (rows of the temp table rate_subjects, subject_kind 'country').
-- Their fleet's categories are unknown, so only the price brackets can apply; the price is the country's
-- price proxy (its energy × the metered farms' average price) averaged over the tax period, weighted by the
-- energy of the months that have a proxy.
-- Issue 17: the country has no hours, days, regions or taxpayers in the data. Its load is taken as flat over the
-- 24 hours of the day and the days of the month (miners run flat: hour_kwh and day_kwh NULL), so time-of-use
-- periods weigh by their hours and a suspension window by its days; no region-limited window applies top-down.
-- For marginal bands the country's fleet is one taxpayer (volume_kwh = its kWh in the month, volume_before_kwh
-- its kWh in the earlier months of the tax period): an upper bound, the lower bands count once, not per miner.
INSERT INTO rate_subjects (scenario_id, subject_kind, subject_id, month, period_start, avg_price_kzt_per_kwh,
                           connection, energy_source, metered, licensed, capacity_mw, categories_known, region,
                           taxpayer_id, volume_before_kwh, volume_kwh, hour_kwh, day_kwh)
WITH country_months AS (
    SELECT cm.scenario_id, cm.country, cm.month, cm.energy_kwh, cm.avg_price_kzt_per_kwh,
           CAST(date_trunc($tax_period, cm.month) AS DATE) AS period_start
    FROM model.country_month cm
    WHERE cm.scenario_id = $scenario_id AND cm.month BETWEEN $m_from AND $m_to
),
period_prices AS (
    SELECT country, period_start,
           sum(energy_kwh * avg_price_kzt_per_kwh)
               / nullif(sum(energy_kwh) FILTER (WHERE avg_price_kzt_per_kwh IS NOT NULL), 0) AS avg_price_kzt_per_kwh
    FROM country_months GROUP BY country, period_start
),
volumes AS (
    SELECT country, month, coalesce(sum(energy_kwh) OVER (PARTITION BY country, period_start ORDER BY month
                                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
               AS volume_before_kwh
    FROM country_months
)
SELECT country_months.scenario_id, 'country' AS subject_kind, country_months.country AS subject_id,
       country_months.month, country_months.period_start, period_prices.avg_price_kzt_per_kwh,
       NULL AS connection, NULL AS energy_source, NULL AS metered, NULL AS licensed, NULL AS capacity_mw,
       false AS categories_known, NULL AS region, country_months.country AS taxpayer_id, volumes.volume_before_kwh,
       country_months.energy_kwh AS volume_kwh, NULL AS hour_kwh, NULL AS day_kwh
FROM country_months
JOIN period_prices USING (country, period_start)
JOIN volumes USING (country, month);
