-- The contract's features and labels (§3) in SQL, for the benchmark baselines. Expects a
-- table `parsed(m, sensor, ts, value, code, received, file, n)` of raw lake lines and creates `features`.
-- Dialect: the common subset of DuckDB and SQLite 3.40 (no stddev_samp there, hence the
-- one-pass formula; parsing differs: see the two wrappers). W = 1 s, H = 7 d, 5 h, 24 h.
CREATE TABLE readings AS
SELECT * FROM (
  SELECT m, sensor, ts, value,
         row_number() OVER (PARTITION BY m, sensor, ts ORDER BY received, file, n) AS k
  FROM parsed WHERE sensor IN ('vibration', 'temperature')) WHERE k = 1;
CREATE TABLE failures AS SELECT DISTINCT m, ts, code FROM parsed WHERE sensor = 'failure';
CREATE TABLE wm AS SELECT m, max(ts) AS wm FROM parsed GROUP BY m;
CREATE TABLE windows AS
SELECT m, ts - ts % 1000 AS ws,
       avg(CASE WHEN sensor = 'vibration' THEN value END) AS vibration_rms,
       avg(CASE WHEN sensor = 'temperature' THEN value END) AS temperature_celsius
FROM readings GROUP BY m, ws;
CREATE TABLE features AS
SELECT w.m AS machine_id, w.ws AS window_start_ms, vibration_rms, temperature_celsius,
  avg(vibration_rms) OVER v5 AS vib_mean_5h, sqrt((sum(vibration_rms * vibration_rms) OVER v5 - sum(vibration_rms) OVER v5 * sum(vibration_rms) OVER v5 / count(vibration_rms) OVER v5) / (count(vibration_rms) OVER v5 - 1)) AS vib_std_5h,
  max(vibration_rms) OVER v5 AS vib_max_5h, avg(temperature_celsius) OVER t24 AS temp_mean_24h,
  max(temperature_celsius) OVER t24 AS temp_max_24h,
  CASE WHEN EXISTS (SELECT 1 FROM failures f WHERE f.m = w.m AND f.ts > w.ws AND f.ts <= w.ws + 604800000) THEN 1
       WHEN (SELECT wm FROM wm WHERE wm.m = w.m) >= w.ws + 604800000 THEN 0 END AS label_failure_7d
FROM windows w
WINDOW v5 AS (PARTITION BY m ORDER BY ws RANGE BETWEEN 17999999 PRECEDING AND CURRENT ROW),
       t24 AS (PARTITION BY m ORDER BY ws RANGE BETWEEN 86399999 PRECEDING AND CURRENT ROW);
