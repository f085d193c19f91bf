#!/usr/bin/env bash
# Peak memory of `vigil process`, whatever the segment size and failure count: one raw
# segment of SIZE MiB (one machine's vibration, a reading every 13 ms over a day), plus
# M machines with an hour of readings each and a failure event on every one of them. Peak
# RSS is compared with the same processor on a small lake (one hour of the M machines, no
# big segment) in the same run. Target: peak RSS <= 256 MB.
#
# usage: bench/process_memory.sh [-s SIZE_MIB] [-m MACHINES] [-w WORK_DIR]   (default 1024, 100)
#   VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE=1024 M=100 WORK=${TMPDIR:-/tmp}/vigil-bench-memory
while getopts "s:m:w:" o; do case $o in s) SIZE=$OPTARG;; m) M=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,9p' "$0"; exit 2;; esac; done
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
  VIGIL=$ROOT/build-bench/vigil
fi
rm -rf "$WORK"; mkdir -p "$WORK/small/lake/raw"
# M machines, an hour each, and a failure on every machine (bench/gen_lake.awk puts one on
# every 7th: add the others).
awk -v DIR="$WORK/small/lake/raw" -v M="$M" -v START=0 -v SECS=3600 -v TAG=a -f bench/gen_lake.awk
for i in $(seq 1 "$M"); do
  id=$(printf 'M%03d' "$i"); f=$WORK/small/lake/raw/date=2025-10-15/machine_id=$id/failure-z.jsonl
  echo "{\"received_at\":\"2025-10-15T00:59:00.000Z\",\"topic\":\"industrial/machine/$id/event/failure\",\"payload\":{\"machine_id\":\"$id\",\"timestamp_utc\":\"2025-10-15T00:59:00.000Z\",\"codigo_evento\":\"FALHA\"}}" > "$f"
done
cp -r "$WORK/small" "$WORK/big"
big=$WORK/big/lake/raw/date=2025-10-15/machine_id=BIG001; mkdir -p "$big"
awk -v BYTES=$((SIZE * 1048576)) 'BEGIN {
  srand(7)
  for (i = 0; bytes < BYTES; i++) {
    t = i * 13; s = int(t / 1000); ms = t % 1000
    ts = sprintf("2025-10-15T%02d:%02d:%02d.%03dZ", int(s / 3600) % 24, int(s / 60) % 60, s % 60, ms)
    line = "{\"received_at\":\"" ts "\",\"topic\":\"industrial/machine/BIG001/telemetry/vibration\",\"payload\":{\"machine_id\":\"BIG001\",\"timestamp_utc\":\"" ts "\",\"vibration_rms\":" sprintf("%.3f", 10 * rand()) "}}"
    print line; bytes += length(line) + 1
  }
}' > "$big/vibration-big.jsonl"
run() {
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$VIGIL" process --data-dir "$WORK/$1" --log-level warn > "$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
  read -r secs kb < "$WORK/t"; echo "$secs $((kb / 1024))"
}
lines=$(wc -l < "$big/vibration-big.jsonl")  # before the processor archives it
read -r s_small mb_small < <(run small)
read -r s_big mb_big < <(run big)
OUT=bench/results/process-memory-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/process_memory.sh: a ${SIZE} MiB segment ($lines lines) + $M machines with a failure each; $(nproc) cores"
  printf "%-44s %8s %10s\n" run seconds "peak RSS MB"
  printf "%-44s %8s %10s\n" "$M machines, 1 h, a failure each" "$s_small" "$mb_small"
  printf "%-44s %8s %10s\n" "the same + one ${SIZE} MiB segment" "$s_big" "$mb_big"
  echo "features rows: $(sqlite3 "$WORK/big/vigil.db" 'SELECT count(*) FROM features'), labelled 1: $(sqlite3 "$WORK/big/vigil.db" 'SELECT count(*) FROM features WHERE label_failure_7d = 1')"
  printf "peak RSS with the big segment: %s MB (target <= 256), %.2fx the small lake's\n" "$mb_big" "$(echo "$mb_big / $mb_small" | bc -l)"
} | tee "$OUT"
