#!/usr/bin/env bash
# An archive of many small files (months of 5-minute batches: about 58,000 files a day for
# 100 machines x 2 sensors), against the same on a tenth of them: the peak RSS of vigil
# reprocess and of retention (lake::TrimArea, what vigil run does every retention.interval;
# bench/retention_rss.cc, built here against src/) must not grow with the number of files,
# nor reprocess's time per file. Each file holds 4 readings of one machine (the lines of
# gen_lake.awk's format).
#
# usage: bench/reprocess_files.sh [-f FILES] [-w WORK_DIR]   (default 500,000 files)
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=500000 WORK=${TMPDIR:-/tmp}/vigil-bench-reprocess-files
while getopts "f:w:" o; do case $o in f) FILES=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,9p' "$0"; exit 2;; esac; done
# VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
fi
VIGIL=${VIGIL:-build-bench/vigil}
M=100
gen() {  # gen DIR FILES: FILES / M / 250 days of 250 files per machine
  local days=$(( $2 / M / 250 ))
  mkdir -p "$1/lake/archive"
  awk -v DIR="$1/lake/archive" -v M=$M -v D="$days" 'BEGIN {
    for (d = 0; d < D; d++) for (m = 0; m < M; m++) {
      date = sprintf("2025-%02d-%02d", 1 + int(d / 28), 1 + d % 28); id = sprintf("M%03d", m)
      dir = DIR "/date=" date "/machine_id=" id; system("mkdir -p " dir)
      for (k = 0; k < 250; k++) {
        f = sprintf("%s/%.0f-%d.all.jsonl", dir, 1700000000000 + (d * 250 + k) * 345000, k)
        for (j = 0; j < 4; j++) {
          s = k * 345 + j; ts = sprintf("%sT%02d:%02d:%02d.000Z", date, int(s / 3600), int(s / 60) % 60, s % 60)
          printf "{\"received_at\":\"%s\",\"topic\":\"industrial/machine/%s/telemetry/vibration\",\"payload\":{\"machine_id\":\"%s\",\"timestamp_utc\":\"%s\",\"vibration_rms\":%.2f}}\n", ts, id, id, ts, (k + j) % 7 + 0.5 > f
        }
        close(f)
      }
    }
  }'
  sync
}
t() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }; read -r secs kb < "$WORK/time"; echo "$secs $((kb / 1024))"; }
rm -rf "$WORK"; mkdir -p "$WORK"
gen "$WORK/small" $((FILES / 10))
gen "$WORK/large" "$FILES"
n_small=$(find "$WORK/small/lake/archive" -name '*.jsonl' | wc -l)
n_large=$(find "$WORK/large/lake/archive" -name '*.jsonl' | wc -l)
read -r s_s s_mb < <(t "$VIGIL" reprocess --all --data-dir "$WORK/small" --log-level warn)
read -r l_s l_mb < <(t "$VIGIL" reprocess --all --data-dir "$WORK/large" --log-level warn)
consumed=$(sqlite3 "$WORK/large/vigil.db" 'SELECT count(*) FROM consumed_segments')
g++ -std=c++20 -O2 -Isrc -Iinclude bench/retention_rss.cc src/lake/retention.cc src/common/timestamp.cc src/lake/paths.cc \
  -o "$WORK/retention_rss"
trim() {  # trim LAKE MAX_AGE_MS MAX_BYTES: peak RSS in MB, on a hard-linked copy of its archive
  rm -rf "$WORK/trimmed"; cp -al "$1/lake/archive" "$WORK/trimmed"
  read -r _ _ kb < <("$WORK/retention_rss" "$WORK/trimmed" "$2" "$3"); echo $((kb / 1024))
}
r_s=$(trim "$WORK/small" 0 0) r_l=$(trim "$WORK/large" 0 0)  # vigil run's default: measure only
b_s=$(trim "$WORK/small" 0 $((n_small * 200))) b_l=$(trim "$WORK/large" 0 $((n_large * 200)))  # a quarter stays
OUT=bench/results/reprocess-files-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/reprocess_files.sh -f $FILES: $n_small and $n_large archive files; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "%-26s %9s %8s %9s %12s\n" run files seconds "RSS MB" "us / file"
  printf "%-26s %9s %8s %9s %12.1f\n" "reprocess (a tenth)" "$n_small" "$s_s" "$s_mb" "$(echo "$s_s * 1000000 / $n_small" | bc -l)"
  printf "%-26s %9s %8s %9s %12.1f\n" "reprocess (all)" "$n_large" "$l_s" "$l_mb" "$(echo "$l_s * 1000000 / $n_large" | bc -l)"
  printf "ratios all/tenth: RSS %.2f, time per file %.2f; consumed_segments rows after: %s\n" "$(echo "$l_mb / $s_mb" | bc -l)" \
    "$(echo "($l_s / $n_large) / ($s_s / $n_small)" | bc -l)" "$consumed"
  echo "retention peak RSS MB (a tenth / all): measuring $r_s / $r_l, trimming to a quarter by size $b_s / $b_l"
} | tee "$OUT"
