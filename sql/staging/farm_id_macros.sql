-- model: farm_id_skeleton, farm_id_lookalikes (temp macros)
-- grain: one farm id
-- units: none
-- reads: none
-- recompute: per run (before the first file is staged)
-- params: none
-- Macros the stage files use (stage_farms.sql, stage_energy_readings.sql, stage_farm_hashrate.sql), defined once.
-- farm_id_skeleton(id): what an id looks like to a reader, for probable duplicates: lower case, no white space or
-- invisible characters (zero-width space, NBSP, BOM, soft hyphen, bidi marks), Cyrillic and Greek letters that look
-- like Latin ones mapped to them (А1 and A1, КZ-F01 and KZ-F01).
CREATE OR REPLACE TEMP MACRO farm_id_skeleton(id) AS translate(lower(regexp_replace(id,
    '[\s\x{00A0}\x{00AD}\x{034F}\x{180E}\x{200B}-\x{200F}\x{2028}-\x{202F}\x{205F}-\x{2064}\x{3000}\x{FEFF}]',
    '', 'g')), 'авекмнорстухіјѕԁһӏүαβεζηικμνορτυχ', 'abekmhopctyxijsdhlyabezhikmnoptyx');

-- farm_id_lookalikes(id, known): the ids of the list `known` that look like `id` once both are folded to their
-- skeletons, quoted and joined with ', ' (NULL when none does): for an unknown id in readings or hashrate, the farm
-- it was probably meant to be (A1 written a1, А1 in Cyrillic, A1 with a zero-width space).
CREATE OR REPLACE TEMP MACRO farm_id_lookalikes(id, known) AS nullif(list_aggregate(list_transform(
    list_filter(known, lambda k: farm_id_skeleton(k) = farm_id_skeleton(id)), lambda k: '''' || k || ''''),
    'string_agg', ', '), '');
