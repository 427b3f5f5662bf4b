-- model: tax.estimates_country
-- grain: scenario × scheme × country × tax period
-- units: energy kWh; base kWh or KZT; tax KZT
-- reads: country_tax_month
-- recompute: by tax period ($m_from..$m_to, whole periods), per scheme
-- params: $run_id, $scenario_id, $scheme_id, $m_from, $m_to
-- tax_country_by_period: roll country_tax_month up to tax.estimates_country.
-- Grain: scenario × scheme × country × tax period. Units: kWh, the base's unit, KZT.
DELETE FROM tax.estimates_country
WHERE scenario_id = $scenario_id AND scheme_id = $scheme_id AND period_start BETWEEN $m_from AND $m_to;

INSERT INTO tax.estimates_country
SELECT $run_id, $scenario_id, scheme_id, any_value(scheme_version), any_value(family), country,
       period_start, any_value(period_end),
       sum(energy_low_kwh), sum(energy_kwh), sum(energy_high_kwh), any_value(base_name),
       sum(base_low), sum(base_amount), sum(base_high), any_value(base_unit),
       any_value(avg_price_kzt_per_kwh),
       CASE WHEN min(rate) = max(rate) THEN min(rate)
            ELSE sum(tax_kzt) / nullif(sum(base_amount) * any_value(fx_rate), 0) END,
       any_value(rate_unit), any_value(fx_rate),
       string_agg(DISTINCT rate_basis, '; ' ORDER BY rate_basis),
       sum(tax_low_kzt), sum(tax_kzt), sum(tax_high_kzt), sum(tax_dynamic_kzt), sum(suspended_kwh),
       sum(tax_suspended_kzt)
FROM country_tax_month
WHERE scheme_id = $scheme_id
GROUP BY scheme_id, country, period_start;
