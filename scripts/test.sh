#!/usr/bin/env bash
# Runs every test: installs dependencies, builds (warnings are errors), runs the unit and
# integration suites with CTest. Usage: scripts/test.sh [ctest args, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j"$(nproc)" "$@"
