#!/usr/bin/env bash
# Installs the Debian packages whatif needs to build and test; quiet and quick when all are present.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build python3
  libsimgrid-dev libyaml-cpp-dev libeigen3-dev libfmt-dev libboost-graph-dev
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libsqlite3-dev
  clang-format xz-utils libzstd-dev zstd libopenmpi-dev openmpi-bin python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
