-- cross_country: the scenarios of the snapshot side by side on the farms of the data, by year (view cross_country,
-- scope 'farms'). Grain: scenario × year. MWh, KZT, KZT/MWh, share. Money rounded to 0.01 KZT.
SELECT scenario_id, year, schemes, weakest_status, farms, round(energy_mwh, 3) AS energy_mwh,
       round(mined_value_kzt, 2) AS mined_value_kzt, round(tax_kzt, 2) AS tax_kzt,
       round(tax_per_mwh_kzt, 2) AS tax_per_mwh_kzt, round(share_of_mined_value, 6) AS share_of_mined_value
FROM cross_country WHERE scope = 'farms'
ORDER BY year, scenario_id;
