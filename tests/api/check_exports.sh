#!/bin/sh
# libphirun.so must export exactly the functions phirun.h declares: nothing of the C++ inside
# (no phirun:: classes, no standard-library instantiations), and none of the API missing.
#   check_exports.sh LIBRARY HEADER
set -eu
library=$1
header=$2
exported=$(nm -D --defined-only "$library" | awk '{print $3}' | sort)
declared=$(sed -n 's/.*PHIRUN_API[^(]*[ *]\(phirun_[a-z0-9_]*\)(.*/\1/p' "$header" | sort)
extra=$(printf '%s\n' "$exported" | grep -v -x -F "$declared" || true)
missing=$(printf '%s\n' "$declared" | grep -v -x -F "$exported" || true)
if [ -n "$extra" ]; then echo "exported but not part of the API:"; echo "$extra"; fi
if [ -n "$missing" ]; then echo "declared in $header but not exported:"; echo "$missing"; fi
[ -z "$extra" ] && [ -z "$missing" ] || exit 1
echo "$(printf '%s\n' "$exported" | wc -l) symbols exported, all of them phirun.h's"
