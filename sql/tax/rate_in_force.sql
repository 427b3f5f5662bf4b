-- model: rate_in_force
-- grain: scheme × subject × month
-- units: rate in the scheme's rate unit
-- reads: tax.rate_rules, rate_subjects
-- recompute: per scheme (every run)
-- params: $scheme_id, $scheme_version, $price_decimals
-- The law, evaluated once: the rate of one scheme version in force on the first day of each subject's month,
-- for every row of rate_subjects (farms, top-down countries, the forecast's fleet), into the temp table
-- rate_in_force (grain: scenario × scheme × subject kind × subject × month). Precedence:
--   no bracket in force that day              -> 0, 'not in force'
--   an exemption matching the subject         -> 0, 'exempt: <name>' (alphabetically first name)
--   the highest matching override             -> its rate, 'override: <name>' (ties: the first in the scheme
--                                                file, i.e. tax.rate_rules' insertion order)
--   the bracket of the subject's average price over the tax period, rounded to $price_decimals (a flat rate
--   is one open bracket)                      -> its rate, 'bracket: <label>'
--   otherwise                                 -> NULL, 'no consumption' (no price) or 'no bracket'
-- Overrides and exemptions match only where the subject's categories are known (not top-down).
-- avg_price_kzt_per_kwh: the rounded price the bracket was looked up with. rate_status: the status of the
-- value applied (NULL where not in force or no value applies).
CREATE TEMP TABLE IF NOT EXISTS rate_in_force (
    scenario_id VARCHAR, scheme_id VARCHAR, scheme_version VARCHAR, subject_kind VARCHAR, subject_id VARCHAR,
    month DATE, period_start DATE, avg_price_kzt_per_kwh DOUBLE, rate DOUBLE, rate_basis VARCHAR,
    rate_status VARCHAR
);

DELETE FROM rate_in_force WHERE scheme_id = $scheme_id AND scheme_version = $scheme_version;

INSERT INTO rate_in_force (scenario_id, scheme_id, scheme_version, subject_kind, subject_id, month, period_start,
                           avg_price_kzt_per_kwh, rate, rate_basis, rate_status)
WITH rules AS (
    SELECT kind, name, valid_from, valid_to, price_lo, price_lo_inclusive, price_hi, price_hi_inclusive,
           when_connection, when_energy_source, when_metered, when_licensed, when_capacity_mw_below, rate, status,
           rowid AS rule_order
    FROM tax.rate_rules WHERE scheme_id = $scheme_id AND scheme_version = $scheme_version
),
subjects AS (
    SELECT scenario_id, subject_kind, subject_id, month, period_start, connection, energy_source, metered,
           licensed, capacity_mw, categories_known,
           round(avg_price_kzt_per_kwh, $price_decimals) AS avg_price_kzt_per_kwh
    FROM rate_subjects
),
months_in_force AS (
    SELECT DISTINCT subjects.month
    FROM subjects JOIN rules
      ON rules.kind = 'bracket' AND subjects.month >= rules.valid_from
     AND (rules.valid_to IS NULL OR subjects.month < rules.valid_to)
),
category_matches AS (
    SELECT subjects.scenario_id, subjects.subject_kind, subjects.subject_id, subjects.month,
           rules.kind, rules.name, rules.rate, rules.status, rules.rule_order
    FROM subjects JOIN rules
      ON subjects.categories_known AND rules.kind IN ('override', 'exemption')
     AND subjects.month >= rules.valid_from AND (rules.valid_to IS NULL OR subjects.month < rules.valid_to)
     AND (rules.when_connection IS NULL OR list_contains(rules.when_connection, subjects.connection))
     AND (rules.when_energy_source IS NULL OR list_contains(rules.when_energy_source, subjects.energy_source))
     AND (rules.when_metered IS NULL OR rules.when_metered = subjects.metered)
     AND (rules.when_licensed IS NULL OR rules.when_licensed = subjects.licensed)
     AND (rules.when_capacity_mw_below IS NULL OR subjects.capacity_mw < rules.when_capacity_mw_below)
),
exemption AS (
    SELECT scenario_id, subject_kind, subject_id, month, name, status
    FROM category_matches WHERE kind = 'exemption'
    QUALIFY row_number() OVER (PARTITION BY scenario_id, subject_kind, subject_id, month ORDER BY name) = 1
),
highest_override AS (
    SELECT scenario_id, subject_kind, subject_id, month, name, rate, status
    FROM category_matches WHERE kind = 'override'
    QUALIFY row_number() OVER (PARTITION BY scenario_id, subject_kind, subject_id, month
                               ORDER BY rate DESC, rule_order) = 1
),
price_bracket AS (
    SELECT subjects.scenario_id, subjects.subject_kind, subjects.subject_id, subjects.month,
           rules.name, rules.rate, rules.status
    FROM subjects JOIN rules
      ON rules.kind = 'bracket' AND subjects.month >= rules.valid_from
     AND (rules.valid_to IS NULL OR subjects.month < rules.valid_to)
     AND (rules.price_lo IS NULL OR subjects.avg_price_kzt_per_kwh > rules.price_lo
          OR (rules.price_lo_inclusive AND subjects.avg_price_kzt_per_kwh = rules.price_lo))
     AND (rules.price_hi IS NULL OR subjects.avg_price_kzt_per_kwh < rules.price_hi
          OR (rules.price_hi_inclusive AND subjects.avg_price_kzt_per_kwh = rules.price_hi))
),
final AS (
    SELECT subjects.scenario_id, subjects.subject_kind, subjects.subject_id, subjects.month, subjects.period_start,
           subjects.avg_price_kzt_per_kwh,
           CASE WHEN months_in_force.month IS NULL OR exemption.name IS NOT NULL THEN 0
                ELSE coalesce(highest_override.rate, price_bracket.rate) END AS rate,
           CASE WHEN months_in_force.month IS NULL THEN 'not in force'
                WHEN exemption.name IS NOT NULL THEN 'exempt: ' || exemption.name
                WHEN highest_override.name IS NOT NULL THEN 'override: ' || highest_override.name
                WHEN price_bracket.name IS NOT NULL THEN 'bracket: ' || price_bracket.name
                WHEN subjects.avg_price_kzt_per_kwh IS NULL THEN 'no consumption'
                ELSE 'no bracket' END AS rate_basis,
           CASE WHEN months_in_force.month IS NOT NULL
                THEN coalesce(exemption.status, highest_override.status, price_bracket.status) END AS rate_status
    FROM subjects
    LEFT JOIN months_in_force USING (month)
    LEFT JOIN exemption USING (scenario_id, subject_kind, subject_id, month)
    LEFT JOIN highest_override USING (scenario_id, subject_kind, subject_id, month)
    LEFT JOIN price_bracket USING (scenario_id, subject_kind, subject_id, month)
)
SELECT scenario_id, $scheme_id AS scheme_id, $scheme_version AS scheme_version, subject_kind, subject_id, month,
       period_start, avg_price_kzt_per_kwh, rate, rate_basis, rate_status
FROM final;
