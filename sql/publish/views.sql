-- model: published.revenue_by_month (view; and the other analyst views)
-- grain: as each view says below
-- units: KZT; kWh
-- reads: published.estimates, published.estimates_month, published.estimates_country, published.farms,
--     published.collections, published.validations, published.rate_rules, published.runs, published.country_month
-- recompute: per publish (whole snapshot)
-- params: none
-- also: published.revenue_by_year, published.revenue_by_region, published.revenue_by_farm, published.tax_gap,
--     published.data_quality, published.rates, published.assumptions, published.suspension_findings,
--     published.cross_country
-- the analyst views of the published snapshot (created inside the snapshot file).
-- revenue_by_month: scenario × scheme × calendar month; tax accrues in the month the base arose. KZT.
CREATE VIEW revenue_by_month AS
SELECT scenario_id, scheme_id, month, count(DISTINCT farm_id) FILTER (WHERE base_kwh > 0) AS farms,
       sum(base_kwh) AS base_kwh, sum(tax_low_kzt) AS tax_low_kzt, sum(tax_kzt) AS tax_kzt,
       sum(tax_high_kzt) AS tax_high_kzt, sum(tax_dynamic_kzt) AS tax_dynamic_kzt, any_value(run_id) AS run_id
FROM estimates_month GROUP BY ALL ORDER BY scenario_id, scheme_id, month;

-- revenue_by_year: scenario × scheme × calendar year of the tax period; farms = farms with consumption,
-- periods = tax periods with an estimate. KZT; base in kWh.
CREATE VIEW revenue_by_year AS
SELECT scenario_id, scheme_id, year(period_start) AS year,
       count(DISTINCT farm_id) FILTER (WHERE base_kwh > 0) AS farms,
       count(DISTINCT period_start) AS periods,
       sum(base_kwh) AS base_kwh, sum(tax_low_kzt) AS tax_low_kzt, sum(tax_kzt) AS tax_kzt,
       sum(tax_high_kzt) AS tax_high_kzt, sum(tax_dynamic_kzt) AS tax_dynamic_kzt, any_value(run_id) AS run_id
FROM estimates GROUP BY ALL ORDER BY scenario_id, scheme_id, year;

-- revenue_by_region: scenario × scheme × region × tax period. KZT.
CREATE VIEW revenue_by_region AS
SELECT e.scenario_id, e.scheme_id, f.region, e.period_start, e.period_end,
       sum(e.base_kwh) AS base_kwh, sum(e.tax_low_kzt) AS tax_low_kzt, sum(e.tax_kzt) AS tax_kzt,
       sum(e.tax_high_kzt) AS tax_high_kzt
FROM estimates e JOIN farms f USING (farm_id) GROUP BY ALL
ORDER BY e.scenario_id, e.scheme_id, f.region, e.period_start;

-- revenue_by_farm: scenario × scheme × farm × calendar year. KZT.
CREATE VIEW revenue_by_farm AS
SELECT e.scenario_id, e.scheme_id, e.farm_id, f.name, f.region, year(e.period_start) AS year,
       sum(e.base_kwh) AS base_kwh, sum(e.tax_low_kzt) AS tax_low_kzt, sum(e.tax_kzt) AS tax_kzt,
       sum(e.tax_high_kzt) AS tax_high_kzt
FROM estimates e JOIN farms f USING (farm_id) GROUP BY ALL
ORDER BY e.scenario_id, e.scheme_id, e.farm_id, year;

