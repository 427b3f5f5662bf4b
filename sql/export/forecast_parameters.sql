-- forecast_parameters: the network, efficiency and fee-share parameters of one forecast's latest run, estimated on
-- the warehouse history up to the data cut, with standard errors. Grain: parameter. Estimates as text (4 digits).
SELECT parameter, printf('%.4g', estimate) AS estimate, printf('%.2g', std_error) AS std_error, observations, unit,
       meaning, CAST(data_cut AS VARCHAR) AS data_cut, seed, runs, run_id
FROM forecast_parameters WHERE forecast_id = $scenario_id
ORDER BY parameter;
