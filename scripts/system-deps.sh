#!/usr/bin/env bash
# System tools the test suite drives, installed from Debian/Ubuntu packages when
# missing: clang (its static analyzer runs on C code), valgrind (a stage of
# `cgoguard test`), chromium (the HTML report is opened in a real browser by
# playwright-core; no browser is downloaded), prometheus (it scrapes `watch
# --listen` in the tests; promtool checks the shipped rules), neovim (its built-in
# LSP client drives `cgoguard lsp` in the tests), and the headers of the
# libraries the built-in contract packs describe (each pack is checked against
# its library's declarations). Runs before `npm test`.
# Installs only as root or with password-less sudo; otherwise says what is missing
# (tests that need a missing tool are skipped, except in CI where they fail).
set -uo pipefail

# VictoriaLogs (Apache-2.0), a log server that speaks Loki's push protocol, for
# the log shipper's tests: built once from the Go module proxy (about a minute
# on 2 cores, cold) and kept in the user cache, where the tests look for it.
vl_version=v1.52.1
vl_bin="${XDG_CACHE_HOME:-$HOME/.cache}/cgoguard/bin/victoria-logs-$vl_version"
if [ ! -x "$vl_bin" ] && command -v go >/dev/null 2>&1; then
  echo "system-deps: building VictoriaLogs $vl_version (once, into $vl_bin)" >&2
  vl_tmp=$(mktemp -d)
  if GOBIN="$vl_tmp" go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$vl_version" >/dev/null 2>&1; then
    mkdir -p "$(dirname "$vl_bin")" && mv "$vl_tmp/victoria-logs" "$vl_bin"
  else
    echo "system-deps: could not build VictoriaLogs $vl_version" >&2
  fi
  rm -rf "$vl_tmp"
fi

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nvim >/dev/null 2>&1 || missing+=(neovim)
header() { [ -e "/usr/include/$1" ] || ls /usr/include/*/"$1" >/dev/null 2>&1; }
header sqlite3.h || missing+=(libsqlite3-dev)
header git2.h || missing+=(libgit2-dev)
header rocksdb/c.h || missing+=(librocksdb-dev)
header libavformat/avformat.h || missing+=(libavformat-dev)
header libavcodec/avcodec.h || missing+=(libavcodec-dev)
header libavutil/frame.h || missing+=(libavutil-dev)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${missing[*]} (no apt-get here: install them with your package manager)" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "system-deps: missing ${missing[*]}: run 'sudo apt-get install ${missing[*]}'" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq >/dev/null &&
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
  echo "system-deps: could not install ${missing[*]}" >&2
exit 0