-- tax_gap: scenario × scheme × country × tax period. Top-down tax (low/central/high) minus the tax on the
-- declared base (the bottom-up estimate of the licensed farms in the register, metered or not), and minus
-- collections where a collections file was loaded. A positive gap estimates tax lost to grey
-- (unregistered) mining. *_dynamic_*: the same with behavioural response (NULL when off). kWh and KZT.
CREATE VIEW tax_gap AS
WITH declared AS (
    SELECT e.scenario_id, e.scheme_id, e.period_start, sum(e.base_kwh) AS declared_kwh,
           sum(e.tax_kzt) AS declared_tax_kzt, sum(e.tax_dynamic_kzt) AS declared_tax_dynamic_kzt
    FROM estimates e JOIN farms f USING (farm_id) WHERE f.licensed GROUP BY ALL
)
SELECT c.scenario_id, c.scheme_id, c.country, c.period_start, c.period_end,
       c.energy_low_kwh AS topdown_energy_low_kwh, c.energy_kwh AS topdown_energy_kwh,
       c.energy_high_kwh AS topdown_energy_high_kwh, d.declared_kwh,
       c.energy_kwh - d.declared_kwh AS unexplained_energy_kwh,
       c.tax_low_kzt AS topdown_tax_low_kzt, c.tax_kzt AS topdown_tax_kzt, c.tax_high_kzt AS topdown_tax_high_kzt,
       d.declared_tax_kzt,
       c.tax_low_kzt - d.declared_tax_kzt AS gap_low_kzt, c.tax_kzt - d.declared_tax_kzt AS gap_kzt,
       c.tax_high_kzt - d.declared_tax_kzt AS gap_high_kzt,
       c.tax_dynamic_kzt AS topdown_tax_dynamic_kzt, d.declared_tax_dynamic_kzt,
       c.tax_dynamic_kzt - d.declared_tax_dynamic_kzt AS gap_dynamic_kzt,
       col.collected_kzt,
       c.tax_low_kzt - col.collected_kzt AS gap_vs_collections_low_kzt,
       c.tax_kzt - col.collected_kzt AS gap_vs_collections_kzt,
       c.tax_high_kzt - col.collected_kzt AS gap_vs_collections_high_kzt
FROM estimates_country c
LEFT JOIN declared d USING (scenario_id, scheme_id, period_start)
LEFT JOIN collections col ON col.jurisdiction = c.country AND col.scheme_id = c.scheme_id
                         AND col.period_start = c.period_start
WHERE c.country <> 'World'
ORDER BY c.scenario_id, c.scheme_id, c.country, c.period_start;

-- data_quality: validation results per run and suite.
CREATE VIEW data_quality AS
SELECT run_id, suite, target, count(*) AS expectations, count(*) FILTER (WHERE success) AS passed,
       count(*) FILTER (WHERE NOT success) AS failed, sum(unexpected_count) AS unexpected_rows
FROM validations GROUP BY ALL ORDER BY run_id, suite, target;

-- rates: scenario × scheme × rule × valid_from: the dated rates each scenario's estimates used (the rules of the
-- scheme versions in `estimates`), with the rate's unit, its status and its legal reference split into a title
-- and a link. The reform's rates are those of the reform scenario.
CREATE VIEW rates AS
WITH scenario_schemes AS (
    SELECT scenario_id, scheme_id, scheme_version, any_value(family) AS family, any_value(rate_unit) AS rate_unit
    FROM estimates GROUP BY ALL
)
SELECT s.scenario_id, r.scheme_id, s.family, r.valid_from, r.valid_to, r.kind, r.name, r.price_lo, r.price_hi,
       r.rate, s.rate_unit, r.status, r.combine, r.reading_choice,
       nullif(trim(regexp_replace(r.reference, '\s*<[^<>]*>\s*$', '')), '') AS reference_title,
       nullif(regexp_extract(r.reference, '<([^<>]*)>\s*$', 1), '') AS reference_url,
       r.scheme_version
FROM rate_rules r JOIN scenario_schemes s USING (scheme_id, scheme_version)
ORDER BY s.scenario_id, r.scheme_id, r.valid_from, r.kind, r.rate DESC, r.name;

-- suspension_findings: scenario × scheme × farm × month with readings on days inside a suspension window of the
-- scheme (mining banned there and then, issue 17): a data-quality finding, with the kWh inside and the tax on them
-- (the revenue lost to the ban where it is obeyed). kWh, KZT.
CREATE VIEW suspension_findings AS
SELECT e.scenario_id, e.scheme_id, e.farm_id, f.region, e.month, e.rate_basis, e.base_kwh, e.suspended_kwh,
       e.suspended_kwh / nullif(e.base_kwh, 0) AS suspended_share, e.tax_kzt, e.tax_suspended_kzt
FROM estimates_month e JOIN farms f USING (farm_id)
WHERE e.suspended_kwh > 0
ORDER BY e.scenario_id, e.scheme_id, e.farm_id, e.month;

