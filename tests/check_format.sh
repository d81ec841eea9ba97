#!/usr/bin/env bash
# Fails when a C++ source is not formatted as .clang-format says (run clang-format -i to fix).
set -euo pipefail
cd "$1"
files=$(git ls-files --cached --others --exclude-standard 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 2>/dev/null ||
        find src tests -name '*.cpp' -o -name '*.hpp')
[ -n "$files" ] || { echo "no sources found"; exit 1; }
clang-format --dry-run --Werror $files
echo "$(echo "$files" | wc -w) files formatted"
