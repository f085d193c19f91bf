#!/usr/bin/env bash
# C-MAPSS FD001 development screening (train_FD001.txt only; the test files are not read):
# the 100 training engines imported and processed once by vigil with a superset of features
# (14 sensors x mean/std/min/max/slope x 5/10/20/30/50/100/150/200 h), exported, then
# bench/cmapss_dev.py compares candidate feature subsets and parameters by grouped 4-fold
# cross-validation over the engines, scored at the test set's kind of cut points. The
# chosen candidates are then run through vigil itself: bench/cmapss.sh -d FOLD.
#
# usage: bench/cmapss_dev.sh [-w WORK_DIR] CANDIDATE...   (names: bench/cmapss_dev.py)
#   VIGIL=path/to/vigil (default build/vigil). Raw output: bench/results/cmapss-screen-<UTC time>.txt
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${TMPDIR:-/tmp}/vigil-bench-cmapss-dev
while getopts "w:" o; do case $o in w) WORK=$OPTARG;; *) sed -n '2,11p' "$0"; exit 2;; esac; done
shift $((OPTIND - 1))
DATA=${VIGIL_SHARED:-$ROOT/../shared}/data/cmapss-fd001
VIGIL=${VIGIL:-$ROOT/build/vigil}
NAMES="op1 op2 op3 $(seq -f 's%02g' 1 21 | tr '\n' ' ')"
INFORMATIVE='"s02", "s03", "s04", "s07", "s08", "s09", "s11", "s12", "s13", "s14", "s15", "s17", "s20", "s21"'
if [ ! -f "$WORK/train-rows.csv" ]; then  # processed once, reused by later candidates
  rm -rf "$WORK"; mkdir -p "$WORK"
  {
    printf '[processing]\nwindow = "1h"\nlabel_horizon = "30h"\n\n'
    for n in $NAMES; do printf '[[sensors]]\nname = "%s"\nfield = "%s"\nmin = -1e9\nmax = 1e9\n\n' "$n" "$n"; done
    printf '[[feature_templates]]\nsensors = [%s]\naggregates = ["mean", "std", "min", "max", "slope"]\n' "$INFORMATIVE"
    printf 'durations = ["5h", "10h", "20h", "30h", "50h", "100h", "150h", "200h"]\n'
  } > "$WORK/cmapss.toml"
  V() { "$VIGIL" "$@" --config "$WORK/cmapss.toml" --log-level warn; }
  awk -v NAMES="$NAMES" -v ID=ENG -v HEADER=1 -f bench/cmapss_long.awk "$DATA/train_FD001.txt" > "$WORK/train.csv"
  awk 'BEGIN { print "machine_id,timestamp_utc,codigo_evento" } { last[$1] = $2 }
       END { for (u in last) { c = last[u]; printf "ENG-%03d,2025-01-%02dT%02d:00:00Z,RUN_TO_FAILURE\n", u, 1 + int(c / 24), c % 24 } }' \
    "$DATA/train_FD001.txt" > "$WORK/failures.csv"
  V import --data-dir "$WORK/train" --format long "$WORK/train.csv" > /dev/null
  V import --data-dir "$WORK/train" --format failures "$WORK/failures.csv" > /dev/null
  V process --data-dir "$WORK/train" > "$WORK/process-train.txt" 2>&1
  V export --data-dir "$WORK/train" --out "$WORK/train-rows.csv"
fi
OUT=bench/results/cmapss-screen-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/cmapss_dev.sh $*: C-MAPSS FD001 development screening, train_FD001.txt only; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/python3 bench/cmapss_dev.py "$WORK/train-rows.csv" "$DATA/train_FD001.txt" "$@"
} | tee "$OUT"