-- cross_country: scenario × scope × year: what each scenario's regime collects from the same farms and years (issue
-- 17; e.g. kz-baseline beside ru-profit-tax, et-eep-tou, ny-s8518: Kazakh mining under other countries' rules).
-- scope 'farms': the farms of the data (bottom-up: estimates, farm_month); 'country: <name>': the top-down
-- country (estimates_country, country_month). Tax per MWh of mining electricity and as a share of the mined value
-- (mining revenue at receipt). weakest_status: the weakest status of the values applied. KZT, MWh.
CREATE VIEW cross_country AS
WITH farm_tax AS (
    SELECT scenario_id, year(period_start) AS year, string_agg(DISTINCT scheme_id, ', ' ORDER BY scheme_id) AS schemes,
           sum(tax_low_kzt) AS tax_low_kzt, sum(tax_kzt) AS tax_kzt, sum(tax_high_kzt) AS tax_high_kzt,
           CASE WHEN bool_or(rate_status LIKE '%proposed%') THEN 'proposed'
                WHEN bool_or(rate_status LIKE '%unverified%') THEN 'unverified'
                WHEN bool_or(rate_status LIKE '%reported%') THEN 'reported'
                WHEN bool_or(rate_status LIKE '%enacted%') THEN 'enacted' END AS weakest_status
    FROM estimates GROUP BY ALL
),
farm_base AS (
    SELECT scenario_id, year(month) AS year, count(DISTINCT farm_id) AS farms, sum(energy_kwh) AS energy_kwh,
           sum(mined_value_kzt) AS mined_value_kzt
    FROM farm_month GROUP BY ALL
),
country_tax AS (
    SELECT scenario_id, country, year(period_start) AS year,
           string_agg(DISTINCT scheme_id, ', ' ORDER BY scheme_id) AS schemes, sum(tax_low_kzt) AS tax_low_kzt,
           sum(tax_kzt) AS tax_kzt, sum(tax_high_kzt) AS tax_high_kzt
    FROM estimates_country GROUP BY ALL
),
country_base AS (
    SELECT scenario_id, country, year(month) AS year, sum(energy_kwh) AS energy_kwh,
           sum(mined_value_kzt) AS mined_value_kzt
    FROM country_month GROUP BY ALL
),
farm_status AS (SELECT scenario_id, year, weakest_status FROM farm_tax),
joined AS (
    SELECT t.scenario_id, 'farms' AS scope, t.year, t.schemes, b.farms, b.energy_kwh, b.mined_value_kzt,
           t.tax_low_kzt, t.tax_kzt, t.tax_high_kzt, t.weakest_status
    FROM farm_tax t JOIN farm_base b USING (scenario_id, year)
    UNION ALL
    SELECT t.scenario_id, 'country: ' || t.country, t.year, t.schemes, NULL, b.energy_kwh, b.mined_value_kzt,
           t.tax_low_kzt, t.tax_kzt, t.tax_high_kzt, s.weakest_status
    FROM country_tax t JOIN country_base b USING (scenario_id, country, year)
    LEFT JOIN farm_status s USING (scenario_id, year)
)
SELECT scenario_id, scope, year, schemes, farms, energy_kwh / 1000 AS energy_mwh, mined_value_kzt, tax_low_kzt,
       tax_kzt, tax_high_kzt, tax_kzt / nullif(energy_kwh / 1000, 0) AS tax_per_mwh_kzt,
       tax_kzt / nullif(mined_value_kzt, 0) AS share_of_mined_value, weakest_status
FROM joined
ORDER BY scope <> 'farms', scope, year, scenario_id;

