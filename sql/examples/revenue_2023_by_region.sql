-- Revenue of the law in force in 2023 by region and scheme, with the band. Grain: region × scheme. KZT.
SELECT region, scheme_id, sum(tax_low_kzt) AS tax_low_kzt, sum(tax_kzt) AS tax_kzt, sum(tax_high_kzt) AS tax_high_kzt
FROM revenue_by_region
WHERE scenario_id = 'kz-baseline' AND year(period_start) = 2023
GROUP BY ALL ORDER BY tax_kzt DESC;
