#!/usr/bin/env bash
# Installs the Debian 12 packages Paodin Query builds and tests with. Idempotent: when every
# package is present it only checks and returns.
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake ninja-build g++ ccache git pkg-config
  clang clang-format clang-tidy libclang-rt-14-dev
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libboost-dev libre2-dev libfmt-dev libsnappy-dev libxxhash-dev
  libcli11-dev libyaml-cpp-dev prometheus-cpp-dev zlib1g-dev libjemalloc-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # the reference oracle (Prometheus 2.42 and promtool) and test tools
  prometheus curl python3 python3-yaml procps openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's prometheus package may start a system service on :9090; tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
