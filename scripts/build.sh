#!/usr/bin/env bash
# Configures (once) and builds whatif in ./build; incremental after the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null
fi
meson compile -C build
