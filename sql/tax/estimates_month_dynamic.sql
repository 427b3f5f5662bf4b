-- model: farm_operating (temp table)
-- grain: farm (country) × calendar month
-- units: none (flags); tax KZT
-- reads: model.farm_month, model.country_month, tax.estimates_month, country_tax_month
-- recompute: by month ($m_from..$m_to), once for all schemes
-- params: $scenario_id, $behaviour, $m_from, $m_to
-- also: country_operating
-- updates: tax.estimates_month, country_tax_month
-- tax_behaviour: behavioural response (dynamic scoring). A farm, or a country's fleet, keeps mining in a
-- month only while its mined value per kWh covers the electricity price plus the tax per kWh of every scheme
-- of the scenario; otherwise that month's dynamic tax is 0. Grain: scenario × scheme × farm (country) × month.
-- A suspension window's expected activity is zero: the dynamic tax leaves out the tax on the kWh inside the window
-- (tax_suspended_kzt). With $behaviour false the dynamic columns stay NULL. Parameters: $scenario_id, $behaviour, $m_from/$m_to.
CREATE OR REPLACE TEMP TABLE farm_operating AS
SELECT m.farm_id, m.month,
       coalesce(m.mined_value_kzt >= m.electricity_cost_kzt + coalesce(t.tax_kzt, 0), true) AS operating
FROM model.farm_month m
LEFT JOIN (SELECT farm_id, month, sum(tax_kzt) AS tax_kzt FROM tax.estimates_month
           WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to GROUP BY ALL) t USING (farm_id, month)
WHERE m.scenario_id = $scenario_id AND m.energy_kwh > 0 AND m.month BETWEEN $m_from AND $m_to AND $behaviour;

UPDATE tax.estimates_month SET tax_dynamic_kzt = CASE WHEN coalesce(
    (SELECT o.operating FROM farm_operating o
     WHERE o.farm_id = estimates_month.farm_id AND o.month = estimates_month.month), true)
    THEN tax_kzt - coalesce(tax_suspended_kzt, 0) ELSE 0 END
WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to AND $behaviour;

CREATE OR REPLACE TEMP TABLE country_operating AS
SELECT c.country, c.month,
       coalesce(c.mined_value_kzt >= c.energy_kwh * c.avg_price_kzt_per_kwh + coalesce(t.tax_kzt, 0), true)
           AS operating
FROM model.country_month c
LEFT JOIN (SELECT country, month, sum(tax_kzt) AS tax_kzt FROM country_tax_month GROUP BY ALL) t
    USING (country, month)
WHERE c.scenario_id = $scenario_id AND c.month BETWEEN $m_from AND $m_to AND $behaviour;

UPDATE country_tax_month SET tax_dynamic_kzt = CASE WHEN coalesce(
    (SELECT o.operating FROM country_operating o
     WHERE o.country = country_tax_month.country AND o.month = country_tax_month.month), true)
    THEN tax_kzt - coalesce(tax_suspended_kzt, 0) ELSE 0 END
WHERE $behaviour;
