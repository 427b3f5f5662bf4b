-- latest_period: each scheme's latest tax period of one scenario. Grain: scheme. kWh and KZT.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
SELECT scheme_id, period_start, period_end, count(DISTINCT farm_id) FILTER (WHERE base_kwh > 0) AS farms,
       round(sum(base_kwh), 3) AS base_kwh, round(sum(tax_low_kzt), 2) AS tax_low_kzt, round(sum(tax_kzt), 2) AS tax_kzt,
       round(sum(tax_high_kzt), 2) AS tax_high_kzt
FROM estimates e
WHERE scenario_id = $scenario_id
  AND period_start = (SELECT max(period_start) FROM estimates x WHERE x.scenario_id = e.scenario_id
                      AND x.scheme_id = e.scheme_id)
GROUP BY ALL ORDER BY scheme_id;
