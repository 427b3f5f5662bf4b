-- model: readings_flags_rows
-- grain: file row (_row), flagged rows only
-- units: none (row numbers, flags)
-- reads: readings_flags_raw
-- recompute: per file staged (readings, at the end of the key and overlap pass: minetax.load.reading_order)
-- params: none
-- updates: readings_flags
-- Fills temp table readings_flags, one row per flagged _row: a duplicate key and/or an overlapping interval, whichever rules flagged it.
INSERT INTO readings_flags (_row, duplicate, overlapping)
SELECT _row, bool_or(duplicate) AS duplicate, bool_or(overlapping) AS overlapping
FROM readings_flags_raw
GROUP BY _row;
