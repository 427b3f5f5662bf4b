-- suspension_findings: one scenario's readings on days inside a suspension window of its schemes (mining banned
-- there and then, issue 17): a data-quality finding per scheme, farm and month, with the kWh inside the window and
-- the tax on them (the revenue lost to the ban where it is obeyed). Reads the published view suspension_findings.
-- Grain: scheme × farm × month. kWh, KZT. Parameter: $scenario_id.
SELECT scheme_id, farm_id, region, month, round(base_kwh, 3) AS base_kwh, round(suspended_kwh, 3) AS suspended_kwh,
       round(suspended_share, 6) AS suspended_share, round(tax_suspended_kzt, 2) AS tax_suspended_kzt, rate_basis
FROM suspension_findings WHERE scenario_id = $scenario_id
ORDER BY scheme_id, month, farm_id;
