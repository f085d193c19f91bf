#!/usr/bin/env bash
# Start-up cost of the vigil binary, and how much of it is the shared libraries it links:
# `vigil --version` against three builds of an empty C++ program (the same compiler) run in
# the same loop: linked with nothing more, with the libraries `vigil process` uses (SQLite,
# simdjson, toml++, spdlog, fmt), and with every library the vigil binary names (readelf's
# NEEDED: those and Paho C/C++, cpp-httplib, OpenSSL, with their brotli and zlib). Each is
# started N times a round, rounds alternated; reported: the median round's ms per start and
# its ratio to the empty program. Every command pays the start-up, the `+1%` batch of
# bench/process.sh too (~125 ms at 10M), though only `run`, `simulate`, `replay`, `upload`
# and the fleet commands use the network libraries.
#
# usage: bench/startup.sh [-n STARTS_PER_ROUND] [-r ROUNDS] [-w WORK_DIR]   (default 40, 5)
#   VIGIL=path/to/vigil uses that binary instead of building build-bench (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=40 ROUNDS=5 WORK=${TMPDIR:-/tmp}/vigil-bench-startup
while getopts "n:r:w:" o; do case $o in n) N=$OPTARG;; r) ROUNDS=$OPTARG;; w) WORK=$OPTARG;; *) sed -n '2,13p' "$0"; exit 2;; esac; done
if [ -z "${VIGIL:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j"$(nproc)" --target vigil >/dev/null
  VIGIL=$ROOT/build-bench/vigil
fi
rm -rf "$WORK"; mkdir -p "$WORK"
echo 'int main() { return 0; }' > "$WORK/empty.cc"
# Link by soname (-l:libx.so.N), without --as-needed dropping what main never calls.
needed() { readelf -d "$VIGIL" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
mapfile -t PROCESS_LIBS < <(needed | grep -E '^lib(sqlite3|simdjson|tomlplusplus|spdlog|fmt)\.' | sed 's/^/-l:/')
mapfile -t ALL_LIBS < <(needed | sed 's/^/-l:/')
c++ -O2 "$WORK/empty.cc" -o "$WORK/empty"
c++ -O2 "$WORK/empty.cc" -o "$WORK/process_libs" -Wl,--no-as-needed "${PROCESS_LIBS[@]}"
c++ -O2 "$WORK/empty.cc" -o "$WORK/all_libs" -Wl,--no-as-needed "${ALL_LIBS[@]}"
# us per start of one round of N starts
round() { local s=${EPOCHREALTIME/./}; for _ in $(seq "$N"); do "$@" > /dev/null; done; echo $(( (${EPOCHREALTIME/./} - s) / N )); }
declare -A us
for _ in $(seq "$ROUNDS"); do
  us[empty]+="$(round "$WORK/empty") "
  us[process_libs]+="$(round "$WORK/process_libs") "
  us[all_libs]+="$(round "$WORK/all_libs") "
  us[vigil]+="$(round "$VIGIL" --version) "
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
OUT=bench/results/startup-$(date -u +%Y%m%dT%H%M%SZ).txt
mkdir -p bench/results
{
  echo "# bench/startup.sh: $N starts x $ROUNDS rounds each; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf "%-44s %10s %11s  %s\n" program "ms/start" "x empty" "us per start, each round"
  declare -A med
  for k in "${!us[@]}"; do med[$k]=$(echo "${us[$k]}" | median); done
  for k in empty process_libs all_libs vigil; do
    case $k in
      empty) name="empty C++ program";;
      process_libs) name="+ the libraries vigil process uses";;
      all_libs) name="+ all of vigil's libraries (NEEDED)";;
      vigil) name="vigil --version";;
    esac
    printf "%-44s %10.2f %11.2f  %s\n" "$name" "$(echo "${med[$k]} / 1000" | bc -l)" "$(echo "${med[$k]} / ${med[empty]}" | bc -l)" "${us[$k]}"
  done
  printf "the libraries only the network commands use: %.2f ms a start\n" "$(echo "(${med[all_libs]} - ${med[process_libs]}) / 1000" | bc -l)"
} | tee "$OUT"
