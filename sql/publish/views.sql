-- model: published.revenue_by_month (view; and the other analyst views)
-- grain: as each view says below
-- units: KZT; kWh
-- reads: published.estimates, published.estimates_month, published.estimates_country, published.farms,
--     published.collections, published.validations
-- recompute: per publish (whole snapshot)
-- params: none
-- also: published.revenue_by_year, published.revenue_by_region, published.revenue_by_farm, published.tax_gap,
--     published.data_quality
-- the analyst views of the published snapshot (created inside the snapshot file).
-- revenue_by_month: scenario × scheme × calendar month; tax accrues in the month the base arose. KZT.
CREATE VIEW revenue_by_month AS
SELECT scenario_id, scheme_id, month, count(DISTINCT farm_id) FILTER (WHERE base_kwh > 0) AS farms,
       sum(base_kwh) AS base_kwh, sum(tax_low_kzt) AS tax_low_kzt, sum(tax_kzt) AS tax_kzt,
       sum(tax_high_kzt) AS tax_high_kzt, sum(tax_dynamic_kzt) AS tax_dynamic_kzt, any_value(run_id) AS run_id
FROM estimates_month GROUP BY ALL ORDER BY scenario_id, scheme_id, month;

-- revenue_by_year: scenario × scheme × calendar year of the tax period; farms = farms with consumption,
-- periods = tax periods with an estimate. KZT; base in kWh.
CREATE VIEW revenue_by_year AS
SELECT scenario_id, scheme_id, year(period_start) AS year,
       count(DISTINCT farm_id) FILTER (WHERE base_kwh > 0) AS farms,
       count(DISTINCT period_start) AS periods,
       sum(base_kwh) AS base_kwh, sum(tax_low_kzt) AS tax_low_kzt, sum(tax_kzt) AS tax_kzt,
       sum(tax_high_kzt) AS tax_high_kzt, sum(tax_dynamic_kzt) AS tax_dynamic_kzt, any_value(run_id) AS run_id
FROM estimates GROUP BY ALL ORDER BY scenario_id, scheme_id, year;

-- revenue_by_region: scenario × scheme × region × tax period. KZT.
CREATE VIEW revenue_by_region AS
SELECT e.scenario_id, e.scheme_id, f.region, e.period_start, e.period_end,
       sum(e.base_kwh) AS base_kwh, sum(e.tax_low_kzt) AS tax_low_kzt, sum(e.tax_kzt) AS tax_kzt,
       sum(e.tax_high_kzt) AS tax_high_kzt
FROM estimates e JOIN farms f USING (farm_id) GROUP BY ALL
ORDER BY e.scenario_id, e.scheme_id, f.region, e.period_start;

-- revenue_by_farm: scenario × scheme × farm × calendar year. KZT.
CREATE VIEW revenue_by_farm AS
SELECT e.scenario_id, e.scheme_id, e.farm_id, f.name, f.region, year(e.period_start) AS year,
       sum(e.base_kwh) AS base_kwh, sum(e.tax_low_kzt) AS tax_low_kzt, sum(e.tax_kzt) AS tax_kzt,
       sum(e.tax_high_kzt) AS tax_high_kzt
FROM estimates e JOIN farms f USING (farm_id) GROUP BY ALL
ORDER BY e.scenario_id, e.scheme_id, e.farm_id, year;

-- tax_gap: scenario × scheme × country × tax period. Top-down tax (low/central/high) minus the tax on the
-- declared base (the bottom-up estimate of the licensed farms in the register, metered or not), and minus
-- collections where a collections file was loaded. A positive gap estimates tax lost to grey
-- (unregistered) mining. *_dynamic_*: the same with behavioural response (NULL when off). kWh and KZT.
CREATE VIEW tax_gap AS
WITH declared AS (
    SELECT e.scenario_id, e.scheme_id, e.period_start, sum(e.base_kwh) AS declared_kwh,
           sum(e.tax_kzt) AS declared_tax_kzt, sum(e.tax_dynamic_kzt) AS declared_tax_dynamic_kzt
    FROM estimates e JOIN farms f USING (farm_id) WHERE f.licensed GROUP BY ALL
)
SELECT c.scenario_id, c.scheme_id, c.country, c.period_start, c.period_end,
       c.energy_low_kwh AS topdown_energy_low_kwh, c.energy_kwh AS topdown_energy_kwh,
       c.energy_high_kwh AS topdown_energy_high_kwh, d.declared_kwh,
       c.energy_kwh - d.declared_kwh AS unexplained_energy_kwh,
       c.tax_low_kzt AS topdown_tax_low_kzt, c.tax_kzt AS topdown_tax_kzt, c.tax_high_kzt AS topdown_tax_high_kzt,
       d.declared_tax_kzt,
       c.tax_low_kzt - d.declared_tax_kzt AS gap_low_kzt, c.tax_kzt - d.declared_tax_kzt AS gap_kzt,
       c.tax_high_kzt - d.declared_tax_kzt AS gap_high_kzt,
       c.tax_dynamic_kzt AS topdown_tax_dynamic_kzt, d.declared_tax_dynamic_kzt,
       c.tax_dynamic_kzt - d.declared_tax_dynamic_kzt AS gap_dynamic_kzt,
       col.collected_kzt,
       c.tax_low_kzt - col.collected_kzt AS gap_vs_collections_low_kzt,
       c.tax_kzt - col.collected_kzt AS gap_vs_collections_kzt,
       c.tax_high_kzt - col.collected_kzt AS gap_vs_collections_high_kzt
FROM estimates_country c
LEFT JOIN declared d USING (scenario_id, scheme_id, period_start)
LEFT JOIN collections col ON col.jurisdiction = c.country AND col.scheme_id = c.scheme_id
                         AND col.period_start = c.period_start
WHERE c.country <> 'World'
ORDER BY c.scenario_id, c.scheme_id, c.country, c.period_start;

-- data_quality: validation results per run and suite.
CREATE VIEW data_quality AS
SELECT run_id, suite, target, count(*) AS expectations, count(*) FILTER (WHERE success) AS passed,
       count(*) FILTER (WHERE NOT success) AS failed, sum(unexpected_count) AS unexpected_rows
FROM validations GROUP BY ALL ORDER BY run_id, suite, target;
