-- model: stage_collections (temp table)
-- grain: jurisdiction × scheme × tax period
-- units: collected KZT
-- reads: src_collections
-- recompute: per file staged
-- params: none
-- tax actually collected, typed, with check columns. Grain: jurisdiction × scheme × tax
-- period. Units: KZT.
CREATE OR REPLACE TEMP TABLE stage_collections AS
SELECT
    _row,
    trim(CAST(jurisdiction AS VARCHAR)) AS jurisdiction,
    trim(CAST(scheme_id AS VARCHAR)) AS scheme_id,
    TRY_CAST(period_start AS DATE) AS period_start,
    TRY_CAST(period_end AS DATE) AS period_end,
    TRY_CAST(collected_kzt AS DOUBLE) AS collected_kzt,
    CAST(source AS VARCHAR) AS source,
    coalesce(isfinite(TRY_CAST(collected_kzt AS DOUBLE)), false) AS collected_finite_ok,
    coalesce(TRY_CAST(period_end AS DATE) >= TRY_CAST(period_start AS DATE), false) AS period_ordered_ok
FROM src_collections;
