#!/usr/bin/env bash
# The one build of vigil, used by scripts/test.sh (CI) and docker/Dockerfile, so both
# compile with the same type and flags (warnings are errors).
# Usage: scripts/build.sh [extra cmake -D options]; BUILD_DIR (default build), TARGET (default all).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_WERROR=ON "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" ${TARGET:+--target "$TARGET"}
