-- model: rate_subjects_farm
-- grain: scenario × farm × month
-- units: avg_price_kzt_per_kwh in KZT/kWh; capacity_mw in MW; volumes and profiles in kWh
-- reads: model.farm_month, core.farms, model.farm_month_hour, model.farm_day_energy
-- recompute: per scheme (every run), the months $m_from..$m_to (whole tax periods)
-- params: $scenario_id, $tax_period, $m_from, $m_to, $family, $suspensions
-- updates: rate_subjects
-- The farms as subjects of the law (rows of the temp table rate_subjects, subject_kind 'farm'): their
-- categories are known, and the price is the farm's average over the tax period, Σ electricity cost / Σ kWh.
-- Taxpayer (marginal bands): the farm's taxpayer_id, or the farm itself where it names none; volume_kwh is the
-- taxpayer's kWh in the month (all its farms), volume_before_kwh its kWh in the earlier months of the same tax
-- period. hour_kwh (time-of-use families only): the farm's kWh by local hour of the day that month
-- (model.farm_month_hour); day_kwh (schemes with suspension windows only): its kWh by day of the month
-- (model.farm_day_energy). Elsewhere both are NULL (not needed).
INSERT INTO rate_subjects (scenario_id, subject_kind, subject_id, month, period_start, avg_price_kzt_per_kwh,
                           connection, energy_source, metered, licensed, capacity_mw, categories_known, region,
                           taxpayer_id, volume_before_kwh, volume_kwh, hour_kwh, day_kwh)
WITH farm_months AS (
    SELECT fm.scenario_id, fm.farm_id, fm.month, fm.metered, fm.energy_kwh, fm.electricity_cost_kzt,
           CAST(date_trunc($tax_period, fm.month) AS DATE) AS period_start,
           coalesce(f.taxpayer_id, fm.farm_id) AS taxpayer_id
    FROM model.farm_month fm JOIN core.farms f USING (farm_id)
    WHERE fm.scenario_id = $scenario_id AND fm.month BETWEEN $m_from AND $m_to
),
period_prices AS (
    SELECT farm_id, period_start,
           sum(electricity_cost_kzt) / nullif(sum(energy_kwh), 0) AS avg_price_kzt_per_kwh
    FROM farm_months GROUP BY farm_id, period_start
),
taxpayer_months AS (
    SELECT taxpayer_id, month, sum(coalesce(energy_kwh, 0)) AS volume_kwh,
           sum(sum(coalesce(energy_kwh, 0))) OVER (PARTITION BY taxpayer_id, period_start ORDER BY month
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
               AS volume_before_kwh
    FROM farm_months GROUP BY taxpayer_id, period_start, month
),
hour_profiles AS (  -- 24 values; an hour without readings is 0 kWh
    SELECT fm.farm_id, fm.month, list(coalesce(h.energy_kwh, 0.0) ORDER BY x.hour) AS hour_kwh
    FROM (SELECT DISTINCT farm_id, month FROM farm_months WHERE $family = 'per_kwh_time_of_use') fm
    CROSS JOIN (SELECT range AS hour FROM range(24)) x
    LEFT JOIN model.farm_month_hour h
      ON h.scenario_id = $scenario_id AND h.farm_id = fm.farm_id AND h.month = fm.month AND h.hour = x.hour
    GROUP BY fm.farm_id, fm.month
),
day_profiles AS (   -- one value per day of the month; a day without readings is 0 kWh
    SELECT fm.farm_id, fm.month, list(coalesce(d.energy_kwh, 0.0) ORDER BY x.i) AS day_kwh
    FROM (SELECT DISTINCT farm_id, month FROM farm_months WHERE $suspensions) fm
    CROSS JOIN (SELECT range AS i FROM range(31)) x
    LEFT JOIN model.farm_day_energy d
      ON d.scenario_id = $scenario_id AND d.farm_id = fm.farm_id AND d.day = fm.month + CAST(x.i AS INTEGER)
    WHERE fm.month + CAST(x.i AS INTEGER) <= last_day(fm.month)
    GROUP BY fm.farm_id, fm.month
)
SELECT $scenario_id AS scenario_id, 'farm' AS subject_kind, farm_months.farm_id AS subject_id, farm_months.month,
       farm_months.period_start, period_prices.avg_price_kzt_per_kwh, farms.connection, farms.energy_source,
       farm_months.metered, farms.licensed, farms.capacity_mw, true AS categories_known, farms.region,
       farm_months.taxpayer_id, coalesce(tm.volume_before_kwh, 0) AS volume_before_kwh, tm.volume_kwh,
       hp.hour_kwh, dp.day_kwh
FROM farm_months
JOIN period_prices USING (farm_id, period_start)
JOIN core.farms farms USING (farm_id)
JOIN taxpayer_months tm ON tm.taxpayer_id = farm_months.taxpayer_id AND tm.month = farm_months.month
LEFT JOIN hour_profiles hp ON hp.farm_id = farm_months.farm_id AND hp.month = farm_months.month
LEFT JOIN day_profiles dp ON dp.farm_id = farm_months.farm_id AND dp.month = farm_months.month;
