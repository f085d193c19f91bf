#!/usr/bin/env bash
# The fleet flow of issue 17 on one machine: gateways -> bucket -> Dask -> model -> gateways.
#   - a local S3 server (s3rver, tests/tools/node) and a "central" mosquitto;
#   - two gateways gw-a and gw-b, each its own mosquitto bridged to the central one with
#     config/mosquitto-bridge.conf (address moved to loopback, TLS and account lines left
#     out), its own `vigil run` (uploading to the bucket, following fleet.model_topic) and
#     `vigil simulate` with its own machine ids;
#   - fleet/fleet_features.py on a local Dask cluster (2 workers) and fleet/fleet_train.py
#     (xgboost.dask, 1 worker) with --announce on the central broker;
#   - the retained announcement crosses both bridges, each `vigil run` pulls the model,
#     checks it and decides by its own rule.
# Prints where everything is and what each gateway decided; exit 1 if a gateway did not
# register the model in time. Everything stays in the data directory.
#
# usage: scripts/fleet-demo.sh [--days N (default 6)] [--data-dir DIR (default fleet-demo-data)] [--keep]
#   --keep: leave the daemons and brokers running at the end (Ctrl-C stops them)
# Needs: build/vigil (built if missing), mosquitto + mosquitto-clients, python3-dask,
# python3-distributed, python3-xgboost, python3-boto3, node + tests/tools/node/node_modules
# (cd tests/tools/node && npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DAYS=6
DATA=$ROOT/fleet-demo-data
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --days) DAYS=$2; shift 2;;
    --data-dir) DATA=$(realpath -m "$2"); shift 2;;
    --keep) KEEP=1; shift;;
    -h|--help) sed -n '2,19p' "$0"; exit 0;;
    *) echo "fleet-demo.sh: unknown option $1 (try --help)" >&2; exit 2;;
  esac
done
VIGIL=${VIGIL:-$ROOT/build/vigil}
PY=${PYTHON:-/usr/bin/python3}  # Debian's, with python3-dask, -xgboost, -boto3
if [ ! -x "$VIGIL" ]; then
  echo "== building build/vigil =="
  BUILD_DIR=build TARGET=vigil scripts/build.sh >/dev/null
fi
S3RVER=$ROOT/tests/tools/node/node_modules/.bin/s3rver
[ -x "$S3RVER" ] || { echo "fleet-demo.sh: no $S3RVER: run (cd tests/tools/node && npm ci) first" >&2; exit 2; }

rm -rf "$DATA"
mkdir -p "$DATA"
chmod o+x "$DATA"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
fleet_status() {  # port -> "registered state last_error"
  curl -sf "http://127.0.0.1:$1/api/status" | "$PY" -c 'import json,sys; f=json.load(sys.stdin).get("fleet",{});
print(f.get("registered",0), f.get("state","?"), f.get("last_error",""))'
}

PIDS=()
cleanup() {
  echo "== stopping (data kept in $DATA) =="
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BUCKET=fleet-lake PREFIX=company REGION=us-east-1
export VIGIL_S3_ACCESS_KEY_ID=S3RVER VIGIL_S3_SECRET_ACCESS_KEY=S3RVER
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER

S3_PORT=$(free_port)
"$S3RVER" -d "$DATA/s3" -a 127.0.0.1 -p "$S3_PORT" --configure-bucket "$BUCKET" --silent >"$DATA/s3rver.log" 2>&1 &
PIDS=("$!" "${PIDS[@]}")
wait_port "$S3_PORT" || { echo "s3rver did not start: $DATA/s3rver.log" >&2; exit 1; }
echo "== bucket: s3rver on http://127.0.0.1:$S3_PORT, s3://$BUCKET/$PREFIX/ (files under $DATA/s3) =="

CENTRAL=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$CENTRAL" >"$DATA/central.conf"
mosquitto -c "$DATA/central.conf" >"$DATA/central.log" 2>&1 & PIDS=("$!" "${PIDS[@]}")
wait_port "$CENTRAL"
echo "== central broker: 127.0.0.1:$CENTRAL (where fleet models are announced) =="

declare -A HTTP
MACHINES=([0]="PUMP-A1,FAN-A2,COMP-A3" [1]="PUMP-B1,FAN-B2,COMP-B3")
i=0
for gw in gw-a gw-b; do
  d=$DATA/$gw
  mkdir -p "$d/persist"
  chmod 0777 "$d/persist"
  chmod o+x "$d"
  port=$(free_port)
  { cat config/mosquitto.conf
    echo "listener $port 127.0.0.1"
    echo "allow_anonymous true   # demo only: loopback"
    echo "persistence_location $d/persist/"
    # The shipped bridge, pointed at the local central broker, without TLS and account.
    sed -e "s/^address .*/address 127.0.0.1:$CENTRAL/" -e "s/^remote_clientid .*/remote_clientid vigil-fleet-$gw/" \
        -e '/^bridge_cafile /d' -e '/^bridge_tls_version /d' -e '/^remote_username /d' -e '/^remote_password /d' \
        config/mosquitto-bridge.conf
  } >"$d/mosquitto.conf"
  mosquitto -c "$d/mosquitto.conf" >"$d/mosquitto.log" 2>&1 & PIDS=("$!" "${PIDS[@]}")
  wait_port "$port"
  cat >"$d/vigil.toml" <<EOF
data_dir = "$d/vigil"
[mqtt]
host = "127.0.0.1"
port = $port
client_id = "vigil-$gw"
[lake]
segment_max_age = "1s"
[processing]
interval = "2s"
label_horizon = "12h"
[simulate]
mean_time_to_failure = "2d"
repair_time = "2h"
client_id = "vigil-sim-$gw"
[model]
rounds = 40
min_failures = 3
stride = "10m"
[upload]
bucket = "$BUCKET"
endpoint = "http://127.0.0.1:$S3_PORT"
region = "$REGION"
prefix = "$PREFIX"
gateway_id = "$gw"
interval = "300ms"
[fleet]
model_topic = "vigil/fleet/model"
EOF
  HTTP[$gw]=$(free_port)
  "$VIGIL" run --config "$d/vigil.toml" --http-listen "127.0.0.1:${HTTP[$gw]}" 2>"$d/vigil.log" &
  PIDS=("$!" "${PIDS[@]}")
  for _ in $(seq 100); do grep -q "subscribed to vigil/fleet/model" "$d/vigil.log" 2>/dev/null && break; sleep 0.1; done
  echo "== $gw: mosquitto 127.0.0.1:$port (bridged to central), vigil run (log $d/vigil.log, http://127.0.0.1:${HTTP[$gw]}/api/status) =="
  echo "   simulating $DAYS days of ${MACHINES[$i]} ..."
  "$VIGIL" simulate --config "$d/vigil.toml" --data-dir "$d/simulator" --days "$DAYS" --interval 60 \
    --seed $((21 + i)) --machine-ids "${MACHINES[$i]}" >"$d/simulate.log" 2>&1 \
    || { echo "vigil simulate failed: $d/simulate.log" >&2; exit 1; }
  i=$((i + 1))
done

echo "== waiting until both gateways have published and uploaded their lake =="
for gw in gw-a gw-b; do
  for _ in $(seq 600); do
    b=$(metric "${HTTP[$gw]}" vigil_upload_backlog_segments || true)
    o=$(curl -sf "http://127.0.0.1:${HTTP[$gw]}/api/status" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["open_segments"])' || echo 1)
    [ "$b" = "0" ] && [ "$o" = "0" ] && break
    sleep 0.5
  done
  sleep 2
  echo "   $gw: $(metric "${HTTP[$gw]}" vigil_upload_objects_total) objects uploaded, backlog $(metric "${HTTP[$gw]}" vigil_upload_backlog_segments)"
done
"$PY" - "$S3_PORT" "$BUCKET" "$PREFIX" <<'EOF'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[2], Prefix=sys.argv[3] + "/raw/")
        for o in p.get("Contents", [])]
