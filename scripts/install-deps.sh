#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages that building and testing
# rtcbill needs (compiler, CMake, pkg-config, Lua 5.4, libuv, cmocka,
# busted, lua-cjson, Python 3 for the acceptance runner and the daemon's
# tests, Chromium for the report test, SQLite and http-parser for the
# daemon). Safe to run again:
# it checks each package with dpkg-query and prints nothing when all are
# present. Depends on: dpkg and apt-get (Debian or Ubuntu), root or sudo.
set -euo pipefail

# lua5.4 goes in first, on its own, so that the `lua` that lua-busted
# depends on is 5.4 and not an older interpreter pulled in by apt.
first=(lua5.4)
rest=(cmake pkg-config liblua5.4-dev lua-cjson libuv1-dev libcmocka-dev
      lua-busted python3 chromium libsqlite3-dev libhttp-parser-dev)

die() {
  echo "install-deps: $*" >&2
  exit 1
}

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

command -v dpkg-query >/dev/null 2>&1 ||
  die "dpkg-query not found; install the packages by hand: ${first[*]} ${rest[*]} and a C compiler with make"

# A C toolchain: build-essential, or at least gcc and make.
if ! installed build-essential && ! { installed gcc && installed make; }; then
  rest=(build-essential "${rest[@]}")
fi

missing_first=()
for p in "${first[@]}"; do installed "$p" || missing_first+=("$p"); done
missing_rest=()
for p in "${rest[@]}"; do installed "$p" || missing_rest+=("$p"); done

if [ ${#missing_first[@]} -eq 0 ] && [ ${#missing_rest[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  die "missing packages: ${missing_first[*]} ${missing_rest[*]}; run this script as root (sudo is not available)"
fi

apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q)

echo "install-deps: installing ${missing_first[*]} ${missing_rest[*]}"
"${apt[@]}" update
if [ ${#missing_first[@]} -gt 0 ]; then
  "${apt[@]}" install --no-install-recommends "${missing_first[@]}"
fi
if [ ${#missing_rest[@]} -gt 0 ]; then
  "${apt[@]}" install --no-install-recommends "${missing_rest[@]}"
fi
