#!/usr/bin/env bash
# compare.sh: times `rtcbill compare` against one `rtcbill simulate` run
# of the same generated month, and prints the ratio (the target is at
# most 1.5).
#
# usage: bench/compare.sh [SESSIONS] [ACCOUNTS]   (defaults: 1000000 2000)
# B is the default rules with HD at 30.00 (examples/compare/rules-b).
# Needs a built binary (make build) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-1000000}
accounts=${2:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lua5.4 bench/gen.lua "$sessions" "$accounts" > "$work/month.jsonl"
echo "input: $(wc -l < "$work/month.jsonl") lines, $(du -h "$work/month.jsonl" | cut -f1)"

# Wall time, CPU time (user + system) and peak RSS of one command. The
# two rule sets of compare run on two threads, so on a busy machine its
# wall time grows towards its CPU time: both are shown.
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" > /dev/null
  read -r secs user sys rss < "$work/time"
  echo "$secs $user $sys $rss"
}
read -r s_secs s_user s_sys s_rss < <(measure ./build/rtcbill simulate --out "$work/sim" \
  "$work/month.jsonl")
read -r c_secs c_user c_sys c_rss < <(measure ./build/rtcbill compare \
  --against examples/compare/rules-b --out "$work/cmp" "$work/month.jsonl")
echo "simulate: wall ${s_secs} s, cpu ${s_user}+${s_sys} s," \
  "peak RSS ${s_rss} KiB"
echo "compare:  wall ${c_secs} s, cpu ${c_user}+${c_sys} s," \
  "peak RSS ${c_rss} KiB"
# Hundredths of seconds as integers ("7.80" -> 780), no floats.
cs() { local v; v=$(echo "$1" | tr -d .); echo $((10#$v)); }
ratio() { # a/b with two decimals, rounded half-up
  local r=$(( ($1 * 100 + $2 / 2) / $2 ))
  printf '%d.%02d' $((r / 100)) $((r % 100))
}
echo "ratio compare / simulate:" \
  "wall $(ratio "$(cs "$c_secs")" "$(cs "$s_secs")")," \
  "cpu $(ratio $(( $(cs "$c_user") + $(cs "$c_sys") )) \
               $(( $(cs "$s_user") + $(cs "$s_sys") ))) (target <= 1.50)"
