#!/usr/bin/env bash
# Installs everything vigil needs to build, test and run, from Debian 12 packages only.
# Run as root (or with sudo). Safe to run again.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS=(
  build-essential cmake pkg-config git
  libpaho-mqttpp-dev libpaho-mqtt-dev   # MQTT client (Eclipse Paho C++ over Paho C)
  libsimdjson-dev                       # JSON validation/minify on the ingest hot path
  libtomlplusplus-dev                   # TOML config with line numbers in errors
  libspdlog-dev libfmt-dev              # logging
  libcli11-dev                          # command line
  libsqlite3-dev sqlite3                # feature store
  libcpp-httplib-dev                    # HTTP of vigil run: health, metrics, JSON API, dashboard
  libxgboost-dev                        # failure model: training and scoring on the gateway
  libssl-dev                            # also SHA-256 of uploaded segments (libcrypto)
  libcurl4-openssl-dev                  # upload: S3 PUTs signed with CURLOPT_AWS_SIGV4 (curl >= 7.75)
  libgtest-dev libgmock-dev             # tests
  mosquitto mosquitto-clients libmosquitto-dev  # broker for demo/tests, bench load generator
  time procps iproute2 openssl curl
)
# Test-only tools (VIGIL_BUILD_ONLY=1 skips them, e.g. in the Docker build stage).
TEST_PKGS=(
  python3 python3-pandas                # independent checks of features and labels
  systemd docker-compose                # systemd-analyze verify, docker-compose config
  docker.io debootstrap                 # the compose demo for real (tests/tools/compose_test.sh)
  chromium chromium-driver python3-selenium  # the dashboard in a real headless browser
  python3-xgboost                       # independent check of vigil's model files; fleet/fleet_train.py
  python3-botocore python3-boto3        # upload: independent SigV4 check, reading the bucket back
  python3-dask python3-distributed      # fleet features and model on Dask (fleet/, fleet_check, fleet_model_check)
  clang libclang-rt-14-dev              # libFuzzer targets (scripts/fuzz.sh)
)
[ "${VIGIL_BUILD_ONLY:-0}" = 1 ] || PKGS+=("${TEST_PKGS[@]}")
if [ "${VIGIL_SKIP_APT:-0}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
fi
# Debian starts a system-wide mosquitto on :1883; vigil's demo and tests start their own
# private brokers on free loopback ports and do not need it.

# Test-only npm packages, pinned in tests/tools/node/package.json (+ package-lock.json):
# s3rver, the local S3-compatible bucket of the upload tests (Debian has none packaged).
# Node.js and npm from Debian unless the machine has them already (a Node.js from elsewhere,
# e.g. NodeSource's, conflicts with Debian's npm package).
if [ "${VIGIL_BUILD_ONLY:-0}" != 1 ]; then
  if ! command -v npm >/dev/null; then
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  (cd "$(dirname "$0")/../tests/tools/node" && npm ci --no-audit --no-fund --loglevel=error)
fi
