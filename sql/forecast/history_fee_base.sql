-- model: forecast.history_fee_base
-- grain: one row per licensed sample farm × calendar year × per-kWh fee scheme of tax.estimates for $scenario_id
-- units: base_kwh in kWh; tax_kzt in KZT; avg_price_kzt_per_kwh in KZT/kWh (base-weighted); capacity_mw in MW;
--     months (count of months with an estimate)
-- reads: tax.estimates, core.farms
-- recompute: per backtest
-- params: $scenario_id
-- The fee base and fee of the sample's licensed farms by year as the last committed run estimated them: the
-- backtest's actual outcomes, and the origin year's base, price and farm categories it starts from.
WITH fee AS (
    SELECT scheme_id, farm_id, year(period_start) AS year, base_kwh, tax_kzt, avg_price_kzt_per_kwh,
           date_diff('month', period_start, period_end) + 1 AS months
    FROM tax.estimates
    WHERE scenario_id = $scenario_id AND family IN ('per_kwh', 'per_kwh_by_price', 'per_kwh_foreign')
),
licensed AS (
    SELECT farm_id, energy_source, connection, metered, licensed, capacity_mw
    FROM core.farms
    WHERE licensed
)
SELECT f.scheme_id, f.farm_id, f.year, sum(f.base_kwh) AS base_kwh, sum(f.tax_kzt) AS tax_kzt,
       sum(f.base_kwh * f.avg_price_kzt_per_kwh) / nullif(sum(f.base_kwh), 0) AS avg_price_kzt_per_kwh,
       sum(f.months) AS months, any_value(l.energy_source) AS energy_source, any_value(l.connection) AS connection,
       any_value(l.metered) AS metered, any_value(l.licensed) AS licensed, any_value(l.capacity_mw) AS capacity_mw
FROM fee f JOIN licensed l USING (farm_id)
GROUP BY f.scheme_id, f.farm_id, f.year
ORDER BY f.scheme_id, f.farm_id, f.year;
