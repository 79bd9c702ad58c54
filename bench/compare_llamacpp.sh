#!/usr/bin/env bash
# Side-by-side speed of phirun and llama.cpp's llama-bench on the same GGUF files, in one run:
# the page cache dropped before every measurement (as root), prefill (-p) and decode (-n) at the
# given thread counts, phirun with float, int16 and int8 activations. Raw JSON goes to OUT_DIR;
# bench/summarize_comparison.py turns it into the README's table.
#   LLAMA_BENCH=/path/to/llama-bench bench/compare_llamacpp.sh OUT_DIR "-p 512 -n 128 -r 5" model.gguf...
set -euo pipefail
cd "$(dirname "$0")/.."
out_dir=$1
args=$2
shift 2
llama_bench=${LLAMA_BENCH:-llama-bench}
phirun=${PHIRUN:-build/tools/phirun}
threads=${THREADS:-1,2}
mkdir -p "$out_dir"
drop_caches() { sync; if [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; fi; }
for model in "$@"; do
  name=$(basename "$model" .gguf)
  echo "== $name (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  drop_caches
  # shellcheck disable=SC2086  # $args holds several flags
  "$llama_bench" -m "$model" $args -t "$threads" -o json >"$out_dir/$name.llamacpp.json"
  accuracies="float int16 int8"
  # --accuracy changes only integer-weight matmuls: a float file needs one run.
  [[ $name =~ (F16|BF16|F32)$ ]] && accuracies=float
  for accuracy in $accuracies; do
    drop_caches
    # shellcheck disable=SC2086
    "$phirun" bench -m "$model" $args -t "$threads" --accuracy "$accuracy" --json >"$out_dir/$name.phirun-$accuracy.json"
  done
  echo "   done (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done
