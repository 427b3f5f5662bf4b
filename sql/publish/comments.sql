-- model: published.catalog (view; and comments on the published relations)
-- grain: published column
-- units: none (text)
-- reads: published.revenue_by_month, published.revenue_by_year, published.revenue_by_region,
--     published.revenue_by_farm, published.tax_gap, published.data_quality
-- recompute: per publish (whole snapshot)
-- params: none
-- comments on the published tables, views and columns, for analysts
-- (SELECT * FROM duckdb_columns() WHERE comment IS NOT NULL, or the catalog view).
COMMENT ON TABLE estimates IS 'Tax per scenario × scheme × farm × tax period (the published contract).';
COMMENT ON COLUMN estimates.run_id IS 'run that computed the row (join runs, inputs, scheme_versions)';
COMMENT ON COLUMN estimates.scenario_id IS 'scenario (schemes/scenarios/<id>.yaml)';
COMMENT ON COLUMN estimates.scheme_id IS 'tax scheme (schemes/<id>.yaml)';
COMMENT ON COLUMN estimates.scheme_version IS 'sha256 of the scheme file (and of a reform patch applied to it)';
COMMENT ON COLUMN estimates.family IS 'scheme family: per_kwh, per_kwh_by_price, per_kwh_foreign, electricity_cost_share, mined_value_share, income_tax';
COMMENT ON COLUMN estimates.farm_id IS 'farm (farms.farm_id)';
COMMENT ON COLUMN estimates.period_start IS 'first day of the tax period';
COMMENT ON COLUMN estimates.period_end IS 'last day of the tax period';
COMMENT ON COLUMN estimates.base_kwh IS 'electricity used in the period, kWh';
COMMENT ON COLUMN estimates.base_name IS 'what the tax is levied on: energy_kwh, electricity_cost_kzt, mined_value_kzt or mining_profit_kzt';
COMMENT ON COLUMN estimates.base_amount IS 'the tax base in base_unit (profit may be negative)';
COMMENT ON COLUMN estimates.base_unit IS 'kWh or KZT';
COMMENT ON COLUMN estimates.avg_price_kzt_per_kwh IS 'the farm''s kWh-weighted average electricity price over the period, KZT/kWh, rounded as the scheme says';
COMMENT ON COLUMN estimates.rate IS 'rate applied (rate_unit); where the rate changed within the period, tax / (base × fx_rate)';
COMMENT ON COLUMN estimates.rate_unit IS 'KZT/kWh, USD/kWh or share';
COMMENT ON COLUMN estimates.fx_rate IS 'KZT per unit of the rate''s currency (period mean; 1 for KZT)';
COMMENT ON COLUMN estimates.rate_basis IS 'why this rate: bracket, override, exemption, not in force';
COMMENT ON COLUMN estimates.rate_status IS 'status of the rate''s legal source: enacted, reported, unverified, proposed';
COMMENT ON COLUMN estimates.tax_low_kzt IS 'low end of the band (estimated inputs at their low end), KZT';
COMMENT ON COLUMN estimates.tax_kzt IS 'central estimate, KZT';
COMMENT ON COLUMN estimates.tax_high_kzt IS 'high end of the band, KZT';
COMMENT ON COLUMN estimates.tax_dynamic_kzt IS 'tax with behavioural response (NULL when off), KZT';
COMMENT ON COLUMN estimates.operating_dynamic IS 'the farm kept mining in every month of the period (NULL when behaviour is off)';
COMMENT ON TABLE farm_month IS 'Bottom-up model per scenario × farm × month.';
COMMENT ON COLUMN farm_month.energy_kwh IS 'electricity used, kWh (low/high: unmetered band)';
COMMENT ON COLUMN farm_month.avg_price_kzt_per_kwh IS 'kWh-weighted average price, KZT/kWh';
COMMENT ON COLUMN farm_month.electricity_cost_kzt IS 'Σ kWh × price, KZT';
COMMENT ON COLUMN farm_month.hashrate_ths IS 'mean hashrate over the month''s days, TH/s';
COMMENT ON COLUMN farm_month.hashrate_source IS 'reported, implied (from energy and fleet efficiency) or mixed';
COMMENT ON COLUMN farm_month.btc_mined IS 'coins mined: hashrate share of network × (subsidy + fees), BTC';
COMMENT ON COLUMN farm_month.mined_value_usd IS 'coins × daily BTC price (× scenario multiplier), USD';
COMMENT ON COLUMN farm_month.mined_value_kzt IS 'mined value converted at the day''s USD/KZT, KZT';
COMMENT ON VIEW revenue_by_month IS 'Revenue per scenario × scheme × calendar month (tax accrues in the month the base arose).';
COMMENT ON COLUMN revenue_by_month.farms IS 'farms with consumption';
COMMENT ON COLUMN revenue_by_month.base_kwh IS 'electricity, kWh';
COMMENT ON COLUMN revenue_by_month.tax_low_kzt IS 'band low, KZT';
COMMENT ON COLUMN revenue_by_month.tax_kzt IS 'central, KZT';
COMMENT ON COLUMN revenue_by_month.tax_high_kzt IS 'band high, KZT';
COMMENT ON COLUMN revenue_by_month.tax_dynamic_kzt IS 'with behavioural response, KZT';
COMMENT ON VIEW revenue_by_year IS 'Revenue per scenario × scheme × year of the tax period.';
COMMENT ON COLUMN revenue_by_year.year IS 'calendar year of period_start';
COMMENT ON COLUMN revenue_by_year.farms IS 'farms with consumption';
COMMENT ON COLUMN revenue_by_year.periods IS 'tax periods with an estimate';
COMMENT ON COLUMN revenue_by_year.base_kwh IS 'electricity, kWh';
COMMENT ON COLUMN revenue_by_year.tax_low_kzt IS 'band low, KZT';
COMMENT ON COLUMN revenue_by_year.tax_kzt IS 'central, KZT';
COMMENT ON COLUMN revenue_by_year.tax_high_kzt IS 'band high, KZT';
COMMENT ON COLUMN revenue_by_year.tax_dynamic_kzt IS 'with behavioural response, KZT';
COMMENT ON VIEW revenue_by_region IS 'Revenue per scenario × scheme × region × tax period.';
COMMENT ON COLUMN revenue_by_region.region IS 'region (oblast) of the farm';
COMMENT ON COLUMN revenue_by_region.tax_kzt IS 'central, KZT';
COMMENT ON VIEW revenue_by_farm IS 'Revenue per scenario × scheme × farm × year.';
COMMENT ON COLUMN revenue_by_farm.name IS 'farm name';
COMMENT ON COLUMN revenue_by_farm.tax_kzt IS 'central, KZT';
COMMENT ON VIEW tax_gap IS 'Top-down tax minus tax on the declared base (licensed farms), and minus collections where supplied: the estimate of grey mining.';
COMMENT ON COLUMN tax_gap.topdown_energy_kwh IS 'country energy from hashrate share × network × efficiency × PUE, kWh';
COMMENT ON COLUMN tax_gap.declared_kwh IS 'energy of the licensed farms in the register, kWh';
COMMENT ON COLUMN tax_gap.unexplained_energy_kwh IS 'top-down minus declared energy, kWh';
COMMENT ON COLUMN tax_gap.topdown_tax_kzt IS 'scheme applied to the top-down base, KZT';
COMMENT ON COLUMN tax_gap.declared_tax_kzt IS 'scheme applied to the licensed farms (bottom-up), KZT';
COMMENT ON COLUMN tax_gap.gap_kzt IS 'topdown_tax_kzt − declared_tax_kzt';
COMMENT ON COLUMN tax_gap.collected_kzt IS 'tax actually collected (collections input)';
COMMENT ON COLUMN tax_gap.gap_vs_collections_kzt IS 'topdown_tax_kzt − collected_kzt';
COMMENT ON TABLE scheme_comparison IS 'Baseline vs reform per scheme × year × region (minetax compare).';
COMMENT ON COLUMN scheme_comparison.tax_baseline_kzt IS 'baseline scenario, KZT';
COMMENT ON COLUMN scheme_comparison.tax_reform_kzt IS 'reform scenario, KZT';
COMMENT ON COLUMN scheme_comparison.difference_kzt IS 'reform − baseline, KZT';
COMMENT ON TABLE budget_windows IS '1, 3 and 5-year totals of a comparison, from the first year the reform differs.';
COMMENT ON COLUMN budget_windows.window_years IS '1, 3 or 5';
COMMENT ON COLUMN budget_windows.years_covered IS 'years of data inside the window';
COMMENT ON COLUMN budget_windows.difference_kzt IS 'reform − baseline over the window, KZT';
COMMENT ON TABLE estimates_country IS 'Top-down tax per scenario × scheme × country × tax period (''World'' = whole network).';
COMMENT ON COLUMN estimates_country.energy_kwh IS 'country energy, kWh (low/high bands)';
COMMENT ON COLUMN estimates_country.tax_kzt IS 'central, KZT';
COMMENT ON TABLE country_month IS 'Top-down model per scenario × country × month.';
COMMENT ON COLUMN country_month.share IS 'share of global hashrate (fraction)';
COMMENT ON COLUMN country_month.share_source IS 'observed (country_share input) or assumed (scenario)';
COMMENT ON COLUMN country_month.avg_price_kzt_per_kwh IS 'price proxy: metered farms'' kWh-weighted average price, KZT/kWh';
COMMENT ON TABLE runs IS 'Every run: who, when, status, scenario, code version.';
COMMENT ON COLUMN runs.flow_run_id IS 'Prefect flow run id';
COMMENT ON COLUMN runs.code_version IS 'package version + git commit (+ .dirty)';
COMMENT ON COLUMN runs.parameters IS 'run parameters and scenario assumptions (JSON)';
COMMENT ON COLUMN runs.periods IS 'months the run recomputed';
COMMENT ON TABLE inputs IS 'Every input file of every run: name, sha256, rows, status (loaded, unchanged, quarantined, not_loaded).';
COMMENT ON COLUMN inputs.sha256 IS 'content hash of the file';
COMMENT ON COLUMN inputs.stored_path IS 'copy of the file as received (MINETAX_HOME/raw)';
COMMENT ON TABLE scheme_versions IS 'The scheme and scenario versions each run used.';
COMMENT ON COLUMN scheme_versions.sha256 IS 'version: sha256 of the file (with a reform patch for patched schemes)';
COMMENT ON VIEW data_quality IS 'Validation results per run and suite (Great Expectations).';
COMMENT ON TABLE validations IS 'Every expectation checked by every run, with failures and example rows.';

-- catalog: every published table and view with its columns and comments.
CREATE VIEW catalog AS
SELECT c.table_name, t.kind, t.comment AS table_comment, c.column_name, c.data_type, c.comment AS column_comment
FROM duckdb_columns() c
JOIN (SELECT table_name, 'table' AS kind, comment FROM duckdb_tables() WHERE NOT internal
      UNION ALL SELECT view_name, 'view', comment FROM duckdb_views() WHERE NOT internal) t USING (table_name)
WHERE c.schema_name = 'main' ORDER BY c.table_name, c.column_index;
