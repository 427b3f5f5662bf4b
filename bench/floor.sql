-- The floor (b) of bench/run.py: the Kazakhstan mining fee per farm and quarter, straight from the Parquet file of
-- readings, in one hand-written query. Params: $readings (Parquet path), $farms (CSV path), $decimals (the average
-- price is rounded to these before the bracket lookup; NULL: not rounded: the scheme's price_rounding reading).
-- Table rules_in holds the fee's rate rules from schemes/kz-mining-fee.yaml (minetax.tax.schemes.Scheme.rate_rules),
-- not typed in here. The highest matching override applies, except one marked combine 'highest' (the own_generation
-- reading) that is below the bracket rate: then the bracket's rate applies.
WITH r AS (SELECT * FROM read_parquet($readings)),
q AS (
    SELECT farm_id, CAST(date_trunc('quarter', ts_start) AS DATE) AS quarter, sum(kwh) AS kwh,
           sum(kwh * price_kzt_per_kwh) / sum(kwh) AS raw_price
    FROM r GROUP BY ALL
),
f AS (SELECT * FROM read_csv($farms)),
x AS (SELECT q.*, CASE WHEN $decimals IS NULL THEN raw_price ELSE round(raw_price, $decimals) END AS price,
             f.connection, f.energy_source, f.metered FROM q JOIN f USING (farm_id)),
rules AS (SELECT * FROM rules_in),
o AS (
    SELECT x.farm_id, x.quarter, max(u.rate) AS rate, arg_max(u.combine, u.rate) AS combine FROM x JOIN rules u
      ON u.kind = 'override' AND x.quarter >= u.valid_from AND (u.valid_to IS NULL OR x.quarter < u.valid_to)
     AND (u.when_connection IS NULL OR list_contains(u.when_connection, x.connection))
     AND (u.when_energy_source IS NULL OR list_contains(u.when_energy_source, x.energy_source))
     AND (u.when_metered IS NULL OR u.when_metered = x.metered)
    GROUP BY ALL
),
b AS (
    SELECT x.farm_id, x.quarter, u.rate FROM x JOIN rules u
      ON u.kind = 'bracket' AND x.quarter >= u.valid_from AND (u.valid_to IS NULL OR x.quarter < u.valid_to)
     AND (u.price_lo IS NULL OR x.price > u.price_lo OR (u.price_lo_inclusive AND x.price = u.price_lo))
     AND (u.price_hi IS NULL OR x.price < u.price_hi OR (u.price_hi_inclusive AND x.price = u.price_hi))
)
SELECT sum(x.kwh * CASE WHEN o.rate IS NOT NULL AND (o.combine IS DISTINCT FROM 'highest' OR b.rate IS NULL
                                                   OR o.rate >= b.rate) THEN o.rate ELSE coalesce(b.rate, 0) END)
FROM x LEFT JOIN o USING (farm_id, quarter)
LEFT JOIN b USING (farm_id, quarter)
