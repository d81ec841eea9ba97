#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (this is what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
meson test -C build --print-errorlogs --num-processes "$(nproc)"
