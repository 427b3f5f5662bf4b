-- cross_country_totals: each scenario of the snapshot over the years every scenario covers (the same farms and
-- the same years), farms scope of view cross_country. Grain: scenario. MWh, KZT, KZT/MWh, share.
WITH farms AS (SELECT * FROM cross_country WHERE scope = 'farms'),
common AS (
    SELECT year FROM farms GROUP BY year
    HAVING count(DISTINCT scenario_id) = (SELECT count(DISTINCT scenario_id) FROM farms)
)
SELECT scenario_id, any_value(schemes) AS schemes,
       CASE WHEN bool_or(weakest_status = 'proposed') THEN 'proposed'
            WHEN bool_or(weakest_status = 'unverified') THEN 'unverified'
            WHEN bool_or(weakest_status = 'reported') THEN 'reported' ELSE 'enacted' END AS weakest_status,
       min(year) AS first_year, max(year) AS last_year, round(sum(energy_mwh), 3) AS energy_mwh,
       round(sum(mined_value_kzt), 2) AS mined_value_kzt, round(sum(tax_kzt), 2) AS tax_kzt,
       round(sum(tax_kzt) / nullif(sum(energy_mwh), 0), 2) AS tax_per_mwh_kzt,
       round(sum(tax_kzt) / nullif(sum(mined_value_kzt), 0), 6) AS share_of_mined_value
FROM farms WHERE year IN (SELECT year FROM common)
GROUP BY scenario_id
ORDER BY tax_kzt DESC;
