#!/usr/bin/env bash
# valgrind.sh: runs the end-to-end suites with every rtcbill process under
# valgrind's memcheck, and fails on any memory error or leak.
#
# usage: tests/valgrind.sh [BINARY]     (default: build/rtcbill)
#
# A wrapper that runs BINARY under
#   valgrind --error-exitcode=99 --leak-check=full
#            --errors-for-leak-kinds=definite,indirect,possible
# is handed to tests/scenarios/run.lua (the scenario suite, expectations
# still checked), tests/cli/test_malformed.lua and
# tests/cli/test_corpus.lua (the hostile lines), so each rtcbill run of
# those suites is checked. One log per process is kept in a temporary
# folder; the script prints how many processes ran, and any log with an
# error, and exits 1 if a suite failed or valgrind reported anything.
# Run it from anywhere; it is not part of `make test` (it takes minutes).
# Depends on: bash, valgrind, lua5.4 with lua-cjson, a built rtcbill.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=$(realpath "${1:-$repo/build/rtcbill}")
command -v valgrind >/dev/null || {
  echo "valgrind.sh: valgrind not found (apt-get install valgrind)" >&2
  exit 2
}
[ -x "$binary" ] || {
  echo "valgrind.sh: $binary is not built (make build)" >&2
  exit 2
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/logs"
cat >"$work/rtcbill" <<WRAP
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \\
  --show-leak-kinds=definite,indirect,possible \\
  --errors-for-leak-kinds=definite,indirect,possible \\
  --log-file="$work/logs/vg.%p.log" "$binary" "\$@"
WRAP
chmod +x "$work/rtcbill"

cd "$repo"
status=0
run() {
  echo "== $*"
  if ! "$@" >"$work/suite.out" 2>&1; then
    status=1
    tail -n 30 "$work/suite.out"
  else
    tail -n 2 "$work/suite.out"
  fi
}
run lua5.4 tests/scenarios/run.lua "$work/rtcbill" tests/scenarios
run lua5.4 tests/cli/test_malformed.lua "$work/rtcbill"
run lua5.4 tests/cli/test_corpus.lua "$work/rtcbill"

runs=$(find "$work/logs" -name 'vg.*.log' | wc -l)
bad=0
for log in "$work"/logs/vg.*.log; do
  if [ -s "$log" ]; then
    bad=$((bad + 1))
    echo "---- $log"
    head -n 60 "$log"
  fi
done
echo "valgrind.sh: $runs rtcbill processes under memcheck in ${SECONDS}s," \
  "$bad with errors"
[ "$runs" -gt 0 ] || status=1
[ "$bad" -eq 0 ] || status=1
exit $status
