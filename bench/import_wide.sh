#!/usr/bin/env bash
# Wide-plant import benchmark: NASA C-MAPSS FD001 (../shared/data/cmapss-fd001: 100 engines
# x 24 channels = 495,144 readings; one cycle = one hour from 2025-01-01) as the contract's
# long CSV, twice in the same run:
#   time-ordered:    every channel of every engine at cycle t, then t+1 (a historian export)
#   machine-ordered: every cycle of engine 1, then engine 2 (the baseline)
# `vigil import` of each into a fresh data dir. Reports rows/s, the ratio time-ordered /
# machine-ordered (target >= 0.8), the files left in the lake against the (date, machine,
# sensor) streams in the data (target: no more), and peak RSS.
#
# usage: bench/import_wide.sh [-w WORK_DIR] [-r REPEAT]
#   REPEAT (default 1) concatenates the data REPEAT times, each copy a new fleet of engines.
#   VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${TMPDIR:-/tmp}/vigil-bench-import-wide REPEAT=1
while getopts "w:r:" o; do case $o in w) WORK=$OPTARG;; r) REPEAT=$OPTARG;; *) sed -n '2,14p' "$0"; exit 2;; esac; done
SRC=${VIGIL_SHARED:-$ROOT/../shared}/data/cmapss-fd001/train_FD001.txt
[ -f "$SRC" ] || { echo "bench/import_wide.sh: $SRC not found (../shared beside the clone)" >&2; exit 1; }
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
  VIGIL=$ROOT/build-bench/vigil
fi
rm -rf "$WORK"; mkdir -p "$WORK"

# 24 channels: the 3 operational settings and the 21 sensors, each a configured sensor.
NAMES="op1 op2 op3 $(seq -f 's%02g' 1 21 | tr '\n' ' ')"
{
  for n in $NAMES; do printf '[[sensors]]\nname = "%s"\nfield = "%s"\nmin = -1e9\nmax = 1e9\n\n' "$n" "$n"; done
  printf '[[features]]\nname = "s02_mean_5h"\nsensor = "s02"\naggregate = "mean"\nduration = "5h"\n'
} > "$WORK/cmapss.toml"

# unit cycle op1..op3 s1..s21 -> machine_id,timestamp_utc,sensor,value (one row per channel;
# the shared conversion, bench/cmapss_long.awk), copy r's engines named ENG-r-<unit>.
for r in $(seq "$REPEAT"); do awk -v NAMES="$NAMES" -v ID="ENG-$r" -f bench/cmapss_long.awk "$SRC"; done > "$WORK/body.csv"
{ echo "machine_id,timestamp_utc,sensor,value"; cat "$WORK/body.csv"; } > "$WORK/machine.csv"
# Time order: by timestamp, then machine (the sensors of one machine stay together).
{ echo "machine_id,timestamp_utc,sensor,value"; sort -t, -s -k2,2 "$WORK/body.csv"; } > "$WORK/time.csv"
ROWS=$(($(wc -l < "$WORK/machine.csv") - 1))
STREAMS=$(awk -F, '{ print substr($2, 1, 10) "," $1 "," $3 }' "$WORK/body.csv" | sort -u | wc -l)
rm "$WORK/body.csv"

run() {  # label csv
  /usr/bin/time -f "%e %M" -o "$WORK/t-$1" "$VIGIL" import --config "$WORK/cmapss.toml" --data-dir "$WORK/$1" \
    --log-level warn "$2" > /dev/null 2> "$WORK/err-$1" || { cat "$WORK/err-$1"; exit 1; }
  read -r secs kb < "$WORK/t-$1"
  files=$(find "$WORK/$1/lake" -type f | wc -l)
  lines=$(find "$WORK/$1/lake/raw" -name '*.jsonl' -exec cat {} + | wc -l)
  echo "$secs $((kb / 1024)) $files $lines"
}
# A warm-up import first (page cache, directory caches), then each order in turn.
run warmup "$WORK/time.csv" > /dev/null; rm -rf "$WORK/warmup"
read -r m_s m_mb m_files m_lines < <(run machine "$WORK/machine.csv")
read -r t_s t_mb t_files t_lines < <(run time "$WORK/time.csv")
OUT=bench/results/import-wide-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/import_wide.sh -r $REPEAT: C-MAPSS FD001 x$REPEAT, $ROWS rows, $STREAMS (date, machine, sensor) streams; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "%-26s %8s %10s %12s %8s %12s %10s\n" order seconds rows/s "x machine" "RSS MB" "lake files" "lake lines"
  printf "%-26s %8s %10.0f %12.2f %8s %12s %10s\n" "machine-ordered (baseline)" "$m_s" "$(echo "$ROWS / $m_s" | bc -l)" 1 "$m_mb" "$m_files" "$m_lines"
  printf "%-26s %8s %10.0f %12.2f %8s %12s %10s\n" "time-ordered" "$t_s" "$(echo "$ROWS / $t_s" | bc -l)" "$(echo "$m_s / $t_s" | bc -l)" "$t_mb" "$t_files" "$t_lines"
  [ "$t_lines" = "$ROWS" ] && [ "$m_lines" = "$ROWS" ] || echo "MISMATCH: lake lines differ from rows"
  [ "$t_files" -le "$STREAMS" ] && [ "$m_files" -le "$STREAMS" ] && echo "files <= streams: yes" || echo "files <= streams: NO"
} | tee "$OUT"
rm -rf "$WORK"
