#!/usr/bin/env bash
# run.sh: builds the libFuzzer targets and runs one (or all) for a time.
#
# usage: tests/fuzz/run.sh TARGET|all [SECONDS] [extra libFuzzer flags]
#   TARGET   event, money, time or rules (tests/fuzz/fuzz_TARGET.c)
#   SECONDS  how long each target runs (default 60)
#
# Builds with Debian's clang: -fsanitize=fuzzer,address,undefined, into
# build-fuzz/ (apart from build/ and build-asan/). Each target starts
# from its checked-in seeds, tests/fuzz/corpus/TARGET/, and writes what
# it learns to build-fuzz/corpus/TARGET/ (the checked-in seeds are never
# modified); a crash, leak or broken invariant is saved as
# build-fuzz/crash-TARGET-* and the script exits non-zero. The last
# libFuzzer status line (executions, exec/s, cov, ft, corpus) is printed
# and kept in build-fuzz/TARGET.log. A finding is turned into a
# regression by copying the input into tests/fuzz/corpus/TARGET/ once
# fixed: `make test` replays that folder (ctest fuzz_replay_TARGET).
# Depends on: bash, clang 14 with libclang-rt (libFuzzer), pkg-config,
# liblua5.4-dev, libuv1-dev, cmake (the rules host's embedded script).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="$repo/build-fuzz"
target=${1:-}
seconds=${2:-60}
shift $(($# > 2 ? 2 : $#))
CC=${CC:-clang}

targets=(event money time rules)
if [ -z "$target" ]; then
  echo "usage: $0 event|money|time|rules|all [SECONDS] [libFuzzer flags]" >&2
  exit 2
fi
if [ "$target" = all ]; then
  status=0
  for t in "${targets[@]}"; do
    "$0" "$t" "$seconds" "$@" || status=1
  done
  exit $status
fi
case " ${targets[*]} " in
  *" $target "*) ;;
  *) echo "run.sh: unknown target '$target'" >&2; exit 2 ;;
esac
command -v "$CC" >/dev/null || {
  echo "run.sh: $CC not found (apt-get install clang)" >&2
  exit 2
}

mkdir -p "$out/obj" "$out/corpus/$target"
cflags=(-std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -Wall -Wextra -Werror
        -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
        -fno-sanitize-recover=all
        -I"$repo/core/include" -I"$repo/core" -I"$repo/bindings/lua"
        $(pkg-config --cflags lua5.4 libuv)
        -DRTCBILL_SOURCE_RULES_DIR="\"$repo/rules\"")
libs=($(pkg-config --libs lua5.4 libuv) -lm)

# The whole core (it is small, and taking it whole keeps the script
# right when files are added); the rules target adds the rules host.
srcs=(core/*.c)
[ "$target" = rules ] && srcs+=(bindings/lua/*.c)
# Rule files are a few kilobytes; event lines and values are short.
maxlen=4096
[ "$target" = rules ] && maxlen=16384

bin="$out/fuzz_$target"
objs=()
cd "$repo"
# The rules host builds check.lua in as C data (bindings/lua/embed.cmake).
if [ "$target" = rules ] && [ -f bindings/lua/embed.cmake ]; then
  cmake -DIN=bindings/lua/check.lua -DOUT="$out/obj/check_lua.c" \
        -DNAME=rb__lua_check_src -P bindings/lua/embed.cmake
  srcs+=("$out/obj/check_lua.c")
fi
for s in "${srcs[@]}" "tests/fuzz/fuzz_$target.c"; do
  o="$out/obj/$target-$(echo "$s" | tr '/' '_').o"
  if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ "$0" -nt "$o" ] ||
     [ -n "$(find core/include core/*.h bindings/lua/*.h tests/fuzz/fuzz.h \
              -newer "$o" 2>/dev/null | head -1)" ]; then
    "$CC" "${cflags[@]}" -c "$s" -o "$o"
  fi
  objs+=("$o")
done
"$CC" -fsanitize=fuzzer,address,undefined "${objs[@]}" "${libs[@]}" -o "$bin"

dict=()
[ -f "tests/fuzz/$target.dict" ] && dict=(-dict="$repo/tests/fuzz/$target.dict")
log="$out/$target.log"
echo "run.sh: fuzzing $target for ${seconds}s (log: $log)"
set +e
(cd "$out" && \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ASAN_OPTIONS=detect_leaks=1 \
  "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560 \
    -max_len=$maxlen -print_final_stats=1 -artifact_prefix="crash-$target-" \
    "${dict[@]}" "$@" "corpus/$target" "$repo/tests/fuzz/corpus/$target") \
  >"$log" 2>&1
rc=$?
set -e
grep -E '^#[0-9]+' "$log" | tail -1 || true
grep -E '^stat::' "$log" || true
if [ $rc -ne 0 ]; then
  echo "run.sh: $target FOUND something (exit $rc); see $log" >&2
  grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" >&2 || true
  exit 1
fi
echo "run.sh: $target: no finding in ${seconds}s"
