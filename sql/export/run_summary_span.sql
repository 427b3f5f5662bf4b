-- run_summary_span: what one scenario's estimates cover, for the summary `minetax run` prints. Grain: scenario.
-- Months (first days), energy kWh, a count of farms. Parameter: $scenario_id.
SELECT min(month) AS first_month, max(month) AS last_month, sum(energy_kwh) AS energy_kwh,
       count(DISTINCT farm_id) AS farms
FROM farm_month WHERE scenario_id = $scenario_id;
