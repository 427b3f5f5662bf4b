-- model: rate_subjects_farm
-- grain: scenario × farm × month
-- units: avg_price_kzt_per_kwh in KZT/kWh; capacity_mw in MW
-- reads: model.farm_month, core.farms
-- recompute: per scheme (every run), the months $m_from..$m_to (whole tax periods)
-- params: $scenario_id, $tax_period, $m_from, $m_to
-- updates: rate_subjects
-- The farms as subjects of the law (rows of the temp table rate_subjects, subject_kind 'farm'): their
-- categories are known, and the price is the farm's average over the tax period, Σ electricity cost / Σ kWh.
INSERT INTO rate_subjects (scenario_id, subject_kind, subject_id, month, period_start, avg_price_kzt_per_kwh,
                           connection, energy_source, metered, licensed, capacity_mw, categories_known)
WITH farm_months AS (
    SELECT fm.scenario_id, fm.farm_id, fm.month, fm.metered, fm.energy_kwh, fm.electricity_cost_kzt,
           CAST(date_trunc($tax_period, fm.month) AS DATE) AS period_start
    FROM model.farm_month fm
    WHERE fm.scenario_id = $scenario_id AND fm.month BETWEEN $m_from AND $m_to
),
period_prices AS (
    SELECT farm_id, period_start,
           sum(electricity_cost_kzt) / nullif(sum(energy_kwh), 0) AS avg_price_kzt_per_kwh
    FROM farm_months GROUP BY farm_id, period_start
)
SELECT farm_months.scenario_id, 'farm' AS subject_kind, farm_months.farm_id AS subject_id, farm_months.month,
       farm_months.period_start, period_prices.avg_price_kzt_per_kwh, farms.connection, farms.energy_source,
       farm_months.metered, farms.licensed, farms.capacity_mw, true AS categories_known
FROM farm_months
JOIN period_prices USING (farm_id, period_start)
JOIN core.farms farms USING (farm_id);
