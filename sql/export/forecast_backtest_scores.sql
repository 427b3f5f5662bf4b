-- forecast_backtest_scores: MdAPE of P50 and P10-P90 coverage (nominal 80%) per measure, horizon and model, of one
-- forecast's latest backtest, and the mean weighted interval score of the logs (wis: P50 and band together, lower is
-- better). Grain: measure × horizon × model. Shares (0.074 = 7.4%).
SELECT measure, horizon, model, n AS forecasts, mdape_pct / 100 AS mdape_share, coverage_pct / 100 AS coverage_share,
       wis,
       CAST(data_cut AS VARCHAR) AS data_cut, seed, runs, run_id
FROM forecast_backtest_scores WHERE forecast_id = $scenario_id
ORDER BY measure = 'network_hashrate_ths' DESC, measure, horizon, model;
