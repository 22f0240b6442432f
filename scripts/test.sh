#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test:
#   1. formatting check,
#   2. unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/),
#   3. the fuzz targets for a bounded time (build-fuzz/, clang),
#   4. the full suite: unit, integration and conformance tests (build/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== format"
scripts/check-format.sh

echo "== unit tests under address,undefined sanitizers"
BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DPAODIN_SANITIZE=address,undefined \
  -DPAODIN_BUILD_BENCH=OFF
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -L unit --output-on-failure -j "$(nproc)")

echo "== fuzz targets (bounded)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DPAODIN_BUILD_FUZZ=ON -DPAODIN_BUILD_BENCH=OFF -DPAODIN_BUILD_TESTS=ON \
  -DPAODIN_SANITIZE=address,undefined,fuzzer-no-link >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzzers
(cd build-fuzz && ctest -L fuzz --output-on-failure)

echo "== full test suite"
scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)")
