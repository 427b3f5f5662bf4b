-- stage_fx: exchange rates, typed. Grain: pair × date from which the rate applies. rate = quote per 1 base.
-- gap_days: for each row of the file, the longer of the two gaps (in days) to the previous and the next date of
-- the same pair, counting the rates already in core (the same key in core is replaced, not a neighbour). A
-- rate carries forward to the next date, so a long gap would silently price a missing year at a stale rate.
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
SELECT t.*, g.gap_days
FROM typed t
LEFT JOIN (SELECT _row, max(gap_days) AS gap_days FROM gaps WHERE _row IS NOT NULL GROUP BY _row) g USING (_row);
