#!/usr/bin/env bash
# The bad-input table (cases.txt): each case is a command on an input made by make_bad_inputs
# and the exact error line it must print (on stderr) with the exit status it must end with;
# a crash, a hang (60 s), another message or another status fails the case. In an error, {*}
# stands for text that varies between machines.
#   run.sh PHIRUN C_API_PROBE MAKE_BAD_INPUTS   run every case (ctest bad_inputs_table)
#   run.sh --markdown                           the table as README.md's "Errors" section lists it
#   run.sh --check-readme README.md             README.md holds exactly that table
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
table=$here/cases.txt

# Fields of a case line: parser || name || exit status || command || error line.
each_case() {
  grep -v -e '^#' -e '^[[:space:]]*$' "$table" | while IFS= read -r line; do
    local rest=$line parser name status command error
    parser=${rest%% || *}; rest=${rest#* || }
    name=${rest%% || *}; rest=${rest#* || }
    status=${rest%% || *}; rest=${rest#* || }
    command=${rest%% || *}; error=${rest#* || }
    "$@" "$parser" "$name" "$status" "$command" "$error"
  done
}

markdown_row() {
  local command=${4//|/\\|} error=${5//|/\\|}
  printf '| %s | %s | `%s` | `%s` | %s |\n' "$1" "$2" "$command" "$error" "$3"
}

markdown() {
  echo "| input | case | command (in the folder of inputs) | error | exit |"
  echo "|---|---|---|---|---|"
  each_case markdown_row
}

if [[ ${1:-} == --markdown ]]; then
  markdown
  exit 0
fi
if [[ ${1:-} == --check-readme ]]; then
  readme=$2
  listed=$(sed -n '/<!-- bad-inputs table: begin -->/,/<!-- bad-inputs table: end -->/p' "$readme" | sed '1d;$d')
  if [[ $listed != "$(markdown)" ]]; then
    echo "$readme: the Errors section's table differs from tests/bad_inputs/cases.txt; regenerate it with"
    echo "tests/bad_inputs/run.sh --markdown (between the bad-inputs table markers)"
    diff <(echo "$listed") <(markdown) | head -20
    exit 1
  fi
  echo "README.md lists all $(each_case echo | wc -l) cases"
  exit 0
fi

(($# == 3)) || { echo "usage: run.sh PHIRUN C_API_PROBE MAKE_BAD_INPUTS | --markdown | --check-readme README.md"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/home"
ln -s "$(realpath "$1")" "$work/bin/phirun"
ln -s "$(realpath "$2")" "$work/bin/c_api_probe"
"$3" "$work/inputs" >/dev/null || { echo "make_bad_inputs failed"; exit 1; }

# Whether stderr holds a line equal to the expected error, where {*} stands for any text (what
# varies between machines, such as the memory available now).
stderr_has_line() {
  local expected=$1 pattern="" piece line
  local rest=$expected
  while :; do
    piece=${rest%%"{*}"*}
    piece=${piece//\\/\\\\}; piece=${piece//\*/\\*}; piece=${piece//\?/\\?}; piece=${piece//\[/\\[}
    pattern+=$piece
    [[ $rest == *"{*}"* ]] || break
    pattern+="*"
    rest=${rest#*"{*}"}
  done
  while IFS= read -r line; do
    # shellcheck disable=SC2053  # the pattern is a glob on purpose
    [[ $line == $pattern ]] && return 0
  done <"$work/stderr"
  return 1
}

run_case() {
  local parser=$1 name=$2 expected_status=$3 command=$4 error=$5 status
  rm -rf "$work/out" && mkdir -p "$work/out"
  (cd "$work/inputs" && PATH="$work/bin:$PATH" HOME="$work/home" timeout 60 bash -c "$command" \
    >"$work/stdout" 2>"$work/stderr" </dev/null)
  status=$?
  if [[ $status == "$expected_status" ]] && stderr_has_line "$error"; then
    echo "ok   $parser/$name"
  else
    echo "FAIL $parser/$name: exit $status (expected $expected_status), stderr:"
    sed 's/^/     /' "$work/stderr" | head -8
    echo "     expected the line: $error"
    echo x >>"$work/failures"
  fi
  # A refused build leaves no output file behind (commands write to ../out/).
  if compgen -G "$work/out/*" >/dev/null; then
    echo "FAIL $parser/$name left files behind: $(ls "$work/out")"
    echo x >>"$work/failures"
  fi
}
each_case run_case
total=$(each_case echo | wc -l)
failures=$( [[ -f $work/failures ]] && wc -l <"$work/failures" || echo 0)
echo "$((total - failures)) of $total bad-input cases give their exact error"
((failures == 0))
