#!/usr/bin/env bash
# The main job, end to end on one machine: install dependencies, build, start a private
# mosquitto on loopback (the project's loss-free config), start `vigil run`, feed it
# messages, and show where the data landed. Keeps running until Ctrl-C (or --duration N s).
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

scripts/install-deps.sh
echo "== building (build/) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target vigil >/dev/null
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
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "data kept in $DATA"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

mosquitto -c "$DATA/mosquitto/mosquitto.conf" >"$DATA/mosquitto/mosquitto.log" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
echo "== mosquitto on 127.0.0.1:$PORT (log $DATA/mosquitto/mosquitto.log) =="

"$VIGIL" run --config config/vigil.toml --data-dir "$DATA/vigil" --host 127.0.0.1 --port "$PORT" \
  --client-id vigil-demo 2>"$DATA/vigil.log" & PIDS=("$!" "${PIDS[@]}")
for _ in $(seq 100); do grep -q "subscribed" "$DATA/vigil.log" 2>/dev/null && break; sleep 0.1; done
echo "== vigil run (log $DATA/vigil.log) =="

echo "== publishing sample messages =="
now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
pub() { mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "industrial/machine/$1" -m "$2"; }
for m in PUMP-A01 FAN-B02 COMP-C03; do
  pub "$m/telemetry/vibration" "{\"machine_id\": \"$m\", \"timestamp_utc\": \"$(now)\", \"vibration_rms\": 4.2}"
  pub "$m/telemetry/temperature" "{\"machine_id\": \"$m\", \"timestamp_utc\": \"$(now)\", \"temperature_celsius\": 75.4}"
done
pub "PUMP-A01/event/failure" "{\"machine_id\": \"PUMP-A01\", \"timestamp_utc\": \"$(now)\", \"codigo_evento\": \"FALHA_VIBRACAO_ELEVADA\"}"
pub "PUMP-A01/telemetry/vibration" "this is not JSON"
pub "PUMP-A01/telemetry/vibration" "{\"machine_id\": \"FAN-B02\", \"timestamp_utc\": \"$(now)\", \"vibration_rms\": 1}"

sleep 1
echo
echo "== the lake: $DATA/vigil/lake =="
(cd "$DATA/vigil/lake" && find . -type f | sort | sed 's|^\./|  |')
echo "(files named .<name>.open are segments being written; they are published as <name>"
echo " after lake.segment_max_age = 5m, when full, or when vigil stops)"
echo
echo "== a raw line =="
find "$DATA/vigil/lake/raw" -type f | head -1 | xargs head -1
echo "== quarantine (reason, detail) =="
find "$DATA/vigil/lake/quarantine" -type f | xargs cat | cut -c1-220
echo
echo "== status: counters are logged every minute in $DATA/vigil.log; the final ones at stop =="
if [ "$DURATION" -gt 0 ]; then
  sleep "$DURATION"
else
  echo "vigil is running. Publish more with:"
  echo "  mosquitto_pub -p $PORT -q 1 -t industrial/machine/M1/telemetry/vibration -m '{\"machine_id\":\"M1\",\"timestamp_utc\":\"$(now)\",\"vibration_rms\":3.1}'"
  echo "Press Ctrl-C to stop (open segments are published on the way out)."
  wait "${PIDS[0]}"
fi
