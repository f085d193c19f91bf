#!/usr/bin/env bash
# Ingest benchmark: vigil vs mosquitto_sub on the same QoS 1 stream, live and drain, for
# each fsync policy, using the shared harness (../shared/bench/ingest_bench.sh).
#
# usage: bench/ingest.sh [-n MESSAGES] [-R RUNS] [-m MACHINES]
#   defaults: 1,000,000 messages (~100-byte contract payloads) over 100 machines, 1 run
#   Output: the harness's result lines, then a table of ratios to mosquitto_sub measured
#   in the same run; everything is also written to bench/results/ingest-<UTC time>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=1000000 RUNS=1 M=100
while getopts "n:R:m:" o; do
  case $o in n) N=$OPTARG;; R) RUNS=$OPTARG;; m) M=$OPTARG;; *) sed -n '2,9p' "$0"; exit 2;; esac
done
HARNESS=${VIGIL_SHARED:-$ROOT/../shared}/bench/ingest_bench.sh
[ -x "$HARNESS" ] || { echo "bench/ingest.sh: $HARNESS not found (../shared beside the clone)" >&2; exit 1; }

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
VIGIL=$ROOT/build-bench/vigil
CONF=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-conf.XXXXXX")
for p in never interval always; do
  printf '[lake]\nfsync = "%s"\n[log]\nlevel = "warn"\n' "$p" > "$CONF/$p.toml"
done

mkdir -p bench/results
OUT=bench/results/ingest-$(date -u +%Y%m%dT%H%M%SZ).txt
{
  echo "# bench/ingest.sh -n $N -R $RUNS -m $M on $(nproc) cores, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
  SUB="mosquitto_sub -p \$BENCH_PORT -q 1 -c -i bench -t 'industrial/machine/+/telemetry/+' -F '%j' -C \$BENCH_N"
  for mode in live drain; do
    flag=""; [ "$mode" = drain ] && flag="-B bench"
    "$HARNESS" -n "$N" -m "$M" -R "$RUNS" $flag -l "$mode/mosquitto_sub" "$SUB" 2>&1 | grep -E "MEDIAN|lost=|timeout|never" || true
    for p in never interval always; do
      "$HARNESS" -n "$N" -m "$M" -R "$RUNS" $flag -d -l "$mode/vigil-fsync-$p" \
        "$VIGIL run --config $CONF/$p.toml --data-dir \$BENCH_DIR --host 127.0.0.1 --port \$BENCH_PORT --client-id bench" \
        2>&1 | grep -E "MEDIAN|lost=|timeout|never" || true
    done
  done
} | tee "$OUT"
rm -rf "$CONF"

echo
echo "ratios to mosquitto_sub in the same run (rate: higher is better; cpu, rss: lower is better)"
awk '/MEDIAN/ {
  split($1, a, "/"); mode = a[1]; who = a[2];
  for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  rate[mode, who] = v["rate"]; cpu[mode, who] = v["sub_cpu_s_per_M"]; rss[mode, who] = v["sub_rss_MB"]
  lost[mode, who] = v["lost_total"]; order[++n] = mode SUBSEP who
}
END {
  printf "%-6s %-20s %9s %8s %10s %8s %8s %6s\n", "mode", "subscriber", "msg/s", "x rate", "cpu s/M", "x cpu", "rss MB", "lost"
  for (i = 1; i <= n; i++) {
    split(order[i], k, SUBSEP); m = k[1]; w = k[2]; b = rate[m, "mosquitto_sub"]; c = cpu[m, "mosquitto_sub"]
    printf "%-6s %-20s %9d %8.2f %10.2f %8.2f %8.1f %6d\n", m, w, rate[m, w], (b > 0 ? rate[m, w] / b : 0),
      cpu[m, w], (c > 0 ? cpu[m, w] / c : 0), rss[m, w], lost[m, w]
  }
}' "$OUT" | tee -a "$OUT"
