-- assumptions: every scheme parameter value the scenario's estimates used, with unit, status and legal
-- reference. Grain: scheme version × rule (bracket, override, exemption) × valid_from.
SELECT r.scheme_id, r.kind, r.name, r.valid_from, r.valid_to, r.rate,
       any_value(e.rate_unit) AS rate_unit, r.status, r.reference, r.scheme_version
FROM rate_rules r
JOIN (SELECT DISTINCT scheme_id, scheme_version, rate_unit FROM estimates WHERE scenario_id = $scenario_id) e
  USING (scheme_id, scheme_version)
GROUP BY ALL ORDER BY r.scheme_id, r.valid_from, r.kind, r.rate, r.name, r.scheme_version;
