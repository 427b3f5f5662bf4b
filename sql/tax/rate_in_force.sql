-- model: rate_in_force
-- grain: scheme × subject × month
-- units: rate in the scheme's rate unit; suspended_share a fraction of the month's kWh
-- reads: tax.rate_rules, rate_subjects
-- recompute: per scheme (every run)
-- params: $scheme_id, $scheme_version, $price_decimals, $basis_tag, $law_as_of
-- The law, evaluated once: the rate of one scheme version in force on the first day of each subject's month,
-- for every row of rate_subjects (farms, top-down countries, the forecast's fleet), into the temp table
-- rate_in_force (grain: scenario × scheme × subject kind × subject × month). Precedence:
--   no bracket, band or period in force that day -> 0, 'not in force'
--   an exemption matching the subject         -> 0, 'exempt: <name>' (alphabetically first name)
--   the highest matching override             -> its rate, 'override: <name>' (ties: the first in the scheme
--                                                file, i.e. tax.rate_rules' insertion order); an override with
--                                                combine 'highest' (the own_generation reading) applies only where
--                                                it is not below the bracket rate, else the bracket rate applies
--                                                ('bracket: <label> (above override <name>)')
--   the bracket of the subject's average price over the tax period, rounded to $price_decimals (NULL: not
--   rounded; a flat rate is one open bracket) -> its rate, 'bracket: <label>'
--   marginal bands (kind band) on the taxpayer's kWh so far in the tax period: the month's tax on the
--   taxpayer's kWh from volume_before_kwh to volume_before_kwh + volume_kwh, band by band, per kWh of the month
--   (where the month has no kWh, the marginal rate at volume_before_kwh) -> 'marginal: <bands touched>';
--   'no volume' (NULL) where the subject has no volume
--   time-of-use periods (kind period): Σ over the 24 local hours of the month's kWh share in that hour × the
--   rate of the period covering that hour in that month of the year; a subject without hour_kwh (or with no
--   kWh) has a flat load (1/24 per hour) -> 'time of use: <periods>'
--   otherwise                                 -> NULL, 'no consumption' (no price) or 'no bracket'
-- Overrides and exemptions match only where the subject's categories are known (not top-down).
-- Suspension windows (kind suspension, in force on the month's first day): suspended_share is the share of the
-- month's kWh on days inside a window covering the subject's region (or every region); day_kwh NULL means flat
-- over the month's days; the window's names in `suspension`. A window changes no rate: the tax stage uses the
-- share for the behavioural estimate and the revenue lost to the ban.
-- $law_as_of (a scenario's assumption law_as_of; NULL: the subject's own month): the day whose law applies to every
-- subject, for "this country's law as in force on that day, applied to these farms and years"; time-of-use seasons
-- and suspension windows still follow the subject's own month and days.
-- rate_basis ends with $basis_tag, the scheme's readings of open points (e.g. ' [price unrounded]'), or ''.
-- avg_price_kzt_per_kwh: the (rounded) price the bracket was looked up with. rate_status: the status of the
-- value applied (NULL where not in force or no value applies).
CREATE TEMP TABLE IF NOT EXISTS rate_in_force (
    scenario_id VARCHAR, scheme_id VARCHAR, scheme_version VARCHAR, subject_kind VARCHAR, subject_id VARCHAR,
    month DATE, period_start DATE, avg_price_kzt_per_kwh DOUBLE, rate DOUBLE, rate_basis VARCHAR,
    rate_status VARCHAR, suspended_share DOUBLE, suspension VARCHAR
);

DELETE FROM rate_in_force WHERE scheme_id = $scheme_id AND scheme_version = $scheme_version;

INSERT INTO rate_in_force (scenario_id, scheme_id, scheme_version, subject_kind, subject_id, month, period_start,
                           avg_price_kzt_per_kwh, rate, rate_basis, rate_status, suspended_share, suspension)
WITH rules AS (
    SELECT kind, name, valid_from, valid_to, price_lo, price_lo_inclusive, price_hi, price_hi_inclusive,
           when_connection, when_energy_source, when_metered, when_licensed, when_capacity_mw_below, rate, status,
           combine, volume_lo_kwh, volume_hi_kwh, when_hours, when_months, window_from, window_to, when_region,
           rowid AS rule_order
    FROM tax.rate_rules WHERE scheme_id = $scheme_id AND scheme_version = $scheme_version AND kind <> 'reading'
),
subjects AS (
    SELECT scenario_id, subject_kind, subject_id, month, period_start, connection, energy_source, metered,
           licensed, capacity_mw, categories_known, region, volume_before_kwh, volume_kwh, hour_kwh, day_kwh,
           CASE WHEN $price_decimals IS NULL THEN avg_price_kzt_per_kwh
                ELSE round(avg_price_kzt_per_kwh, coalesce(CAST($price_decimals AS INTEGER), 0)) END
               AS avg_price_kzt_per_kwh
    FROM rate_subjects
),
in_force AS (   -- the rules in force on each subject's month
    SELECT subjects.scenario_id, subjects.subject_kind, subjects.subject_id, subjects.month, rules.*
    FROM subjects JOIN rules
      ON coalesce(CAST($law_as_of AS DATE), subjects.month) >= rules.valid_from
     AND (rules.valid_to IS NULL OR coalesce(CAST($law_as_of AS DATE), subjects.month) < rules.valid_to)
),
months_in_force AS (
    SELECT DISTINCT month FROM in_force WHERE kind IN ('bracket', 'band', 'period')
),
category_matches AS (
    SELECT r.scenario_id, r.subject_kind, r.subject_id, r.month, r.kind, r.name, r.rate, r.status, r.combine,
           r.rule_order
    FROM in_force r JOIN subjects s USING (scenario_id, subject_kind, subject_id, month)
    WHERE s.categories_known AND r.kind IN ('override', 'exemption')
      AND (r.when_connection IS NULL OR list_contains(r.when_connection, s.connection))
      AND (r.when_energy_source IS NULL OR list_contains(r.when_energy_source, s.energy_source))
      AND (r.when_metered IS NULL OR r.when_metered = s.metered)
      AND (r.when_licensed IS NULL OR r.when_licensed = s.licensed)
      AND (r.when_capacity_mw_below IS NULL OR s.capacity_mw < r.when_capacity_mw_below)
),
exemption AS (
    SELECT scenario_id, subject_kind, subject_id, month, name, status
    FROM category_matches WHERE kind = 'exemption'
    QUALIFY row_number() OVER (PARTITION BY scenario_id, subject_kind, subject_id, month ORDER BY name) = 1
),
highest_override AS (
    SELECT scenario_id, subject_kind, subject_id, month, name, rate, status, combine
    FROM category_matches WHERE kind = 'override'
    QUALIFY row_number() OVER (PARTITION BY scenario_id, subject_kind, subject_id, month
                               ORDER BY rate DESC, rule_order) = 1
),
price_bracket AS (
    SELECT r.scenario_id, r.subject_kind, r.subject_id, r.month, 'bracket: ' || r.name AS name, r.rate, r.status
    FROM in_force r JOIN subjects s USING (scenario_id, subject_kind, subject_id, month)
    WHERE r.kind = 'bracket'
      AND (r.price_lo IS NULL OR s.avg_price_kzt_per_kwh > r.price_lo
           OR (r.price_lo_inclusive AND s.avg_price_kzt_per_kwh = r.price_lo))
      AND (r.price_hi IS NULL OR s.avg_price_kzt_per_kwh < r.price_hi
           OR (r.price_hi_inclusive AND s.avg_price_kzt_per_kwh = r.price_hi))
),
band_parts AS (  -- each band's kWh of the month: the overlap of [before, before + volume] with (lo, hi]
    SELECT r.scenario_id, r.subject_kind, r.subject_id, r.month, r.name, r.rate, r.status, r.volume_lo_kwh,
           s.volume_kwh,
           greatest(0, least(s.volume_before_kwh + s.volume_kwh, coalesce(r.volume_hi_kwh, 'infinity'::DOUBLE))
                       - greatest(s.volume_before_kwh, r.volume_lo_kwh)) AS band_kwh,
           s.volume_before_kwh >= r.volume_lo_kwh
               AND (r.volume_hi_kwh IS NULL OR s.volume_before_kwh < r.volume_hi_kwh) AS at_start
    FROM in_force r JOIN subjects s USING (scenario_id, subject_kind, subject_id, month)
    WHERE r.kind = 'band' AND s.volume_kwh IS NOT NULL
),
marginal AS (
    SELECT scenario_id, subject_kind, subject_id, month,
           CASE WHEN any_value(volume_kwh) > 0 THEN sum(rate * band_kwh) / any_value(volume_kwh)
                ELSE max(rate) FILTER (WHERE at_start) END AS rate,
           'marginal: ' || string_agg(name, ', ' ORDER BY volume_lo_kwh)
               FILTER (WHERE band_kwh > 0 OR (volume_kwh = 0 AND at_start)) AS name,
           max(status) AS status
    FROM band_parts GROUP BY scenario_id, subject_kind, subject_id, month
),
hour_shares AS (
    SELECT s.scenario_id, s.subject_kind, s.subject_id, s.month, x.hour,
           CASE WHEN s.hour_kwh IS NULL OR coalesce(list_sum(s.hour_kwh), 0) = 0 THEN 1.0 / 24
                ELSE s.hour_kwh[x.hour + 1] / list_sum(s.hour_kwh) END AS share
    FROM subjects s CROSS JOIN (SELECT range AS hour FROM range(24)) x
    WHERE EXISTS (SELECT 1 FROM rules WHERE kind = 'period')
),
time_of_use AS (
    SELECT h.scenario_id, h.subject_kind, h.subject_id, h.month, sum(h.share * r.rate) AS rate,
           'time of use: ' || string_agg(DISTINCT r.name, ', ' ORDER BY r.name) FILTER (WHERE h.share > 0) AS name,
           max(r.status) AS status
    FROM hour_shares h JOIN in_force r USING (scenario_id, subject_kind, subject_id, month)
    WHERE r.kind = 'period' AND list_contains(r.when_months, month(h.month)) AND list_contains(r.when_hours, h.hour)
    GROUP BY h.scenario_id, h.subject_kind, h.subject_id, h.month
),
day_shares AS (
    SELECT s.scenario_id, s.subject_kind, s.subject_id, s.month, s.region,
           CAST(s.month + CAST(x.i AS INTEGER) AS DATE) AS day,
           CASE WHEN s.day_kwh IS NULL OR coalesce(list_sum(s.day_kwh), 0) = 0 THEN 1.0 / day(last_day(s.month))
                ELSE s.day_kwh[x.i + 1] / list_sum(s.day_kwh) END AS share
    FROM subjects s CROSS JOIN (SELECT range AS i FROM range(31)) x
    WHERE EXISTS (SELECT 1 FROM rules WHERE kind = 'suspension')
      AND s.month + CAST(x.i AS INTEGER) <= last_day(s.month)
),
suspended_days AS (
    SELECT d.scenario_id, d.subject_kind, d.subject_id, d.month, d.day, any_value(d.share) AS share,
           string_agg(DISTINCT r.name, ', ' ORDER BY r.name) AS names
    FROM day_shares d JOIN in_force r USING (scenario_id, subject_kind, subject_id, month)
    WHERE r.kind = 'suspension' AND d.day BETWEEN r.window_from AND r.window_to
      AND (r.when_region IS NULL OR list_contains(r.when_region, d.region))
    GROUP BY ALL
),
suspended AS (
    SELECT scenario_id, subject_kind, subject_id, month, sum(share) AS suspended_share,
           string_agg(DISTINCT names, ', ' ORDER BY names) AS suspension
    FROM suspended_days GROUP BY ALL
),
base_rate AS (  -- the family's rate before categories: price bracket, marginal bands or time-of-use periods
    SELECT scenario_id, subject_kind, subject_id, month, name, rate, status FROM price_bracket
    UNION ALL SELECT scenario_id, subject_kind, subject_id, month, name, rate, status FROM marginal
    UNION ALL SELECT scenario_id, subject_kind, subject_id, month, name, rate, status FROM time_of_use
),
final AS (
    SELECT subjects.scenario_id, subjects.subject_kind, subjects.subject_id, subjects.month, subjects.period_start,
           subjects.avg_price_kzt_per_kwh,
           highest_override.name IS NOT NULL AND (highest_override.combine IS DISTINCT FROM 'highest'
               OR base_rate.rate IS NULL OR highest_override.rate >= base_rate.rate) AS override_applies,
           months_in_force.month IS NULL AS not_in_force, exemption.name AS exemption_name,
           exemption.status AS exemption_status, highest_override.name AS override_name,
           highest_override.rate AS override_rate, highest_override.status AS override_status,
           base_rate.name AS base_name, base_rate.rate AS base_rate, base_rate.status AS base_status,
           subjects.volume_kwh, coalesce(suspended.suspended_share, 0) AS suspended_share, suspended.suspension
    FROM subjects
    LEFT JOIN months_in_force USING (month)
    LEFT JOIN exemption USING (scenario_id, subject_kind, subject_id, month)
    LEFT JOIN highest_override USING (scenario_id, subject_kind, subject_id, month)
    LEFT JOIN base_rate USING (scenario_id, subject_kind, subject_id, month)
    LEFT JOIN suspended USING (scenario_id, subject_kind, subject_id, month)
)
SELECT scenario_id, $scheme_id AS scheme_id, $scheme_version AS scheme_version, subject_kind, subject_id, month,
       period_start, avg_price_kzt_per_kwh,
       CASE WHEN not_in_force OR exemption_name IS NOT NULL THEN 0
            WHEN override_applies THEN override_rate ELSE base_rate END AS rate,
       CASE WHEN not_in_force THEN 'not in force'
            WHEN exemption_name IS NOT NULL THEN 'exempt: ' || exemption_name
            WHEN override_applies THEN 'override: ' || override_name
            WHEN base_name IS NOT NULL AND override_name IS NOT NULL
                THEN base_name || ' (above override ' || override_name || ')'
            WHEN base_name IS NOT NULL THEN base_name
            WHEN exists(SELECT 1 FROM rules WHERE kind = 'band') AND volume_kwh IS NULL THEN 'no volume'
            WHEN avg_price_kzt_per_kwh IS NULL THEN 'no consumption'
            ELSE 'no bracket' END || $basis_tag AS rate_basis,
       CASE WHEN NOT not_in_force
            THEN coalesce(exemption_status, CASE WHEN override_applies THEN override_status END, base_status)
       END AS rate_status,
       suspended_share, suspension
FROM final;
