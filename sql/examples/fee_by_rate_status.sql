-- How much of the Kazakhstan fee rests on rates that are only reported or unverified. Grain: year × status. KZT.
SELECT year(period_start) AS year, rate_status, sum(tax_kzt) AS tax_kzt
FROM estimates
WHERE scenario_id = 'kz-baseline' AND scheme_id = 'kz-mining-fee'
GROUP BY ALL ORDER BY year, rate_status;
