-- model_assumptions: the model's assumptions behind one scenario's estimates (PUE, unmetered energy band,
-- efficiency bound, hashrate share path, BTC price multiplier, fx pair, behaviour). Grain: assumption × valid_from.
-- low/central/high in `unit` (share: a fraction, shown as %); `setting` for values that are text. Reads the
-- published view `assumptions`. Parameter: $scenario_id.
SELECT assumption, valid_from, low, central, high, unit, setting, source, description
FROM assumptions WHERE scenario_id = $scenario_id
ORDER BY list_position(['pue', 'unmetered_energy_band', 'efficiency', 'hashrate_share', 'btc_price_multiplier',
                        'fx_pair', 'behaviour'], assumption), valid_from NULLS FIRST;
