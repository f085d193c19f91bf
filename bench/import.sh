#!/usr/bin/env bash
# Import benchmark: `vigil import` of a generated long-format CSV of SIZE_MB (default
# 1024: the issue's 1 GB), rows/s and peak RSS (it must stay flat: files are streamed),
# measured in the same run as `sqlite3 .import` of the same file into an on-disk table.
# usage: bench/import.sh [-s SIZE_MB] [-w WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=1024 WORK=${TMPDIR:-/tmp}/vigil-bench-import
while getopts "s:w:" o; do case $o in s) SIZE=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,6p' "$0"; exit 2;; esac; done
# VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
fi
VIGIL=${VIGIL:-build-bench/vigil}
rm -rf "$WORK"; mkdir -p "$WORK"
ROWS=$((SIZE * 1024 * 1024 / 48))  # ~48 bytes a row
awk -v N=$ROWS 'BEGIN { print "machine_id,timestamp_utc,sensor,value"; srand(1)
  for (i = 0; i < N; i++) { s = int(i / 100); printf "M%03d,2025-10-%02dT%02d:%02d:%02d.%03dZ,%s,%.2f\n", i % 100,
    15 + int(s / 86400), int(s % 86400 / 3600), int(s % 3600 / 60), s % 60, i % 1000, (i % 2 ? "vibration" : "temperature"), 50 * rand() } }' > "$WORK/h.csv"
BYTES=$(stat -c %s "$WORK/h.csv")
/usr/bin/time -f "%e %M" -o "$WORK/t1" "$VIGIL" import --data-dir "$WORK/data" --log-level warn "$WORK/h.csv" 2>/dev/null || true
/usr/bin/time -f "%e %M" -o "$WORK/t2" sqlite3 "$WORK/base.db" ".mode csv" ".import $WORK/h.csv h" >/dev/null
read -r vs vkb < "$WORK/t1"; read -r bs bkb < "$WORK/t2"
OUT=bench/results/import-$(date -u +%Y%m%dT%H%M%SZ).txt; mkdir -p bench/results
{
  echo "# bench/import.sh -s $SIZE: $((BYTES / 1048576)) MB CSV, $ROWS rows; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "%-26s %8s %12s %10s %8s\n" run seconds rows/s "x sqlite3" "RSS MB"
  printf "%-26s %8s %12.0f %10.2f %8d\n" "sqlite3 .import (csv)" "$bs" "$(echo "$ROWS / $bs" | bc -l)" 1 $((bkb / 1024))
  printf "%-26s %8s %12.0f %10.2f %8d\n" "vigil import (validated)" "$vs" "$(echo "$ROWS / $vs" | bc -l)" "$(echo "$bs / $vs" | bc -l)" $((vkb / 1024))
} | tee "$OUT"
rm -rf "$WORK"
