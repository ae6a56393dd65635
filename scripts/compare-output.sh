#!/usr/bin/env bash
# Compares `cgoguard check --format json` of the working tree with that of a
# git revision, byte for byte, on the examples, every fixture, GOROOT/src and
# the real modules in $CGOGUARD_BEDS (one module per folder). Run it around a
# refactor: any difference is printed and the exit status is 1.
#
#   scripts/compare-output.sh [--full] [REV] [-- EXTRA CHECK FLAGS]
#
# REV defaults to HEAD (compare uncommitted work against the last commit).
# --full also analyses every function of std and cmd (--all-functions), which
# exercises the engine on far more code (about two minutes a side).
# The revision is built in a temporary worktree that shares node_modules.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
full=
if [ "${1:-}" = "--full" ]; then full=1; shift; fi
rev=${1:-HEAD}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
extra=("$@")
beds=${CGOGUARD_BEDS:-/work/beds}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cgoguard-compare.XXXXXX")
old="$tmp/old"
cleanup() {
  git -C "$here" worktree remove --force "$old" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

git -C "$here" worktree add --detach -q "$old" "$rev"
ln -s "$here/node_modules" "$old/node_modules"
(cd "$old" && npx tsc -p tsconfig.json) || { echo "compare: $rev does not build" >&2; exit 2; }
(cd "$here" && npx tsc -p tsconfig.json)

# Each target is one check run: a label, the folder to run in, its own flags and its patterns.
targets=()
add() { targets+=("$1|$2|$3|$4"); }
add examples "$here" "" "./examples/..."
fixtures=$(cd "$here" && ls -d testdata/fixtures/*/ | tr '\n' ' ')
add fixtures "$here" "" "$fixtures"
if command -v go >/dev/null 2>&1; then
  goroot=$(go env GOROOT)
  add goroot "$here" "" "$goroot/src/... $goroot/src/cmd/cgo/internal/..."
  [ -n "$full" ] && add goroot-every-function "$here" "--all-functions --no-c-analyzer" "$goroot/src/... $goroot/src/cmd/..."
fi
if [ -d "$beds" ]; then
  for d in "$beds"/*/; do [ -f "$d/go.mod" ] && add "bed:$(basename "$d")" "$d" "" "./..."; done
fi

status=0
for t in "${targets[@]}"; do
  IFS='|' read -r label dir flags patterns <<<"$t"
  for side in old new; do
    root=$old
    [ $side = new ] && root=$here
    # shellcheck disable=SC2086 # patterns are several words on purpose
    (cd "$dir" && node "$root/bin/cgoguard.js" check --format json --fail-on never $flags "${extra[@]}" $patterns >"$tmp/$side.json" 2>"$tmp/$side.err") || true
  done
  if cmp -s "$tmp/old.json" "$tmp/new.json"; then
    n=$( (grep -o "\"rule\":" "$tmp/new.json" || true) | wc -l)
    echo "same      $label ($n findings, $(wc -c <"$tmp/new.json") bytes)"
  else
    status=1
    echo "DIFFERENT $label"
    diff <(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));for(const f of j.findings)console.log(JSON.stringify(f));console.log(JSON.stringify(j.stats))' "$tmp/old.json" 2>/dev/null || cat "$tmp/old.json") \
         <(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));for(const f of j.findings)console.log(JSON.stringify(f));console.log(JSON.stringify(j.stats))' "$tmp/new.json" 2>/dev/null || cat "$tmp/new.json") | head -40 || true
  fi
done
exit $status
