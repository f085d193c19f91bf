#!/usr/bin/env bash
# Wide-plant ingest benchmark: drain of a QoS 1 backlog (the shared harness
# ../shared/bench/ingest_bench.sh, drain mode, default vigil config) with few and with many
# interleaved streams, in the same run:
#   mosquitto_sub, 3,000 streams (-m 1500)      the baseline for the wide stream
#   vigil, 200 streams (-m 100)                 the baseline for "whatever the width"
#   vigil, 3,000 streams (-m 1500)              target >= 0.9x the 200-stream rate, >= 1.0x mosquitto_sub
#   vigil, 10,000 streams (-m 5000)             open descriptors must stay bounded
# The loadgen sends each machine's vibration and temperature in turn: 2 streams a machine.
# vigil's open descriptors are sampled from /proc/PID/fd every 0.2 s (max reported), and the
# files it left in the lake are counted.
#
# usage: bench/ingest_wide.sh [-n MESSAGES] [-R RUNS]     (default 300,000 messages, 3 runs)
#   VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=300000 RUNS=3
while getopts "n:R:" o; do case $o in n) N=$OPTARG;; R) RUNS=$OPTARG;; *) sed -n '2,15p' "$0"; exit 2;; esac; done
HARNESS=${VIGIL_SHARED:-$ROOT/../shared}/bench/ingest_bench.sh
[ -x "$HARNESS" ] || { echo "bench/ingest_wide.sh: $HARNESS not found (../shared beside the clone)" >&2; exit 1; }
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
  VIGIL=$ROOT/build-bench/vigil
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-bench-wide.XXXXXX")
printf '[log]\nlevel = "warn"\n' > "$WORK/v.toml"
# vigil under a watcher that records its descriptor count and, at the end, its lake's files.
cat > "$WORK/watch.sh" <<'W'
#!/usr/bin/env bash
out=$1; shift
"$@" & pid=$!
trap 'kill -TERM $pid 2>/dev/null' TERM INT
max=0
while kill -0 $pid 2>/dev/null; do
  n=$(ls /proc/$pid/fd 2>/dev/null | wc -l); [ "$n" -gt "$max" ] && max=$n && echo "$max" > "$out.fd"
  sleep 0.2
done
wait $pid
W
chmod +x "$WORK/watch.sh"

mkdir -p bench/results
OUT=bench/results/ingest-wide-$(date -u +%Y%m%dT%H%M%SZ).txt
SUB="mosquitto_sub -p \$BENCH_PORT -q 1 -c -i bench -t 'industrial/machine/+/telemetry/+' -F '%j' -C \$BENCH_N"
vigil_cmd() {  # label
  echo "$WORK/watch.sh $WORK/$1 $VIGIL run --config $WORK/v.toml --data-dir \$BENCH_DIR --host 127.0.0.1 --port \$BENCH_PORT --client-id bench"
}
{
  echo "# bench/ingest_wide.sh -n $N -R $RUNS on $(nproc) cores, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
  # Runs interleaved (sub, 200, 3000, 10000, then again), so that a load that drifts during
  # the benchmark weighs on every subscriber alike; medians over the runs below.
  for r in $(seq "$RUNS"); do
    "$HARNESS" -n "$N" -m 1500 -R 1 -B bench -l "sub-3000" "$SUB" 2>&1 | grep -E " run=1 " || true
    for m in 100 1500 5000; do
      "$HARNESS" -n "$N" -m "$m" -R 1 -B bench -d -k -l "vigil-$((m * 2))" "$(vigil_cmd "m$m")" 2> "$WORK/h$m.err" |
        grep -E " run=1 " || true
      kept=$(grep -o "kept [^ ]*" "$WORK/h$m.err" | tail -1 | cut -d' ' -f2)
      files=$( [ -n "$kept" ] && find "$kept" -type f -name '*.jsonl' | wc -l || echo "?")
      echo "vigil-$((m * 2)) fds_max=$(cat "$WORK/m$m.fd" 2>/dev/null || echo ?) lake_files=$files"
      [ -n "$kept" ] && rm -rf "$kept"
    done
  done
} | tee "$OUT"
echo
awk 'function med(list,   n, a, i, j, t) { n = split(list, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
       return n ? a[int((n + 1) / 2)] : 0 }
     / rate=/ { who = $1; if (!(who in seen)) { seen[who] = 1; order[++n] = who }
       for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "rate") rate[who] = rate[who] " " kv[2]
         if (kv[1] == "sub_cpu_s_per_M") cpu[who] = cpu[who] " " kv[2]; if (kv[1] == "sub_rss_MB") rss[who] = rss[who] " " kv[2]
         if (kv[1] == "lost") lost[who] += kv[2] } }
     / fds_max=/ { split($2, f, "="); if (f[2] + 0 > fds[$1] + 0) fds[$1] = f[2]; split($3, g, "="); files[$1] = g[2] }
END { for (i = 1; i <= n; i++) { w = order[i]; R[w] = med(rate[w]); C[w] = med(cpu[w]); M[w] = med(rss[w]) }
  printf "medians of %d run(s)\n", split(rate[order[1]], tmp, " ")
  printf "%-11s %9s %12s %11s %9s %11s %8s %6s %8s %8s\n", "run", "msg/s", "x vigil-200", "x sub-3000", "cpu s/M", "cpu x v200", "rss MB", "lost", "fds max", "files"
  for (i = 1; i <= n; i++) { w = order[i]
    printf "%-11s %9d %12.2f %11.2f %9.2f %11.2f %8.1f %6d %8s %8s\n", w, R[w], (R["vigil-200"] > 0 ? R[w] / R["vigil-200"] : 0),
      (R["sub-3000"] > 0 ? R[w] / R["sub-3000"] : 0), C[w], (C["vigil-200"] > 0 ? C[w] / C["vigil-200"] : 0), M[w], lost[w], fds[w], files[w] } }' "$OUT" | tee -a "$OUT"
rm -rf "$WORK"