-- assumptions: scenario × assumption × valid_from: the model's assumptions of the run behind each scenario's
-- estimates (runs.parameters), one row per value, with the defaults minetax.model.assumptions applies where the
-- scenario file leaves one out. low/central/high are numbers in `unit`; `setting` holds a value that is text.
CREATE VIEW assumptions AS
WITH scenario_run AS (
    SELECT scenario_id, max(run_id) AS run_id FROM estimates GROUP BY scenario_id
),
scenario_parameters AS (
    SELECT s.scenario_id, s.run_id, json_extract(r.parameters, '$.assumptions') AS a
    FROM scenario_run s JOIN runs r USING (run_id)
),
pue AS (
    SELECT scenario_id, run_id, 1 AS position, 'pue' AS assumption,
           'power usage effectiveness: facility energy / mining energy (top-down energy, implied hashrate)'
               AS description,
           CAST(NULL AS DATE) AS valid_from, coalesce(CAST(a ->> '$.pue.low' AS DOUBLE), 1.01) AS low,
           coalesce(CAST(a ->> '$.pue.central' AS DOUBLE), 1.10) AS central,
           coalesce(CAST(a ->> '$.pue.high' AS DOUBLE), 1.20) AS high, 'ratio' AS unit,
           CAST(NULL AS VARCHAR) AS setting, CAST(NULL AS VARCHAR) AS source
    FROM scenario_parameters
),
unmetered_band AS (
    SELECT scenario_id, run_id, 2, 'unmetered_energy_band',
           'true use of an unmetered farm / the kWh estimated for it (low and high energy)', NULL,
           coalesce(CAST(a ->> '$.unmetered_energy_band.low' AS DOUBLE), 0.8), 1.0,
           coalesce(CAST(a ->> '$.unmetered_energy_band.high' AS DOUBLE), 1.1), 'ratio', NULL, NULL
    FROM scenario_parameters
),
efficiency AS (
    SELECT scenario_id, run_id, 3, 'efficiency',
           'fleet efficiency series for the central estimate (J/TH: lower, estimated or upper bound); low and high '
           || 'estimates use the lower and upper bounds', NULL, NULL, NULL, NULL, NULL,
           coalesce(a ->> '$.efficiency', 'estimated'), NULL
    FROM scenario_parameters
),
share_assumed AS (
    SELECT p.scenario_id, p.run_id, 4, 'hashrate_share',
           'share of global hashrate assumed for ' || (p.a ->> '$.hashrate_share.country')
           || ' from this month on (top-down estimate)', CAST(k.month AS DATE),
           CAST(p.a -> '$.hashrate_share.assumed' -> k.month ->> 'low' AS DOUBLE),
           CAST(p.a -> '$.hashrate_share.assumed' -> k.month ->> 'central' AS DOUBLE),
           CAST(p.a -> '$.hashrate_share.assumed' -> k.month ->> 'high' AS DOUBLE), 'share', NULL,
           p.a -> '$.hashrate_share.assumed' -> k.month ->> 'source'
    FROM scenario_parameters p, unnest(json_keys(p.a, '$.hashrate_share.assumed')) AS k(month)
),
observed_span AS (
    SELECT c.scenario_id, p.run_id, c.country, min(c.month) AS first_month, max(c.month) AS last_month,
           round(avg(c.share), 4) AS mean_share, any_value(trim(c.share_source[10:])) AS source
    FROM country_month c JOIN scenario_parameters p USING (scenario_id)
    WHERE c.share_source LIKE 'observed:%' AND c.country = p.a ->> '$.hashrate_share.country'
    GROUP BY ALL
),
share_observed AS (
    SELECT scenario_id, run_id, 4, 'hashrate_share',
           'share of global hashrate of ' || country || ' observed (country_share input), '
           || strftime(first_month, '%Y-%m') || ' to ' || strftime(last_month, '%Y-%m') || ': the mean',
           first_month, NULL, mean_share, NULL, 'share', 'observed', source
    FROM observed_span
),
price_constant AS (
    SELECT scenario_id, run_id, 5, 'btc_price_multiplier',
           'multiplier on the daily BTC price (mined value)', NULL, NULL,
           coalesce(CAST(a ->> '$.btc_price_multiplier' AS DOUBLE), 1.0), NULL, 'ratio', NULL, NULL
    FROM scenario_parameters WHERE coalesce(json_type(a, '$.btc_price_multiplier'), 'DOUBLE') <> 'OBJECT'
),
price_path AS (
    SELECT p.scenario_id, p.run_id, 5, 'btc_price_multiplier',
           'multiplier on the daily BTC price (mined value) from this date on', CAST(k.day AS DATE), NULL,
           CAST(p.a -> '$.btc_price_multiplier' ->> k.day AS DOUBLE), NULL, 'ratio', NULL, NULL
    FROM scenario_parameters p, unnest(json_keys(p.a, '$.btc_price_multiplier')) AS k(day)
    WHERE json_type(p.a, '$.btc_price_multiplier') = 'OBJECT'
),
fx AS (
    SELECT scenario_id, run_id, 6, 'fx_pair', 'exchange rate converting USD values and foreign-currency rates',
           NULL, NULL, NULL, NULL, NULL, coalesce(a ->> '$.fx_pair', 'USD/KZT'), NULL
    FROM scenario_parameters
),
behaviour AS (
    SELECT scenario_id, run_id, 7, 'behaviour',
           'behavioural response: a farm stops in a month when its mined value does not cover electricity and tax',
           NULL, NULL, NULL, NULL, NULL,
           CASE WHEN coalesce(CAST(a ->> '$.behaviour.enabled' AS BOOLEAN), false) THEN 'on' ELSE 'off' END, NULL
    FROM scenario_parameters
),
final AS (
    SELECT * FROM pue UNION ALL SELECT * FROM unmetered_band UNION ALL SELECT * FROM efficiency
    UNION ALL SELECT * FROM share_observed UNION ALL SELECT * FROM share_assumed
    UNION ALL SELECT * FROM price_constant UNION ALL SELECT * FROM price_path
    UNION ALL SELECT * FROM fx UNION ALL SELECT * FROM behaviour
)
SELECT scenario_id, assumption, valid_from, low, central, high, unit, setting, source, description, run_id
FROM final ORDER BY scenario_id, position, valid_from NULLS FIRST;

