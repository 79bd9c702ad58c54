#!/usr/bin/env bash
# The builder's quality table (README "Builder: quality per bit"): SmolLM2-135M-Instruct
# dequantized to F32 is the source; phirun build and llama.cpp's llama-quantize (plain, and with a
# llama-imatrix) make each precision from it; every file is scored by `phirun perplexity -c 512`
# on two texts, with KL divergence against the F32 source's log-probabilities, and llama.cpp's F16
# also by llama-perplexity (the method check). Calibration text: a slice of WikiText-2's test
# split disjoint from both evaluation texts.
#
# usage: bench/quality_table.sh [OUT_DIR]
#   PHIRUN=build/tools/phirun  LLAMA_BIN=folder of llama-quantize, llama-imatrix, llama-perplexity
#   MODEL=the default model's GGUF  EVAL=folder of wiki.test.raw.406, tinystories-valid.txt.1000
#   and wiki.test.raw (default: tests/data/eval-text)  THREADS=2
#   CHUNKS=N scores only the first N chunks of each text (default: all)
#   CALIB_CHUNKS=N chunks of 512 calibration tokens, for phirun and llama-imatrix alike (default 48)
# Needs about 4 GB of disk in OUT_DIR for the base log-probabilities. Prints the table; the
# logs of every command are in OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-quality-out}
phirun=$(realpath "${PHIRUN:-build/tools/phirun}")
llama=${LLAMA_BIN:?set LLAMA_BIN to the folder of llama.cpp\'s llama-quantize, llama-imatrix and llama-perplexity}
model=${MODEL:-$HOME/.cache/phirun/models/SmolLM2-135M-Instruct.Q4_1.gguf}
eval=$(realpath "${EVAL:-tests/data/eval-text}")
threads=${THREADS:-2}
calib_chunks=${CALIB_CHUNKS:-48}
chunk_flags=()
[[ -n ${CHUNKS:-} ]] && chunk_flags=(--chunks "$CHUNKS")
texts=(wiki.test.raw.406 tinystories-valid.txt.1000)
mkdir -p "$out"
cd "$out"

now() { date +%s.%N; }
since() { printf '%.2f' "$(echo "$(now) - $1" | bc)"; }

# Calibration: bytes 200000..300000 of the full test split (the .406 slice is its first ~140 KB;
# TinyStories is another corpus), cut at a line end.
tail -c +200001 "$eval/wiki.test.raw" | head -c 100000 >calibration.txt || true
sed -i '$d' calibration.txt

# The source: the default model's weights dequantized to F32 (exactly the values it holds).
"$phirun" build -i "$model" -o source-f32.gguf -p fp32 --force -q 2>build-source.log

declare -A build_seconds
build() {  # name, then phirun build flags
  local name=$1 start
  shift
  start=$(now)
  "$phirun" build -i source-f32.gguf -o "$name.gguf" --force -q -t "$threads" "$@" >"build-$name.log" 2>&1
  build_seconds[$name]=$(since "$start")
}
quantize() {  # name, type, then extra llama-quantize flags
  local name=$1 type=$2 start
  shift 2
  start=$(now)
  "$llama/llama-quantize" "$@" source-f32.gguf "$name.gguf" "$type" "$threads" >"build-$name.log" 2>&1
  build_seconds[$name]=$(since "$start")
}

build phirun-fp16 -p fp16
build phirun-int8 -p int8
build phirun-int4 -p int4
build phirun-int4-calib -p int4 --calib calibration.txt --calib-chunks "$calib_chunks"
build phirun-int4-calib-gptq -p int4 --calib calibration.txt --calib-chunks "$calib_chunks" --gptq
quantize llamacpp-F16 F16
quantize llamacpp-Q8_0 Q8_0
quantize llamacpp-Q4_0 Q4_0
start=$(now)
"$llama/llama-imatrix" -m source-f32.gguf -f calibration.txt -c 512 --chunks "$calib_chunks" -t "$threads" -o imatrix.gguf \
  >imatrix.log 2>&1
imatrix_seconds=$(since "$start")
quantize llamacpp-Q4_0-imatrix Q4_0 --imatrix imatrix.gguf
build_seconds[llamacpp-Q4_0-imatrix]="${build_seconds[llamacpp-Q4_0-imatrix]} + $imatrix_seconds (imatrix)"

# Base log-probabilities of the source on each text, then every file against them.
for text in "${texts[@]}"; do
  "$phirun" perplexity -m source-f32.gguf -f "$eval/$text" -c 512 "${chunk_flags[@]}" -t "$threads" --kld-base "base-$text.kld" \
    >"ppl-source-f32-$text.log" 2>&1
done
files=(phirun-fp16 llamacpp-F16 phirun-int8 llamacpp-Q8_0 phirun-int4 phirun-int4-calib phirun-int4-calib-gptq
  llamacpp-Q4_0 llamacpp-Q4_0-imatrix)
for name in "${files[@]}"; do
  for text in "${texts[@]}"; do
    "$phirun" perplexity -m "$name.gguf" -f "$eval/$text" -c 512 "${chunk_flags[@]}" -t "$threads" --kld-base "base-$text.kld" \
      >"ppl-$name-$text.log" 2>&1
  done
done
# The method check: llama.cpp's own perplexity of its F16 file.
for text in "${texts[@]}"; do
  "$llama/llama-perplexity" -m llamacpp-F16.gguf -f "$eval/$text" -c 512 "${chunk_flags[@]}" -t "$threads" \
    >"llama-perplexity-F16-$text.log" 2>&1
done

ppl() { sed -n 's/^PPL = \([0-9.]*\) +\/- \([0-9.]*\)/\1 ± \2/p' "$1" | head -1; }
kld() { sed -n 's/^KLD mean *= \([0-9.]*\).*/\1/p' "$1"; }
top1() { sed -n 's/^same top-1 *= \([0-9.]*%\).*/\1/p' "$1"; }
echo "| file | MB | bits/weight | PPL ${texts[0]} | PPL ${texts[1]} | KLD vs F32 (wiki / tiny) | same top-1 (wiki) | build s |"
echo "|---|---|---|---|---|---|---|---|"
params=134515008
for name in source-f32 "${files[@]}"; do
  bytes=$(stat -c %s "$name.gguf")
  row="| $name | $(echo "scale=1; $bytes / 1000000" | bc) | $(echo "scale=2; $bytes * 8 / $params" | bc)"
  row+=" | $(ppl "ppl-$name-${texts[0]}.log") | $(ppl "ppl-$name-${texts[1]}.log")"
  if [[ $name == source-f32 ]]; then
    row+=" | (base) | | |"
  else
    row+=" | $(kld "ppl-$name-${texts[0]}.log") / $(kld "ppl-$name-${texts[1]}.log") | $(top1 "ppl-$name-${texts[0]}.log")"
    row+=" | ${build_seconds[$name]} |"
  fi
  echo "$row"
done
for text in "${texts[@]}"; do
  echo "llama-perplexity on llamacpp-F16, $text: $(sed -n 's/.*Final estimate: PPL = \([0-9.]*\) +\/- \([0-9.]*\)/\1 ± \2/p' \
    "llama-perplexity-F16-$text.log")"
done
