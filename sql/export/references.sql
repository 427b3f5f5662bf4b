-- references: the distinct legal references and statuses behind one scenario's rates. Grain: scheme × reference.
SELECT DISTINCT r.scheme_id, r.status, r.reference
FROM rate_rules r
JOIN (SELECT DISTINCT scheme_id, scheme_version FROM estimates WHERE scenario_id = $scenario_id) e
  USING (scheme_id, scheme_version)
ORDER BY r.scheme_id, r.reference, r.status;
