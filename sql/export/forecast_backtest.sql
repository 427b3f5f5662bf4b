-- forecast_backtest: each backtest forecast of one measure (origin × horizon × model) beside the actual outcome.
-- Grain: origin × horizon × model. Unit: the measure's (TH/s, GWh or KZT); ape as a share.
SELECT CAST(origin AS VARCHAR) AS origin, horizon, CAST(year AS VARCHAR) AS year, model, p10, p50, p90, actual,
       ape AS ape_share, inside, wis, CAST(data_cut AS VARCHAR) AS data_cut, seed, runs
FROM forecast_backtest WHERE forecast_id = $scenario_id AND measure = $measure
ORDER BY origin, horizon, model;
