-- model: stage_country_share (temp table)
-- grain: country × month
-- units: share (fraction 0..1)
-- reads: src_country_share, core.country_share
-- recompute: per file staged
-- params: none
-- also: known_countries
-- share of global hashrate by country and month (fraction 0..1), typed.
-- Country names are matched to known_countries whatever their case and spacing (`kazakhstan`, ` Kazakhstan `,
-- `KAZAKHSTAN` and a non-breaking space all become `Kazakhstan`): the scenarios, the top-down model and the tax gap
-- join on the exact name, so a differently written name would silently drop the country's observed share. A name
-- that matches no known country is kept as written and refused by the suite (country_known_ok).
-- known_countries: the countries of the CCAF CBECI mining map (as in data/reference/country_share.csv and the
-- scenarios' hashrate_share, e.g. Kazakhstan) and Central Asian neighbours, spelt as the CBECI map spells them, plus
-- every country already in core.country_share.
CREATE OR REPLACE TEMP TABLE known_countries AS
SELECT country FROM (VALUES
    ('Kazakhstan'), ('Kyrgyzstan'), ('Uzbekistan'), ('Tajikistan'), ('Turkmenistan'), ('Mainland China'),
    ('United States'), ('Russian Federation'), ('Canada'), ('Malaysia'), ('Iran, Islamic Rep.'), ('Germany'),
    ('Ireland'), ('Norway'), ('Sweden'), ('Paraguay'), ('Ethiopia'), ('Other')
) t(country)
UNION
SELECT country FROM core.country_share;

CREATE OR REPLACE TEMP TABLE stage_country_share AS
WITH typed AS (
    SELECT
        _row,
        -- white space of any kind (NBSP, tabs, several spaces) trimmed and single
        nullif(trim(regexp_replace(CAST(country AS VARCHAR),
                                   '[\s\x{00A0}\x{2000}-\x{200B}\x{202F}\x{205F}\x{3000}\x{FEFF}]+', ' ', 'g')), '')
            AS written,
        TRY_CAST(month AS DATE) AS month,
        TRY_CAST(share AS DOUBLE) AS share,
        CAST(source AS VARCHAR) AS source
    FROM src_country_share
)
SELECT
    _row,
    coalesce(k.country, t.written) AS country,
    month,
    share,
    source,
    coalesce(day(month) = 1, false) AS month_start_ok,
    t.written IS NULL OR k.country IS NOT NULL AS country_known_ok
FROM typed t
LEFT JOIN (SELECT DISTINCT ON (lower(country)) country FROM known_countries ORDER BY lower(country), country) k
       ON lower(t.written) = lower(k.country);
