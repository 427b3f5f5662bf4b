-- reform_rates: the dated rates of the reform scenario, each marked `reform` where the baseline has no rule with
-- the same scheme, dates, kind, name and rate (what the reform changes), else `as baseline`.
-- Grain: scheme × rule × valid_from. Reads the published view `rates`. Parameters: $scenario_id (the baseline),
-- $reform.
WITH baseline AS (
    SELECT scheme_id, valid_from, valid_to, kind, name, rate FROM rates WHERE scenario_id = $scenario_id
),
reform AS (
    SELECT * FROM rates WHERE scenario_id = $reform
),
final AS (
    SELECT r.scheme_id, r.valid_from, CAST(r.valid_to - INTERVAL 1 DAY AS DATE) AS valid_until, r.kind,
           r.name AS applies_to, r.rate, r.rate_unit, r.status, r.reference_title, r.reference_url,
           CASE WHEN EXISTS (SELECT 1 FROM baseline b
                             WHERE b.scheme_id = r.scheme_id AND b.valid_from = r.valid_from
                               AND b.valid_to IS NOT DISTINCT FROM r.valid_to AND b.kind = r.kind
                               AND b.name = r.name AND b.rate IS NOT DISTINCT FROM r.rate)
                THEN 'as baseline' ELSE 'reform' END AS vs_baseline
    FROM reform r
)
SELECT * FROM final ORDER BY scheme_id, valid_from, kind, rate DESC NULLS LAST, applies_to;
