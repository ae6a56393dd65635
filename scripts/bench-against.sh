#!/usr/bin/env bash
# Times `cgoguard check` of the working tree against a git revision, the two
# runs interleaved round by round so that the machine's drift hits both, and
# prints each round's ratio and the median (new / old; below 1 is faster).
#
#   scripts/bench-against.sh [REV] [ROUNDS]
#
# Workloads: every function of GOROOT/src analysed (the interpreter's own
# cost), and `check std` (what a user runs). clang's analyzer is off: it is
# cached and not what a refactor of the interpreter changes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:-HEAD}
rounds=${2:-3}
command -v go >/dev/null 2>&1 || { echo "bench-against: needs the go command (for GOROOT)" >&2; exit 2; }
goroot=$(go env GOROOT)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cgoguard-bench.XXXXXX")
old="$tmp/old"
cleanup() {
  git -C "$here" worktree remove --force "$old" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
git -C "$here" worktree add --detach -q "$old" "$rev"
ln -s "$here/node_modules" "$old/node_modules"
(cd "$old" && npx tsc -p tsconfig.json) || { echo "bench-against: $rev does not build" >&2; exit 2; }
(cd "$here" && npx tsc -p tsconfig.json)

seconds() { # root, args...
  local root=$1
  shift
  local t0 t1
  t0=$(date +%s%N)
  (cd "$here" && node "$root/bin/cgoguard.js" check --format json --fail-on never --no-c-analyzer "$@" >/dev/null 2>&1) || true
  t1=$(date +%s%N)
  echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}

for workload in "every-function:--all-functions $goroot/src/..." "std:std"; do
  label=${workload%%:*}
  args=${workload#*:}
  ratios=()
  for ((i = 1; i <= rounds; i++)); do
    # shellcheck disable=SC2086
    if ((i % 2)); then o=$(seconds "$old" $args); n=$(seconds "$here" $args); else n=$(seconds "$here" $args); o=$(seconds "$old" $args); fi
    r=$(echo "scale=3; $n / $o" | bc)
    ratios+=("$r")
    echo "$label round $i: old ${o}s new ${n}s ratio ${r}"
  done
  median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
  echo "$label: median ratio new/old ${median} over $rounds rounds"
done
