#!/usr/bin/env bash
# Small-files benchmark of the processor: `vigil process` from scratch on the same lines
# (bench/gen_lake.awk: 100 machines, vibration + temperature every second, duplicates, late
# lines, failures) laid out two ways, in the same run:
#   few files:   one segment per (date, machine, sensor)         (the baseline)
#   small files: one segment per stream per 5 minutes (300 lines), what live ingest
#                publishes with the default lake.segment_max_age
# Target: the small-files run within 1.2x the time of the few-files run, with the same
# features table (compared row by row), and after processing a few archive files per
# (date, machine) (compaction).
#
# usage: bench/process_smallfiles.sh [-n READINGS] [-l LINES_PER_SEGMENT] [-w WORK_DIR]
#   defaults: 2,000,000 readings, 300 lines a small segment
#   VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=2000000 L=300 WORK=${TMPDIR:-/tmp}/vigil-bench-smallfiles
while getopts "n:l:w:" o; do case $o in n) N=$OPTARG;; l) L=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,14p' "$0"; exit 2;; esac; done
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
  VIGIL=$ROOT/build-bench/vigil
fi
M=100; SECS=$((N / M / 2))
rm -rf "$WORK"; mkdir -p "$WORK/few/lake/raw"
awk -v DIR="$WORK/few/lake/raw" -v M=$M -v START=0 -v SECS=$SECS -v TAG=a -f bench/gen_lake.awk
cp -r "$WORK/few" "$WORK/small"
find "$WORK/small/lake/raw" -name '*.jsonl' | while read -r f; do
  split -l "$L" -d -a 6 --additional-suffix=.jsonl "$f" "${f%.jsonl}-" && rm "$f"
done
# Both lakes on disk before the timed runs, as published segments are (bench/process.sh): the
# small-files run's compaction ends in a syncfs, which would otherwise write the generator's
# files of both lakes inside vigil's time (and the few-files run, which only renames, none).
sync
LINES=$(find "$WORK/few/lake/raw" -name '*.jsonl' -exec cat {} + | wc -l)
run() {  # label
  local files; files=$(find "$WORK/$1/lake/raw" -name '*.jsonl' | wc -l)
  /usr/bin/time -f "%e %M" -o "$WORK/t-$1" "$VIGIL" process --data-dir "$WORK/$1" --log-level warn > /dev/null 2>&1
  read -r secs kb < "$WORK/t-$1"
  sqlite3 "$WORK/$1/vigil.db" 'SELECT * FROM features ORDER BY machine_id, window_start_ms' | md5sum | cut -c1-12 > "$WORK/sum-$1"
  local parts archived
  parts=$(find "$WORK/$1/lake/archive" -mindepth 2 -maxdepth 2 -type d | wc -l)
  archived=$(find "$WORK/$1/lake/archive" -type f -name '*.jsonl' | wc -l)
  echo "$secs $((kb / 1024)) $files $archived $parts $(cat "$WORK/sum-$1")"
}
read -r f_s f_mb f_files f_arch f_parts f_sum < <(run few)
read -r s_s s_mb s_files s_arch s_parts s_sum < <(run small)
OUT=bench/results/process-smallfiles-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/process_smallfiles.sh -n $N -l $L: $LINES lake lines, $M machines; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "%-24s %8s %10s %10s %8s %10s %14s %s\n" lake seconds lines/s "time x few" "RSS MB" "raw files" "archive files" "features md5"
  printf "%-24s %8s %10.0f %10.2f %8s %10s %14s %s\n" "few files (baseline)" "$f_s" "$(echo "$LINES / $f_s" | bc -l)" 1 "$f_mb" "$f_files" "$f_arch/$f_parts parts" "$f_sum"
  printf "%-24s %8s %10.0f %10.2f %8s %10s %14s %s\n" "small files ($L lines)" "$s_s" "$(echo "$LINES / $s_s" | bc -l)" "$(echo "$s_s / $f_s" | bc -l)" "$s_mb" "$s_files" "$s_arch/$s_parts parts" "$s_sum"
  [ "$f_sum" = "$s_sum" ] && echo "features equal: yes" || echo "features equal: NO"
} | tee "$OUT"
rm -rf "$WORK"
