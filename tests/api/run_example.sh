#!/bin/sh
# Runs an API example on the default model and checks its output holds the expected text.
# Skips (exit 77) when the model is missing, unless PHIRUN_REQUIRE_MODEL=1.
#   run_example.sh EXPECTED EXECUTABLE ARGS...   (the model path goes before ARGS)
set -eu
expected=$1
shift
executable=$1
shift
cache_dir=${PHIRUN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/phirun}
model=${PHIRUN_TEST_MODEL:-$cache_dir/models/SmolLM2-135M-Instruct.Q4_1.gguf}
if [ ! -f "$model" ]; then
  echo "default model missing at $model: run scripts/fetch-model.sh"
  [ "${PHIRUN_REQUIRE_MODEL:-0}" = 1 ] && exit 1
  exit 77
fi
output=$("$executable" "$model" "$@")
printf '%s\n' "$output"
case $output in
  *"$expected"*) ;;
  *) echo "expected the output to hold: $expected"; exit 1 ;;
esac