print(f"   the bucket holds {len(keys)} raw segments, e.g.\n     " + "\n     ".join(sorted(keys)[:1] + sorted(keys)[-1:]))
EOF

echo "== fleet features on Dask (2 local workers): fleet/fleet_features.py -> $DATA/fleet.db =="
T0=$(date +%s.%N)
"$PY" fleet/fleet_features.py --config "$DATA/gw-a/vigil.toml" --out "$DATA/fleet.db" --workers 2 2>&1 \
  | grep -v "^$" | tail -n 5
T1=$(date +%s.%N)
echo "   $(sqlite3 "$DATA/fleet.db" "SELECT count(*) || ' rows, ' || count(DISTINCT machine_id) || ' machines of ' || count(DISTINCT gateway_id) || ' gateways' FROM features") ($("$PY" -c "print(f'{$T1 - $T0:.1f}')") s)"

echo "== fleet model on xgboost.dask: fleet/fleet_train.py --announce 127.0.0.1:$CENTRAL =="
"$PY" fleet/fleet_train.py --config "$DATA/gw-a/vigil.toml" --features "$DATA/fleet.db" --workers 1 \
  --announce "127.0.0.1:$CENTRAL" 2>&1 | grep -v "^$" | tail -n 8

echo "== the model comes back: retained on the central broker, bridged to each gateway, pulled by vigil run =="
FAILED=0
for gw in gw-a gw-b; do
  st=""
  for _ in $(seq 240); do
    st=$(fleet_status "${HTTP[$gw]}" || true)
    case $st in 1\ done*) break;; esac
    sleep 0.5
  done
  echo "   $gw: /api/status fleet: $st"
  grep -h "fleet model .* registered as model" "$DATA/$gw/vigil.log" | tail -n 1 | sed 's/^/     log: /' || true
  sqlite3 "$DATA/$gw/vigil/vigil.db" "SELECT '     models: ' || group_concat(id || ' ' || status || ' ' || coalesce(json_extract(params, '$.fleet_id'), 'own'), '; ') FROM models" || true
  case $st in 1\ done*) ;; *) FAILED=1;; esac
done
echo
echo "== where things are =="
echo "   bucket files:          $DATA/s3/$BUCKET/$PREFIX/{raw,models}"
echo "   fleet features:        $DATA/fleet.db"
echo "   gateways:              $DATA/gw-{a,b}/ (vigil.toml, vigil/ data dir, vigil.log, mosquitto.conf with the bridge)"
echo "   the announcement:      mosquitto_sub -p $CENTRAL -t vigil/fleet/model -C 1 -v"
if [ "$FAILED" -ne 0 ]; then
  echo "fleet-demo.sh: a gateway did not register the fleet model; see its vigil.log" >&2
  exit 1
fi
echo "fleet demo: both gateways registered the fleet model and decided by their own rule"
if [ "$KEEP" -eq 1 ]; then
  echo "running; Ctrl-C stops"
  wait "${PIDS[0]}"
fi