-- forecast_parameters, forecast_tornado, forecast_backtest, forecast_backtest_scores (issue 18): what the latest
-- succeeded forecast or backtest run of each forecast recorded in runs.parameters (data cut, seed, runs with it).
CREATE VIEW forecast_parameters AS
WITH r AS (
    SELECT run_id, replace(scenario_id, 'forecast:', '') AS forecast_id, started_at, parameters FROM runs
    WHERE scenario_id LIKE 'forecast:%' AND status = 'succeeded' AND json_exists(parameters, '$.fit.params')
    QUALIFY row_number() OVER (PARTITION BY forecast_id ORDER BY started_at DESC) = 1
)
SELECT r.forecast_id, p.name AS parameter, p.value AS estimate, p.se AS std_error, p.n AS observations, p.unit,
       p.meaning, CAST(r.parameters->>'$.history_last_day' AS DATE) AS data_cut,
       CAST(r.parameters->>'$.seed' AS BIGINT) AS seed, CAST(r.parameters->>'$.runs' AS INTEGER) AS runs, r.run_id
FROM r, unnest(from_json(r.parameters->'$.fit.params', '[{"name": "VARCHAR", "value": "DOUBLE", "se": "DOUBLE",
    "n": "INTEGER", "unit": "VARCHAR", "meaning": "VARCHAR"}]')) AS t(p)
ORDER BY r.forecast_id, p.name;

CREATE VIEW forecast_tornado AS
WITH r AS (
    SELECT run_id, replace(scenario_id, 'forecast:', '') AS forecast_id, started_at, parameters FROM runs
    WHERE scenario_id LIKE 'forecast:%' AND status = 'succeeded' AND json_exists(parameters, '$.tornado')
    QUALIFY row_number() OVER (PARTITION BY forecast_id ORDER BY started_at DESC) = 1
)
SELECT r.forecast_id, t.a.assumption, t.a.year, t.a.low, t.a.high, t.a.p50_low_kzt, t.a.p50_base_kzt,
       t.a.p50_high_kzt, t.a.swing_kzt, CAST(r.parameters->>'$.history_last_day' AS DATE) AS data_cut,
       CAST(r.parameters->>'$.seed' AS BIGINT) AS seed, CAST(r.parameters->>'$.runs' AS INTEGER) AS runs, r.run_id
FROM r, unnest(from_json(r.parameters->'$.tornado', '[{"assumption": "VARCHAR", "year": "INTEGER", "low": "DOUBLE",
    "high": "DOUBLE", "p50_low_kzt": "DOUBLE", "p50_base_kzt": "DOUBLE", "p50_high_kzt": "DOUBLE",
    "swing_kzt": "DOUBLE"}]')) AS t(a)
