#!/usr/bin/env bash
# Build time of `phirun build` from the SmolLM2 Hugging Face folder to INT4 (no calibration) against
# llama-quantize from the same weights as an F32 GGUF to Q4_0, both at the same thread count,
# alternated in one run, caches dropped before every timed command (when allowed: needs root);
# prints each time and the medians. Peak resident memory of each (GNU time) comes with it.
#
# usage: bench/build_time.sh HF_FOLDER [OUT_DIR]
#   HF_FOLDER: tests/fixtures/make_hf_checkpoints.py smollm2 --out HF_FOLDER makes it
#   PHIRUN=build/tools/phirun  LLAMA_BIN=folder of llama-quantize  THREADS=2  RUNS=3
set -euo pipefail
cd "$(dirname "$0")/.."
hf=$(realpath "${1:?usage: bench/build_time.sh HF_FOLDER [OUT_DIR]}")
out=${2:-build-time-out}
phirun=$(realpath "${PHIRUN:-build/tools/phirun}")
llama=${LLAMA_BIN:?set LLAMA_BIN to the folder of llama.cpp\'s llama-quantize}
threads=${THREADS:-2}
runs=${RUNS:-3}
mkdir -p "$out"
cd "$out"

# llama-quantize's input: the same weights as an F32 GGUF (not timed).
"$phirun" build -i "$hf" -o source-f32.gguf -p fp32 --force -q

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
timed() {  # log, then the command: prints "seconds peak_kb"
  local log=$1
  shift
  /usr/bin/time -f '%e %M' -o "$log.time" "$@" >"$log" 2>&1
  cat "$log.time"
}
phirun_times=() llama_times=()
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  drop_caches
  read -r seconds peak < <(timed "phirun-$run.log" "$phirun" build -i "$hf" -o phirun-int4.gguf -p int4 -t "$threads" --force -q)
  phirun_times+=("$seconds")
  echo "run $run: phirun build HF -> int4: ${seconds} s, peak ${peak} kB"
  drop_caches
  read -r seconds peak < <(timed "llama-$run.log" "$llama/llama-quantize" source-f32.gguf llama-q4_0.gguf Q4_0 "$threads")
  llama_times+=("$seconds")
  echo "run $run: llama-quantize F32 GGUF -> Q4_0: ${seconds} s, peak ${peak} kB"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
p=$(median "${phirun_times[@]}")
l=$(median "${llama_times[@]}")
echo "median of $runs: phirun ${p} s, llama-quantize ${l} s, ratio $(echo "scale=2; $p / $l" | bc)"
