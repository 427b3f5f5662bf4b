-- model: model.farm_month (copied from another scenario with the same model)
-- grain: as sql/model/farm_month.sql, country_month.sql and farm_month_hour.sql
-- units: as those files
-- reads: model.farm_month, model.country_month, model.farm_month_hour, model.farm_day_energy
-- recompute: by month ($m_from..$m_to), instead of the model files, when minetax.model.run finds a donor
-- params: $run_id, $scenario_id, $donor, $m_from, $m_to
-- variant of: model/farm_month.sql
-- also: model.country_month, model.farm_month_hour, model.farm_day_energy
-- A reform that changes only the tax does not remodel the readings: when another scenario's model was made from the
-- same inputs (no change since: meta.model_state.change_seq), by the same code, with the same model assumptions
-- (PUE, efficiency, fx pair, unmetered band, price path, hashrate share, hours and days kept: the model_version
-- hash), its model rows for the months are this scenario's model rows, copied with this run's id. The files the
-- copy stands for would compute the same rows (tests/model/test_model_copy.py compares both ways).
DELETE FROM model.farm_month WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to;
INSERT INTO model.farm_month
SELECT * REPLACE ($run_id AS run_id, $scenario_id AS scenario_id)
FROM model.farm_month WHERE scenario_id = $donor AND month BETWEEN $m_from AND $m_to;

DELETE FROM model.country_month WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to;
INSERT INTO model.country_month
SELECT * REPLACE ($run_id AS run_id, $scenario_id AS scenario_id)
FROM model.country_month WHERE scenario_id = $donor AND month BETWEEN $m_from AND $m_to;

DELETE FROM model.farm_month_hour WHERE scenario_id = $scenario_id AND month BETWEEN $m_from AND $m_to;
INSERT INTO model.farm_month_hour
SELECT * REPLACE ($run_id AS run_id, $scenario_id AS scenario_id)
FROM model.farm_month_hour WHERE scenario_id = $donor AND month BETWEEN $m_from AND $m_to;

DELETE FROM model.farm_day_energy
WHERE scenario_id = $scenario_id AND day >= $m_from AND day < $m_to + INTERVAL 1 MONTH;
INSERT INTO model.farm_day_energy
SELECT * REPLACE ($run_id AS run_id, $scenario_id AS scenario_id)
FROM model.farm_day_energy WHERE scenario_id = $donor AND day >= $m_from AND day < $m_to + INTERVAL 1 MONTH;
