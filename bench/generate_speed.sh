#!/usr/bin/env bash
# End-to-end prefill and decode speed of `phirun generate` until `phirun bench` exists: a prompt
# of about P tokens from the wiki evaluation text, then N greedy tokens without stopping, R runs
# per thread count after one warm-up (page cache dropped before each run when root); medians.
#   bench/generate_speed.sh [-m MODEL] [-p 512] [-n 128] [-r 5] [-t "1 2"]
set -euo pipefail
cd "$(dirname "$0")/.."
model=() prompt_tokens=512 generate=128 runs=5 threads="1 2"
while getopts "m:p:n:r:t:" flag; do
  case $flag in
    m) model=(-m "$OPTARG") ;; p) prompt_tokens=$OPTARG ;; n) generate=$OPTARG ;;
    r) runs=$OPTARG ;; t) threads=$OPTARG ;; *) exit 2 ;;
  esac
done
phirun=${PHIRUN:-build/tools/phirun}
prompt_file=$(mktemp)
trap 'rm -f "$prompt_file"' EXIT
# About 4.1 characters per token on this text; the table reports the exact prompt length.
python3 -c 'import sys; open(sys.argv[2], "w").write(open(sys.argv[1]).read()[: int(sys.argv[3]) * 41 // 10])' \
  tests/data/eval-text/wiki.test.raw.406 "$prompt_file" "$prompt_tokens"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-8s %-14s %-14s %s\n' threads "prefill tok/s" "decode tok/s" "prompt tokens"
for t in $threads; do
  prefill=() decode=()
  for ((r = 0; r <= runs; ++r)); do
    [[ $(id -u) -eq 0 ]] && { sync; echo 3 > /proc/sys/vm/drop_caches; }
    line=$("$phirun" generate "${model[@]}" -t "$t" -f "$prompt_file" -n "$generate" --ignore-eos 2>&1 >/dev/null | grep 'tok/s')
    ((r == 0)) && continue  # warm-up
    prefill+=("$(sed -E 's/.*prompt ([0-9]+) tokens, ([0-9.]+) tok.*/\2/' <<<"$line")")
    decode+=("$(sed -E 's/.*generated [0-9]+ tokens, ([0-9.]+) tok.*/\1/' <<<"$line")")
    n_prompt=$(sed -E 's/.*prompt ([0-9]+) tokens.*/\1/' <<<"$line")
  done
  printf '%-8s %-14s %-14s %s\n' "$t" "$(printf '%s\n' "${prefill[@]}" | median)" \
    "$(printf '%s\n' "${decode[@]}" | median)" "$n_prompt"
done
