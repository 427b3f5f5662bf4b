-- The tax gap of the Kazakhstan fee by year: top-down minus declared, with its range. Grain: year. KZT, GWh.
SELECT year(period_start) AS year,
       sum(topdown_energy_kwh) / 1e6 AS topdown_gwh, sum(declared_kwh) / 1e6 AS declared_gwh,
       sum(gap_low_kzt) AS gap_low_kzt, sum(gap_kzt) AS gap_kzt, sum(gap_high_kzt) AS gap_high_kzt
FROM tax_gap
WHERE scenario_id = 'kz-baseline' AND scheme_id = 'kz-mining-fee' AND country = 'Kazakhstan'
GROUP BY ALL ORDER BY year;
