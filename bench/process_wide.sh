#!/usr/bin/env bash
# Processor at plant width: the same number of readings as 100 machines x 2 channels (the
# baseline) and as 100 machines x S channels (default 24, C-MAPSS's width), each channel
# with the same features (mean, std, max over 5 h), so the wide plant has S/2 times the
# feature columns per row and 2/S times the rows. vigil process from scratch on each; the
# result is the cost per reading of the wide plant as a ratio to the narrow one, same run.
#
# usage: bench/process_wide.sh [-n READINGS] [-s CHANNELS] [-w WORK_DIR]   (default 2,000,000, 24)
set -euo pipefail
cd "$(dirname "$0")/.."
N=2000000 S=24 WORK=${TMPDIR:-/tmp}/vigil-bench-wide
while getopts "n:s:w:" o; do case $o in n) N=$OPTARG;; s) S=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,8p' "$0"; exit 2;; esac; done
M=100
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
fi
VIGIL=${VIGIL:-build-bench/vigil}
rm -rf "$WORK"; mkdir -p "$WORK"
# $1 channels: a lake of N readings and its config.
setup() {
  local c=$1 dir=$WORK/$1 names=""
  mkdir -p "$dir/data/lake/raw"
  awk -v DIR="$dir/data/lake/raw" -v M=$M -v START=0 -v SECS=$((N / M / c)) -v TAG=a -v S="$c" -f bench/gen_lake.awk
  for ((k = 0; k < c; k++)); do
    n=$(printf 's%02d' "$k"); names+="${names:+, }\"$n\""
    printf '[[sensors]]\nname = "%s"\nfield = "%s"\nmin = -1e9\nmax = 1e9\n\n' "$n" "$n"
  done > "$dir/vigil.toml"
  printf '[[feature_templates]]\nsensors = [%s]\naggregates = ["mean", "std", "max"]\ndurations = ["5h"]\n' "$names" >> "$dir/vigil.toml"
}
setup 2
setup "$S"
# Both lakes on disk before the timed runs, as published segments are (bench/process.sh): the
# wide run compacts its partitions (S segments each) and ends in a syncfs, which would
# otherwise write the generator's files of both lakes inside vigil's time.
sync
t() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }; read -r secs kb < "$WORK/time"; echo "$secs $((kb / 1024))"; }
OUT=bench/results/process-wide-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/process_wide.sh -n $N -s $S: 100 machines; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "%-22s %10s %9s %12s %12s %8s %10s %9s\n" plant lines seconds lines/s "cost ratio" "RSS MB" "rows" features
  base=""
  for c in 2 "$S"; do
    dir=$WORK/$c
    lines=$(find "$dir/data/lake/raw" -name '*.jsonl' -exec cat {} + | wc -l)
    read -r s mb < <(t "$VIGIL" process --config "$dir/vigil.toml" --data-dir "$dir/data" --log-level warn)
    rows=$(sqlite3 "$dir/data/vigil.db" 'SELECT count(*) FROM features')
    per=$(echo "$s / $lines" | bc -l); base=${base:-$per}
    printf "%-22s %10d %9s %12.0f %12.2f %8s %10s %9d\n" "100 x $c channels" "$lines" "$s" "$(echo "$lines / $s" | bc -l)" \
      "$(echo "$per / $base" | bc -l)" "$mb" "$rows" $((3 * c))
  done
} | tee "$OUT"
