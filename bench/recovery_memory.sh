#!/usr/bin/env bash
# Peak memory of crash recovery: the lake's log that a killed writer left, SIZE MiB of a
# wide plant's readings (M machines x S sensors, a reading a second each, in time order:
# every line a different stream, so every line has its key line; -m 1 -n 1: one stream as
# large as the log, as lake.segment_max_bytes may allow). Recovery runs at the
# start of `vigil import` (here of a CSV with a header only) and of `vigil run`; its peak
# RSS is compared with the same command on a lake whose log holds one second (M x S lines)
# in the same run. Target: recovering a log takes at most a quarter of its size in memory
# (before 2026-12-06 the log was read whole: more than its size).
#
# usage: bench/recovery_memory.sh [-s SIZE_MIB] [-m MACHINES] [-n SENSORS] [-w WORK_DIR]
#        (default 256 = lake.log_max_bytes's default, 100, 20)
#   VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE=256 M=100 S=20 WORK=${TMPDIR:-/tmp}/vigil-bench-recovery
while getopts "s:m:n:w:" o; do case $o in s) SIZE=$OPTARG;; m) M=$OPTARG;; n) S=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,12p' "$0"; exit 2;; esac; done
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
  VIGIL=$ROOT/build-bench/vigil
fi
rm -rf "$WORK"; mkdir -p "$WORK"
printf 'machine_id,timestamp_utc,sensor,value\n' > "$WORK/empty.csv"

# A log as the writer writes it (lake/segment_log.h): "#<partition>\t<kind>" before a line
# of another stream than the line before.
gen_log() {  # dir bytes
  mkdir -p "$1/lake/.wal"
  awk -v BYTES="$2" -v M="$M" -v S="$S" 'BEGIN {
    srand(7)
    for (t = 0; bytes < BYTES; t++) {
      ts = sprintf("2025-10-15T%02d:%02d:%02d.000Z", int(t / 3600) % 24, int(t / 60) % 60, t % 60)
      for (m = 1; m <= M && bytes < BYTES; m++) {
        id = sprintf("M%03d", m)
        for (s = 1; s <= S && bytes < BYTES; s++) {
          key = "#raw/date=2025-10-15/machine_id=" id "\tch" s
          line = "{\"received_at\":\"" ts "\",\"topic\":\"industrial/machine/" id "/telemetry/ch" s "\",\"payload\":{\"machine_id\":\"" id "\",\"timestamp_utc\":\"" ts "\",\"ch" s "\":" sprintf("%.3f", 100 * rand()) "}}"
          if (key != last) { print key; bytes += length(key) + 1; last = key }
          print line; bytes += length(line) + 1
        }
      }
    }
  }' > "$1/lake/.wal/1760486400000.log"
}
gen_log "$WORK/small" $((M * S * 200))
gen_log "$WORK/big" $((SIZE * 1048576))
sync

run() {  # dir -> "seconds peak_MB"
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$VIGIL" import --data-dir "$WORK/$1" --log-level warn "$WORK/empty.csv" > "$WORK/out" 2>&1 ||
    { cat "$WORK/out"; exit 1; }
  [ ! -e "$WORK/$1/lake/.wal/1760486400000.log" ] || { echo "the log of $1 was not recovered"; exit 1; }
  read -r secs kb < "$WORK/t"; echo "$secs $((kb / 1024))"
}
read -r s_s s_mb <<< "$(run small)"
read -r b_s b_mb <<< "$(run big)"
log_mb=$(( $(du -sb "$WORK/big/lake/raw" | cut -f1) / 1048576 ))
lines=$(cat "$WORK"/big/lake/raw/*/*/*.jsonl | wc -l)

mkdir -p bench/results
out=bench/results/recovery-memory-$(date -u +%Y%m%dT%H%M%SZ).txt
{
  echo "# bench/recovery_memory.sh: a log of $SIZE MiB ($lines readings of $M machines x $S sensors, $log_mb MB once published); $(nproc) cores"
  printf "%-34s %8s %9s\n" "run" "seconds" "peak MB"
  printf "%-34s %8s %9s\n" "log of one second ($((M * S)) lines)" "$s_s" "$s_mb"
  printf "%-34s %8s %9s\n" "log of $SIZE MiB" "$b_s" "$b_mb"
  printf "recovery's own memory: %s MB for a log of %s MiB = %.3f of its size (target <= 0.25)\n" \
    "$((b_mb - s_mb))" "$SIZE" "$(echo "($b_mb - $s_mb) / $SIZE" | bc -l)"
} | tee "$out"
