#!/usr/bin/env bash
# Builds what changed and runs the whole test suite (after scripts/quickstart.sh has installed
# the dependencies and fetched the model). Extra arguments go to ctest, e.g. -R Tokenizer.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${PHIRUN_BUILD_DIR:-build}
[[ -f $build_dir/CMakeCache.txt ]] || cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j"$(nproc)"
exec ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" "$@"
