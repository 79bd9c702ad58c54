#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, in build-fuzz/) and runs each for SECONDS
# (default 45) from its committed seed corpus, which is copied first and never changed. Exits
# non-zero on any finding: libFuzzer writes the input to build-fuzz/findings/<target>/ and the
# stack to the log. Prints the executions each target ran. PHIRUN_FUZZ_SEED fixes libFuzzer's
# random seed (CI does, so that a red run explores the same inputs again when rerun on the same
# commit); unset, every run explores afresh.
#   [PHIRUN_FUZZ_SEED=N] fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-45}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_gguf fuzz_tokenizer fuzz_chat_template fuzz_c_api fuzz_safetensors fuzz_hf_config
  fuzz_tokenizer_json fuzz_chat_file)
build_dir=${PHIRUN_FUZZ_BUILD_DIR:-build-fuzz}
[[ -f $build_dir/CMakeCache.txt ]] ||
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPHIRUN_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target fuzz_all
status=0
for target in "${targets[@]}"; do
  work=$build_dir/corpus/$target findings=$build_dir/findings/$target
  mkdir -p "$work" "$findings"
  cp -n fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true
  # -rss_limit_mb / -malloc_limit_mb: a single allocation past 512 MB is a finding (nothing a
  # small input asks for needs that); -timeout: one input running 10 s is a hang.
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build_dir/fuzz/$target" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -malloc_limit_mb=512 -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 \
      ${PHIRUN_FUZZ_SEED:+-seed="$PHIRUN_FUZZ_SEED"} \
      >"$build_dir/$target.log" 2>&1; then
    echo "$target: $(sed -n 's/^stat::number_of_executed_units: *//p' "$build_dir/$target.log") executions, no finding"
  else
    echo "$target: FINDING (see $build_dir/$target.log and $findings/)"
    grep -E 'ERROR|SUMMARY|fuzz finding|runtime error|==[0-9]+==' "$build_dir/$target.log" | head -20
    status=1
  fi
done
exit $status
