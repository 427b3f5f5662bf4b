-- flow_revenue: revenue of one scenario by scheme and calendar year with the low/central/high band, as the
-- Prefect run's markdown artifact shows it (flows/artifacts.py). Grain: scheme × year. KZT; base in kWh.
SELECT scheme_id, year, periods, base_kwh, tax_low_kzt, tax_kzt, tax_high_kzt
FROM revenue_by_year WHERE scenario_id = $scenario_id ORDER BY scheme_id, year;
