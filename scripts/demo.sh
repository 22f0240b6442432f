#!/usr/bin/env bash
# Installs what is needed, builds the binary and runs the demo: a query on :10902 over four
# embedded stores (two clusters, two replicas each). Extra arguments go to `paodin demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target paodin
exec "$BUILD_DIR"/paodin demo "$@"
