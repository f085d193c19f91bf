#!/usr/bin/env bash
# sqlite3 baseline for bench/process.sh: the same tables from the same lake, in SQL.
# usage: baseline_sqlite.sh LAKE_DIR WORK_DIR   (prints rows=N)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
find "$1" -name '*.jsonl' -print0 | xargs -0 cat > "$2/lines.txt"
rm -f "$2/baseline.db"
US=$'\x1f'
sqlite3 "$2/baseline.db" <<SQL
CREATE TABLE lines(line TEXT);
.mode ascii
.separator "$US" "\n"
.import $2/lines.txt lines
CREATE TABLE parsed AS
  SELECT json_extract(line, '\$.payload.machine_id') AS m,
         substr(json_extract(line, '\$.topic'), instr(substr(json_extract(line, '\$.topic'), 20), '/') + 20) AS topic_tail,
         CAST(round((julianday(substr(json_extract(line, '\$.payload.timestamp_utc'), 1, 23)) - 2440587.5) * 86400000) AS INTEGER) AS ts,
         coalesce(json_extract(line, '\$.payload.vibration_rms'), json_extract(line, '\$.payload.temperature_celsius')) AS value,
         json_extract(line, '\$.payload.codigo_evento') AS code,
         json_extract(line, '\$.received_at') AS received, '' AS file, rowid AS n
  FROM lines;
ALTER TABLE parsed ADD COLUMN sensor TEXT;
UPDATE parsed SET sensor = CASE WHEN topic_tail LIKE '%vibration' THEN 'vibration' WHEN topic_tail LIKE '%temperature' THEN 'temperature' ELSE 'failure' END;
.read $here/features.sql
SELECT 'rows=' || count(*) FROM features;
SQL
