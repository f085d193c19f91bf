#!/usr/bin/env bash
# History independence of the scheduled batch: the cost of a batch must follow its new data,
# not the history behind it. Two data directories, in the same run: M machines (vibration +
# temperature every second, bench/gen_lake.awk) with SHORT hours of history already
# processed, and with LONG hours; then the same three batches of 5 minutes of new data in
# each (with the generator's 2% duplicates and 1% late lines up to an hour back), each run
# as one `vigil process`; then a fourth batch that also brings a failure on every 7th
# machine (each failure labels the rows of the horizon before it: rows it truly changes,
# as many as the history holds up to the horizon, so it is reported apart). Measured: the
# processor's batch (its start to its commit, as recorded in the batches table), and the
# whole command (which also runs the model stage's scoring).
# Target: the median batch with LONG hours of history takes at most 1.5x the median batch
# with SHORT hours.
#
# usage: bench/process_history.sh [-m MACHINES] [-s SHORT_H] [-l LONG_H] [-w WORK_DIR]
#   defaults: 100 machines, 1 h and 26 h (the longest default feature is 24 h)
#   VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
M=100 SHORT=1 LONG=26 WORK=${TMPDIR:-/tmp}/vigil-bench-history
while getopts "m:s:l:w:" o; do case $o in m) M=$OPTARG;; s) SHORT=$OPTARG;; l) LONG=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,12p' "$0"; exit 2;; esac; done
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
  VIGIL=$ROOT/build-bench/vigil
fi
rm -rf "$WORK"; mkdir -p "$WORK"
timed() {  # label dir -> "seconds maxrss_mb rows_written batch_seconds"
  local before; before=$(sqlite3 "$2/vigil.db" 'SELECT coalesce(max(id), 0) FROM batches' 2>/dev/null || echo 0)
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$VIGIL" process --data-dir "$2" --log-level warn > "$WORK/out" 2>&1 ||
    { cat "$WORK/out"; exit 1; }
  read -r secs kb < "$WORK/t"
  echo "$secs $((kb / 1024)) $(sqlite3 "$2/vigil.db" "SELECT sum(rows), round(sum(finished_ms - started_ms) / 1000.0, 3) FROM batches WHERE id > ${before:-0}" | tr '|' ' ')"
}
declare -A hist_s
for h in "$SHORT" "$LONG"; do
  d=$WORK/h$h; mkdir -p "$d/lake/raw"
  awk -v DIR="$d/lake/raw" -v M="$M" -v START=0 -v SECS=$((h * 3600)) -v TAG=a -f bench/gen_lake.awk
  sync  # on disk before the timed run, as published segments are (bench/process.sh)
  read -r s mb rows bs < <(timed history "$d")
  hist_s[$h]="$s s, $mb MB, $(find "$d/lake/archive" -name '*.jsonl' -exec cat {} + | wc -l) lines"
done
# The same new data for both, interleaved: batch b of SHORT, then batch b of LONG. The new
# data starts where each history ends (so that it is new), with the same generator seed.
declare -A t tb
for b in 1 2 3 4; do
  for h in "$SHORT" "$LONG"; do
    d=$WORK/h$h start=$((h * 3600 + (b - 1) * 300))
    awk -v DIR="$d/lake/raw" -v M="$M" -v START=$start -v SECS=300 -v TAG=b$b -v LATE_FROM=$((start - 3600)) \
      -v FAILURES=$((b == 4)) -f bench/gen_lake.awk
    sync
    read -r s mb rows bs < <(timed batch "$d")
    t[$h,$b]=$s tb[$h,$b]=$bs; echo "batch $b, ${h} h of history: processor $bs s, command $s s, $mb MB, $rows rows written" >&2
  done
done
med() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ms=$(med "${tb[$SHORT,1]}" "${tb[$SHORT,2]}" "${tb[$SHORT,3]}") ml=$(med "${tb[$LONG,1]}" "${tb[$LONG,2]}" "${tb[$LONG,3]}")
cs=$(med "${t[$SHORT,1]}" "${t[$SHORT,2]}" "${t[$SHORT,3]}") cl=$(med "${t[$LONG,1]}" "${t[$LONG,2]}" "${t[$LONG,3]}")
OUT=bench/results/process-history-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/process_history.sh: $M machines x 2 sensors at 1 s; 3 batches of 5 min (+dups, late lines), a 4th with failures; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "history ${SHORT} h processed from scratch: ${hist_s[$SHORT]}"
  echo "history ${LONG} h processed from scratch: ${hist_s[$LONG]}"
  printf "%-30s %8s %8s %8s %8s\n" "seconds, history" batch1 batch2 batch3 median
  printf "%-30s %8s %8s %8s %8s\n" "processor batch, ${SHORT} h" "${tb[$SHORT,1]}" "${tb[$SHORT,2]}" "${tb[$SHORT,3]}" "$ms"
  printf "%-30s %8s %8s %8s %8s\n" "processor batch, ${LONG} h" "${tb[$LONG,1]}" "${tb[$LONG,2]}" "${tb[$LONG,3]}" "$ml"
  printf "%-30s %8s %8s %8s %8s\n" "vigil process, ${SHORT} h" "${t[$SHORT,1]}" "${t[$SHORT,2]}" "${t[$SHORT,3]}" "$cs"
  printf "%-30s %8s %8s %8s %8s\n" "vigil process, ${LONG} h" "${t[$LONG,1]}" "${t[$LONG,2]}" "${t[$LONG,3]}" "$cl"
  printf "%-30s %8s %8s\n" "batch 4 (+$((M / 7)) failures)" "${SHORT} h" "${LONG} h"
  printf "%-30s %8s %8s\n" "processor batch" "${tb[$SHORT,4]}" "${tb[$LONG,4]}"
  printf "%-30s %8s %8s\n" "vigil process" "${t[$SHORT,4]}" "${t[$LONG,4]}"
  printf "processor batch ratio, %s h / %s h of history: %.2f (target <= 1.5)\n" "$LONG" "$SHORT" "$(echo "$ml / $ms" | bc -l)"
  printf "whole command ratio (with scoring), %s h / %s h: %.2f\n" "$LONG" "$SHORT" "$(echo "$cl / $cs" | bc -l)"
  printf "batch with failures, processor ratio %s h / %s h: %.2f\n" "$LONG" "$SHORT" "$(echo "${tb[$LONG,4]} / ${tb[$SHORT,4]}" | bc -l)"
} | tee "$OUT"
