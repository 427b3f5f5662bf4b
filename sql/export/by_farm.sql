-- by_farm: one scenario by farm, year and scheme. Grain: farm × year × scheme. kWh and KZT.
-- Money rounded to 0.01 KZT, energy to 0.001 kWh.
SELECT farm_id, name, region, year, scheme_id, round(base_kwh, 3) AS base_kwh, round(tax_low_kzt, 2) AS tax_low_kzt, round(tax_kzt, 2) AS tax_kzt, round(tax_high_kzt, 2) AS tax_high_kzt
FROM revenue_by_farm WHERE scenario_id = $scenario_id ORDER BY farm_id, year, scheme_id;