ORDER BY r.forecast_id, t.a.swing_kzt DESC;

CREATE VIEW forecast_backtest AS
WITH r AS (
    SELECT run_id, replace(scenario_id, 'forecast:', '') AS forecast_id, started_at, parameters FROM runs
    WHERE scenario_id LIKE 'forecast:%' AND status = 'succeeded' AND json_exists(parameters, '$.backtest')
    QUALIFY row_number() OVER (PARTITION BY forecast_id ORDER BY started_at DESC) = 1
)
SELECT r.forecast_id, b.x.origin, b.x.horizon, b.x.year, b.x.model, b.x.measure, b.x.p10, b.x.p50, b.x.p90,
       b.x.actual, b.x.ape, b.x.inside, b.x.wis, CAST(r.parameters->>'$.history_last_day' AS DATE) AS data_cut,
       CAST(r.parameters->>'$.seed' AS BIGINT) AS seed, CAST(r.parameters->>'$.runs' AS INTEGER) AS runs, r.run_id
FROM r, unnest(from_json(r.parameters->'$.backtest.rows', '[{"origin": "INTEGER", "horizon": "INTEGER",
    "year": "INTEGER", "model": "VARCHAR", "measure": "VARCHAR", "p10": "DOUBLE", "p50": "DOUBLE", "p90": "DOUBLE",
    "actual": "DOUBLE", "ape": "DOUBLE", "inside": "BOOLEAN", "wis": "DOUBLE"}]')) AS b(x)
ORDER BY r.forecast_id, b.x.measure, b.x.model, b.x.origin, b.x.horizon;

CREATE VIEW forecast_backtest_scores AS
WITH r AS (
    SELECT run_id, replace(scenario_id, 'forecast:', '') AS forecast_id, started_at, parameters FROM runs
    WHERE scenario_id LIKE 'forecast:%' AND status = 'succeeded' AND json_exists(parameters, '$.backtest')
    QUALIFY row_number() OVER (PARTITION BY forecast_id ORDER BY started_at DESC) = 1
)
SELECT r.forecast_id, s.x.model, s.x.measure, s.x.horizon, s.x.n, s.x.mdape_pct, s.x.coverage_pct, s.x.wis,
       CAST(r.parameters->>'$.history_last_day' AS DATE) AS data_cut,
       CAST(r.parameters->>'$.seed' AS BIGINT) AS seed, CAST(r.parameters->>'$.runs' AS INTEGER) AS runs, r.run_id
FROM r, unnest(from_json(r.parameters->'$.backtest.scores', '[{"model": "VARCHAR", "measure": "VARCHAR",
    "horizon": "INTEGER", "n": "INTEGER", "mdape_pct": "DOUBLE", "coverage_pct": "DOUBLE", "wis": "DOUBLE"}]'))
    AS s(x)
ORDER BY r.forecast_id, s.x.measure, s.x.horizon, s.x.model;

-- forecast_runs: one row per succeeded forecast or backtest run: what produced the forecast views (data cut, seed,
-- runs, network model, lag and smoothing, the law day, CSV paths given).
CREATE VIEW forecast_runs AS
SELECT replace(scenario_id, 'forecast:', '') AS forecast_id, run_id,
       CASE WHEN json_exists(parameters, '$.backtest') THEN 'backtest' ELSE 'forecast' END AS run_kind,
       CAST(parameters->>'$.history_last_day' AS DATE) AS data_cut, CAST(parameters->>'$.seed' AS BIGINT) AS seed,
       CAST(parameters->>'$.runs' AS INTEGER) AS runs, CAST(parameters->>'$.to' AS INTEGER) AS to_year,
       parameters->>'$.compare' AS compared_with, parameters->>'$.fit.network_model' AS network_model,
       CAST(parameters->>'$.fit.lag_months' AS INTEGER) AS lag_months,
       CAST(parameters->>'$.fit.smooth_months' AS INTEGER) AS smooth_months,
       parameters->>'$.fit.law_as_of' AS law_as_of,
       CAST(parameters->'$.overrides' AS VARCHAR) AS csv_paths, started_at
FROM runs
WHERE scenario_id LIKE 'forecast:%' AND status = 'succeeded'
ORDER BY started_at;
