#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan/UBSan, build-fuzz/) and runs each for a bounded
# time on its seed corpus (tests/fuzz/corpus/<target>/). Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]
# (default 14: the 7 targets in about 100 s). New inputs found go to build-fuzz/corpus/, a
# failing input to build-fuzz/findings/<target>/; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-14}"
BUILD="${FUZZ_BUILD_DIR:-build-fuzz}"
TARGETS=(fuzz_validator fuzz_lake_line fuzz_csv fuzz_csv_import fuzz_config fuzz_http fuzz_timestamp)
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_FUZZ=ON \
  -DVIGIL_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"${FUZZ_JOBS:-$(nproc)}" --target fuzz_targets
start=$(date +%s)
for t in "${TARGETS[@]}"; do
  seeds="tests/fuzz/corpus/${t#fuzz_}"
  work="$BUILD/corpus/${t#fuzz_}"
  findings="$BUILD/findings/$t"
  mkdir -p "$work" "$findings"
  echo "== $t: ${SECONDS_PER_TARGET}s =="
  # The first corpus directory receives new inputs; the seeds in the repository stay as they are.
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$BUILD/$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$findings/" "$work" "$seeds" >"$findings/log" 2>&1; then
    tail -n 60 "$findings/log"
    echo "FUZZ FAILURE in $t: input saved in $findings/ (reproduce: $BUILD/$t $findings/crash-*)"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$findings/log" | tail -n 2
done
echo "fuzz: ${#TARGETS[@]} targets, $(( $(date +%s) - start ))s, no failure"
