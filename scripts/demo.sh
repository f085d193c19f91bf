#!/usr/bin/env bash
# The main job, end to end on one machine: install dependencies, build, start a private
# mosquitto on loopback (the project's loss-free config), start `vigil run`, let
# `vigil simulate` publish two weeks of history and then live data, and show where the
# data and the status are. Keeps running until Ctrl-C (or --duration N s).
#
# usage: scripts/demo.sh [--duration SECONDS] [--data-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=0
DATA=$ROOT/demo-data
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=$2; shift 2;;
    --data-dir) DATA=$(realpath -m "$2"); shift 2;;
    -h|--help) sed -n '2,7p' "$0"; exit 0;;
    *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2;;
  esac
done

VIGIL_BUILD_ONLY=1 scripts/install-deps.sh  # no test-only tools (browser, pandas)
echo "== building (build/) =="
BUILD_DIR=build TARGET=vigil scripts/build.sh >/dev/null  # the same build as the tests and Docker
VIGIL=$ROOT/build/vigil

mkdir -p "$DATA/mosquitto/persist"
chmod 0777 "$DATA/mosquitto/persist"   # mosquitto drops root privileges to its own user
chmod o+x "$DATA" "$DATA/mosquitto"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{ cat config/mosquitto.conf
  echo "listener $PORT 127.0.0.1"
  echo "allow_anonymous true   # demo only: loopback, no credentials"
  echo "persistence_location $DATA/mosquitto/persist/"
} > "$DATA/mosquitto/mosquitto.conf"

PIDS=()
cleanup() {
  echo; echo "== stopping =="
  # In order: simulator, vigil (publishes its open segments), then the broker.
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  echo "data kept in $DATA"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

mosquitto -c "$DATA/mosquitto/mosquitto.conf" >"$DATA/mosquitto/mosquitto.log" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
echo "== mosquitto on 127.0.0.1:$PORT (log $DATA/mosquitto/mosquitto.log) =="

HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$VIGIL" run --config config/demo.toml --data-dir "$DATA/vigil" --host 127.0.0.1 --port "$PORT" \
  --client-id vigil-demo --http-listen "127.0.0.1:$HTTP_PORT" 2>"$DATA/vigil.log" & PIDS=("$!" "${PIDS[@]}")
for _ in $(seq 100); do grep -q "subscribed" "$DATA/vigil.log" 2>/dev/null && break; sleep 0.1; done
echo "== vigil run (log $DATA/vigil.log; dashboard http://127.0.0.1:$HTTP_PORT/ ; metrics /metrics, /readyz, /api/status) =="

echo "== simulator: 14 days of history for 5 machines (backfill), then real time =="
SIM=("$VIGIL" simulate --config config/demo.toml --data-dir "$DATA/simulator" --host 127.0.0.1
     --port "$PORT" --interval 10)
"${SIM[@]}" --days 14 --summary-json "$DATA/simulator/backfill.json" 2>"$DATA/simulator.log" \
  || { echo "the backfill failed; see $DATA/simulator.log" >&2; exit 1; }
tail -n 12 "$DATA/simulator.log"
"${SIM[@]}" 2>>"$DATA/simulator.log" & PIDS=("$!" "${PIDS[@]}")

echo "== waiting for vigil to publish its segments (lake.segment_max_age = 10s in config/demo.toml) =="
sleep 12
LAKE=$DATA/vigil/lake
echo
echo "== the lake: $LAKE =="
echo "raw partitions (date=, machine_id=): $(find "$LAKE/raw" -mindepth 2 -maxdepth 2 -type d | wc -l), published segments: $(find "$LAKE/raw" -name '*.jsonl' | wc -l), lines: $(find "$LAKE/raw" -name '*.jsonl' -exec cat {} + | wc -l)"
find "$LAKE/raw" -name '*.jsonl' | sort | tail -n 3 | sed 's|^|  |' || true
echo "== a raw line =="
find "$LAKE/raw" -name 'vibration-*.jsonl' | head -1 | xargs head -1 || true
echo "== failure events (the label source) =="
find "$LAKE/raw" -name 'failure-*.jsonl' -exec cat {} + | cut -c1-200 | head -n 5 || true
echo "== quarantine by reason =="
find "$LAKE/quarantine" -name '*.jsonl' -exec cat {} + 2>/dev/null | grep -o '"reason":"[a-z_]*"' | sort | uniq -c || true
echo
echo "== features: vigil process now (the daemon also does it every 30 s in this demo) =="
"$VIGIL" process --config config/demo.toml --data-dir "$DATA/vigil" || true
DB=$DATA/vigil/vigil.db
if [ -f "$DB" ]; then
  echo "-- latest_features ($DB):"
  sqlite3 -header -column "$DB" "SELECT machine_id, datetime(window_start_ms / 1000, 'unixepoch') AS window_utc,
    round(vib_mean_5h, 2) AS vib_mean_5h, round(vib_max_5h, 2) AS vib_max_5h, round(temp_mean_24h, 1) AS temp_mean_24h,
    label_failure_7d FROM latest_features ORDER BY machine_id" || true
  echo "-- training set: rows by label_failure_7d (NULL = the next 7 days are not known yet):"
  sqlite3 -header -column "$DB" "SELECT label_failure_7d, count(*) AS rows FROM features GROUP BY 1" || true
fi
echo
echo "== the failure model: vigil train (needs a few failures with known 7-day labels) =="
# The simulated machines all start together: vigil train says which rows it held out (by
# machine here) and why, and which alert threshold it chose on them.
if "$VIGIL" train --config config/demo.toml --data-dir "$DATA/vigil"; then
  "$VIGIL" process --config config/demo.toml --data-dir "$DATA/vigil" || true   # scores the rows
  echo "-- failure probabilities (latest_predictions):"
  sqlite3 -header -column "$DB" "SELECT machine_id, round(failure_probability_7d, 3) AS failure_probability_7d,
    round(rul_hours, 1) AS rul_hours, model_id, round(anomaly_score, 1) AS anomaly_score FROM latest_predictions
    ORDER BY machine_id" || true
else
  echo "(no model yet: the dashboard shows each machine's anomaly score meanwhile)"
fi
echo
echo "== status: build/vigil status --data-dir $DATA/vigil (counters also in $DATA/vigil.log every minute) =="
"$VIGIL" status --data-dir "$DATA/vigil" || true
echo "-- http://127.0.0.1:$HTTP_PORT/api/status: $(curl -s "http://127.0.0.1:$HTTP_PORT/api/status" 2>/dev/null || echo unavailable)"
echo
if [ "$DURATION" -gt 0 ]; then
  sleep "$DURATION"
else
  echo "== dashboard: http://127.0.0.1:$HTTP_PORT/ (fleet, machines, pipeline) =="
  echo "vigil and the simulator are running (broker 127.0.0.1:$PORT). Publish your own with:"
  echo "  mosquitto_pub -p $PORT -q 1 -t industrial/machine/M1/telemetry/vibration -m '{\"machine_id\":\"M1\",\"timestamp_utc\":\"$(date -u +%FT%T.%3NZ)\",\"vibration_rms\":3.1}'"
  echo "Press Ctrl-C to stop (open segments are published on the way out)."
  wait "${PIDS[0]}"
fi
