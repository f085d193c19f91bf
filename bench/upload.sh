#!/usr/bin/env bash
# Upload benchmark: `vigil upload` of a generated raw lake of SIZE_MB (default 256) in
# FILES segments (default 64) to a local s3rver (tests/tools/node, loopback), MB/s and
# client CPU seconds per GB, measured in the same run as `s3cmd put --recursive` (Debian's
# s3cmd) of the same files to the same server. The server is the same for both, so the
# ratio compares the clients; s3rver (node, writes every object to disk) bounds MB/s.
# usage: bench/upload.sh [-s SIZE_MB] [-f FILES] [-w WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=256 FILES=64 WORK=${TMPDIR:-/tmp}/vigil-bench-upload
while getopts "s:f:w:" o; do case $o in s) SIZE=$OPTARG;; f) FILES=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,7p' "$0"; exit 2;; esac; done
# VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
  VIGIL=build-bench/vigil
fi
command -v s3cmd >/dev/null || { echo "bench/upload.sh: s3cmd is needed (apt-get install s3cmd)" >&2; exit 2; }
S3RVER=tests/tools/node/node_modules/.bin/s3rver
[ -x "$S3RVER" ] || { echo "bench/upload.sh: run scripts/install-deps.sh (s3rver)" >&2; exit 2; }
rm -rf "$WORK" && mkdir -p "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$S3RVER" -d "$WORK/s3" -a 127.0.0.1 -p "$PORT" --silent --configure-bucket bench >"$WORK/s3rver.log" 2>&1 &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

# A raw lake of FILES segments, lake lines as vigil writes them.
python3 - "$WORK/data/lake/raw" "$SIZE" "$FILES" <<'PY'
import os, sys
root, size_mb, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per = size_mb * 1024 * 1024 // files
for i in range(files):
    d = f"{root}/date=2026-01-{1 + i % 28:02d}/machine_id=PUMP-{i:03d}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/vibration-1767225600000-{i + 1:06d}.jsonl", "w") as f:
        n, t = 0, 1767225600000
        while n < per:
            line = ('{"topic":"industrial/machine/PUMP-%03d/telemetry/vibration","received_at":"2026-01-01T00:00:00.000Z",'
                    '"payload":{"machine_id":"PUMP-%03d","timestamp_utc":"2026-01-01T00:00:00.000Z","vibration_rms":%.2f}}\n'
                    % (i, i, (t % 997) / 100))
            f.write(line)
            n += len(line)
            t += 1000
PY
BYTES=$(du -sb "$WORK/data/lake/raw" | cut -f1)
cat >"$WORK/vigil.toml" <<TOML
[upload]
bucket = "bench"
endpoint = "http://127.0.0.1:$PORT"
gateway_id = "bench"
prefix = "vigil"
TOML
cat >"$WORK/s3cfg" <<CFG
[default]
access_key = S3RVER
secret_key = S3RVER
host_base = 127.0.0.1:$PORT
host_bucket = 127.0.0.1:$PORT
use_https = False
signature_v2 = False
bucket_location = us-east-1
CFG
measure() {  # label, command...: prints "label seconds user+sys"
  local label=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$@" >"$WORK/$label.log" 2>&1
  read -r e u s <"$WORK/time"
  echo "$label $e $(echo "$u $s" | awk '{print $1 + $2}')"
}
V=$(VIGIL_S3_ACCESS_KEY_ID=S3RVER VIGIL_S3_SECRET_ACCESS_KEY=S3RVER measure vigil "$VIGIL" upload --config "$WORK/vigil.toml" --data-dir "$WORK/data")
C=$(measure s3cmd s3cmd -c "$WORK/s3cfg" --no-progress put --recursive "$WORK/data/lake/raw/" s3://bench/s3cmd/)
N=$(find "$WORK/s3/bench" -name '*._S3rver_object' | wc -l)
[ "$N" -eq $((2 * FILES)) ] || { echo "bench/upload.sh: $N objects in the bucket, want $((2 * FILES))" >&2; exit 1; }
echo "# bench/upload.sh -s $SIZE -f $FILES ($(date -u +%F)): $BYTES bytes in $FILES segments; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-8s %8s %8s %10s %12s\n" client seconds MB/s cpu_s "cpu_s/GB"
for r in "$V" "$C"; do
  read -r l e cpu <<<"$r"
  echo "$l $e $cpu $BYTES" | awk '{printf "%-8s %8.2f %8.1f %10.2f %12.2f\n", $1, $2, $4/1e6/$2, $3, $3/($4/1e9)}'
done
read -r _ ve vc <<<"$V"; read -r _ ce cc <<<"$C"
echo "$ve $vc $ce $cc" | awk '{printf "vigil/s3cmd: %.2fx the throughput, %.2fx the CPU per GB\n", $3/$1, $2/$4}'
