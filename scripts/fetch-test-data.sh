#!/usr/bin/env bash
# Fetches data the test suite needs but the repository does not carry: o200k_base's token ranks
# (Phi-4-mini's vocabulary, 2.6 MB), from the PyPI wheel quicktok-v1==0.4.0 (MIT; the data is
# derived from OpenAI's tiktoken, MIT). The tests rebuild Phi-4-mini's vocab.json and merges.txt
# from it and check them against hashes of the real files. Checks both sha256 sums and puts the
# file into $PHIRUN_CACHE_DIR, else $XDG_CACHE_HOME/phirun, else ~/.cache/phirun, under tokenizers/.
# Running it again when the file is already there does nothing.
set -euo pipefail

PACKAGE=quicktok-v1==0.4.0
# The wheel for one fixed platform, whatever this machine is: only its data file is used.
WHEEL=quicktok_v1-0.4.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
WHEEL_SHA256=e2a85a1f5f9a73f773c66e8c2419ffbb6f6add30464b83064870f5ea3e35c99b
MEMBER=quicktok/data/o200k.vocab
FILE=o200k.vocab
FILE_SHA256=6b17521f79788c7ace48fc75f6edde125637a90b0018427e68f28d051b2ac1fe

cache_dir=${PHIRUN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/phirun}
target_dir=$cache_dir/tokenizers
target=$target_dir/$FILE

say() { printf 'fetch-test-data: %s\n' "$*" >&2; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f $target && $(sha256_of "$target") == "$FILE_SHA256" ]]; then
  say "$FILE is already at $target"
  exit 0
fi

python=$(command -v python3 || true)
if [[ -z $python ]] || ! "$python" -m pip --version >/dev/null 2>&1; then
  say "needs python3 with pip (Debian: apt-get install python3-pip) to download from PyPI"
  exit 1
fi
command -v unzip >/dev/null || { say "needs unzip (Debian: apt-get install unzip)"; exit 1; }

mkdir -p "$target_dir"
work=$(mktemp -d "$target_dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

say "downloading $WHEEL (4.4 MB) from PyPI"
"$python" -m pip download --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 \
  --implementation cp --progress-bar off -d "$work" "$PACKAGE" >&2
if [[ $(sha256_of "$work/$WHEEL") != "$WHEEL_SHA256" ]]; then
  say "the downloaded wheel's sha256 does not match $WHEEL_SHA256: refusing it"
  exit 1
fi
unzip -q -o "$work/$WHEEL" "$MEMBER" -d "$work"
if [[ $(sha256_of "$work/$MEMBER") != "$FILE_SHA256" ]]; then
  say "the extracted $FILE's sha256 does not match $FILE_SHA256: refusing it"
  exit 1
fi
mv -f "$work/$MEMBER" "$target"  # same filesystem: an atomic rename
say "$FILE is at $target"
