#!/usr/bin/env bash
# Fleet feature benchmark: fleet/fleet_features.py (Dask, local cluster of 1 and of 2
# workers, reading the lake from a local s3rver) against one gateway's `vigil process` on
# the same rows, measured in the same run. The lake is bench/gen_lake.awk's (M machines,
# vibration + temperature every second, duplicates, late lines, failures); `vigil upload`
# puts it in the bucket first (not timed). Rates are readings (lake lines) per second,
# from start to finish of each command (the Dask runs include the cluster's start-up and
# the bucket listing, vigil process its SQLite writes); every run's feature rows are
# counted (they must agree).
#
# usage: bench/fleet.sh [-n READINGS (default 400000)] [-m MACHINES (default 20)] [-w WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=400000 M=20 WORK=${TMPDIR:-/tmp}/vigil-bench-fleet
while getopts "n:m:w:" o; do case $o in n) N=$OPTARG;; m) M=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,12p' "$0"; exit 2;; esac; done
SECS=$((N / M / 2))
# VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
fi
VIGIL=${VIGIL:-build-bench/vigil}
PY=${PYTHON:-/usr/bin/python3}  # Debian's, with python3-dask, -boto3
S3RVER=tests/tools/node/node_modules/.bin/s3rver
[ -x "$S3RVER" ] || { echo "bench/fleet.sh: run scripts/install-deps.sh (s3rver)" >&2; exit 2; }
rm -rf "$WORK" && mkdir -p "$WORK/data/lake/raw"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$S3RVER" -d "$WORK/s3" -a 127.0.0.1 -p "$PORT" --silent --configure-bucket bench >"$WORK/s3rver.log" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

awk -v DIR="$WORK/data/lake/raw" -v M="$M" -v START=0 -v SECS="$SECS" -v TAG=a -f bench/gen_lake.awk
LINES=$(find "$WORK/data/lake/raw" -name '*.jsonl' -exec cat {} + | wc -l)
SIZE=$(du -sm "$WORK/data/lake/raw" | cut -f1)
cat >"$WORK/vigil.toml" <<TOML
[upload]
bucket = "bench"
endpoint = "http://127.0.0.1:$PORT"
gateway_id = "gw-bench"
prefix = "fleet"
TOML
export VIGIL_S3_ACCESS_KEY_ID=S3RVER VIGIL_S3_SECRET_ACCESS_KEY=S3RVER AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
# Upload first (vigil upload queues the published raw segments), then process: the lake is
# the same for both, and the processor's archive step does not change what was uploaded.
"$VIGIL" upload --config "$WORK/vigil.toml" --data-dir "$WORK/data" --log-level warn >"$WORK/upload.log" 2>&1
t() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }; read -r secs kb <"$WORK/time"; echo "$secs $((kb / 1024))"; }
read -r v_s v_mb < <(t "$VIGIL" process --config "$WORK/vigil.toml" --data-dir "$WORK/data" --log-level warn)
v_rows=$(sqlite3 "$WORK/data/vigil.db" 'SELECT count(*) FROM features')
read -r d1_s d1_mb < <(t "$PY" fleet/fleet_features.py --config "$WORK/vigil.toml" --out "$WORK/fleet1.db" --workers 1)
d1_rows=$(sqlite3 "$WORK/fleet1.db" 'SELECT count(*) FROM features')
read -r d2_s d2_mb < <(t "$PY" fleet/fleet_features.py --config "$WORK/vigil.toml" --out "$WORK/fleet2.db" --workers 2)
d2_rows=$(sqlite3 "$WORK/fleet2.db" 'SELECT count(*) FROM features')
OUT=bench/results/fleet-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/fleet.sh -n $N -m $M: $LINES lake lines ($SIZE MB), $M machines; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "%-34s %9s %12s %16s %8s %s\n" run seconds lines/s "x vigil process" "RSS MB" rows
  printf "%-34s %9s %12.0f %16.2f %8s %s\n" "vigil process (1 gateway)" "$v_s" "$(echo "$LINES / $v_s" | bc -l)" 1 "$v_mb" "$v_rows"
  printf "%-34s %9s %12.0f %16.3f %8s %s\n" "fleet_features.py, 1 Dask worker" "$d1_s" "$(echo "$LINES / $d1_s" | bc -l)" "$(echo "$v_s / $d1_s" | bc -l)" "$d1_mb" "$d1_rows"
  printf "%-34s %9s %12.0f %16.3f %8s %s\n" "fleet_features.py, 2 Dask workers" "$d2_s" "$(echo "$LINES / $d2_s" | bc -l)" "$(echo "$v_s / $d2_s" | bc -l)" "$d2_mb" "$d2_rows"
  echo "2 workers / 1 worker: $(echo "$d1_s / $d2_s" | bc -l | cut -c1-5)x; RSS is the client process only (workers are separate processes)"
  [ "$v_rows" = "$d1_rows" ] && [ "$v_rows" = "$d2_rows" ] && echo "rows agree: $v_rows" || echo "ROWS DIFFER: vigil $v_rows, dask $d1_rows / $d2_rows"
} | tee "$OUT"
