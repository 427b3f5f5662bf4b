-- rates: the dated rates one scenario's estimates used, with unit, status and legal reference (title and link).
-- Grain: scheme × rule × valid_from. valid_until: the last day in force (NULL = open). Reads the published view
-- `rates`. Parameter: $scenario_id.
SELECT scheme_id, valid_from, CAST(valid_to - INTERVAL 1 DAY AS DATE) AS valid_until, kind, name AS applies_to,
       rate, rate_unit, status, reference_title, reference_url
FROM rates WHERE scenario_id = $scenario_id
ORDER BY scheme_id, valid_from, kind, rate DESC NULLS LAST, name;
