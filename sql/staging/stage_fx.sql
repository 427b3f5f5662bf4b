-- model: stage_fx (temp table)
-- grain: pair × date
-- units: rate quote per 1 base; gap days
-- reads: src_fx, core.fx
-- recompute: per file staged
-- params: none
-- also: fx_bounds
-- exchange rates, typed. Grain: pair × date from which the rate applies. rate = quote per 1 base.
-- gap_days: for each row of the file, the longer of the two gaps (in days) to the previous and the next date of
-- the same pair, counting the rates already in core (the same key in core is replaced, not a neighbour). A
-- rate carries forward to the next date, so a long gap would silently price a missing year at a stale rate.
-- fx_bounds: the plausible range of each pair minetax expects, KZT per 1 unit of the base currency, with a wide
-- margin around everything observed since 2000 (World Bank PA.NUS.FCRF annual averages, 2000-2024: USD 118-469,
-- RUB 3.6-8.5 (2022), KGS 3.0-5.4, UZS 0.037-0.60, EUR about 1.1 × USD, CNY 17-70 KZT). A rate outside it is a
-- typo, a unit slip or a rate given the wrong way round (USD per KZT, 0.0022, instead of KZT per USD, 456):
-- rate_inverted_ok is false when 1 / rate is in range, or when the pair itself is written KZT/<currency>.
-- Pairs without bounds here need only a positive finite rate.
CREATE OR REPLACE TEMP TABLE fx_bounds AS
SELECT * FROM (VALUES
    ('USD/KZT', 100.0, 2000.0), ('EUR/KZT', 100.0, 3000.0), ('CNY/KZT', 5.0, 500.0),
    ('RUB/KZT', 1.0, 30.0), ('KGS/KZT', 1.0, 30.0), ('UZS/KZT', 0.005, 1.0)
) t(pair, low, high);

CREATE OR REPLACE TEMP TABLE stage_fx AS
WITH typed AS (
    SELECT
        _row,
        upper(trim(CAST(pair AS VARCHAR))) AS pair,
        TRY_CAST(date AS DATE) AS date,
        TRY_CAST(rate AS DOUBLE) AS rate,
        CAST(source AS VARCHAR) AS source,
        coalesce(isfinite(TRY_CAST(rate AS DOUBLE)), false) AS rate_finite_ok
    FROM src_fx
),
timeline AS (
    SELECT pair, date, _row FROM typed WHERE pair IS NOT NULL AND date IS NOT NULL
    UNION ALL
    SELECT c.pair, c.date, NULL AS _row
    FROM core.fx c
    WHERE c.pair IN (SELECT pair FROM typed)
      AND NOT EXISTS (SELECT 1 FROM typed t WHERE t.pair = c.pair AND t.date = c.date)
),
gaps AS (
    SELECT _row,
           greatest(datediff('day', lag(date) OVER w, date), datediff('day', date, lead(date) OVER w)) AS gap_days
    FROM timeline
    WINDOW w AS (PARTITION BY pair ORDER BY date)
)
SELECT t.*, g.gap_days,
    -- not given the wrong way round: the rate is out of range but its inverse is in range, or the pair is KZT/<X>
    NOT (coalesce(NOT (t.rate BETWEEN b.low AND b.high) AND 1 / t.rate BETWEEN b.low AND b.high, false)
         OR r.pair IS NOT NULL) AS rate_inverted_ok,
    -- within the pair's range (a rate given the wrong way round is named by rate_inverted_ok alone)
    coalesce(t.rate BETWEEN b.low AND b.high OR 1 / t.rate BETWEEN b.low AND b.high, true) AS rate_plausible_ok
FROM typed t
LEFT JOIN (SELECT _row, max(gap_days) AS gap_days FROM gaps WHERE _row IS NOT NULL GROUP BY _row) g USING (_row)
LEFT JOIN fx_bounds b ON b.pair = t.pair
LEFT JOIN fx_bounds r ON r.pair = split_part(t.pair, '/', 2) || '/' || split_part(t.pair, '/', 1);
