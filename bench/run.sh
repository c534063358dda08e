#!/usr/bin/env bash
# run.sh: times `rtcbill simulate` on a generated month of usage.
#
# usage: bench/run.sh [SESSIONS] [ACCOUNTS]    (defaults: 1000000 2000)
# Needs a built binary (make build) and GNU time (/usr/bin/time) for the
# peak memory figure.
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-1000000}
accounts=${2:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lua5.4 bench/gen.lua "$sessions" "$accounts" > "$work/month.jsonl"
echo "input: $(wc -l < "$work/month.jsonl") lines, $(du -h "$work/month.jsonl" | cut -f1)"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "wall %e s, peak RSS %M KiB" \
    ./build/rtcbill simulate --out "$work/out" "$work/month.jsonl" > /dev/null
else
  time ./build/rtcbill simulate --out "$work/out" "$work/month.jsonl" > /dev/null
fi
grep -o '"records_per_second":[0-9]*' "$work/out/summary.json"; echo
