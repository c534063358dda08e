#!/bin/sh
# test_report.sh: report.html renders in headless Chromium, without
# console errors, and shows its charts and numbers.
#
# usage: sh tests/cli/test_report.sh BINARY
#
# Runs `rtcbill compare` on the example month (default rules against
# examples/compare/rules-b), loads report.html from disk in Debian's
# chromium with networking off, dumps the DOM after scripts ran and
# checks: the three SVG charts with their bars, the revenue figures that
# compare.json states, the sortable accounts table with a row per
# account, and a Chromium log free of JavaScript errors. With SCREENSHOT
# set it also writes a 1280x2000 screenshot there (docs/img/report.png is
# made this way). Fails when chromium is absent: `make deps` installs it.
# Depends on: a POSIX shell, chromium, grep, mktemp.
set -u
bin=${1:?usage: test_report.sh BINARY}
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "FAIL: chromium is not installed (run make deps)"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { # name, then a command that must succeed
  name=$1
  shift
  if "$@" >/dev/null 2>&1; then
    echo "ok   $name"
  else
    echo "FAIL $name"
    fail=1
  fi
}

"$bin" compare --rules rules --against examples/compare/rules-b \
  --out "$work/out" \
  examples/compare/month.jsonl >"$work/stdout" 2>&1
check "compare exits 0" test $? -eq 0

# Headless Chromium, isolated: its own profile, no network features, the
# page's console messages in the log.
run_chromium() {
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
    --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --disable-extensions \
    --user-data-dir="$(mktemp -d "$work/profile.XXXXXX")" \
    --enable-logging=stderr --v=0 "$@"
}
run_chromium --dump-dom "file://$work/out/report.html" \
  >"$work/dom.html" 2>"$work/chromium.log"
check "chromium renders the page" test -s "$work/dom.html"

dom=$work/dom.html
has() { grep -q -F -- "$1" "$dom"; }
check "distribution chart" has '<svg id="chart-deltas"'
check "tier chart" has '<svg id="chart-tiers"'
check "top movers chart" has '<svg id="chart-movers"'
bars=$(grep -o '<rect class="bar"' "$dom" | wc -l)
check "the charts have bars ($bars)" test "$bars" -ge 20
# The numbers of compare.json, as the page shows them (grouped by
# thousands): revenue A, revenue B and the delta.
rev() { # compare.json's revenue.<key>, e.g. A
  grep -o "\"revenue\":{[^}]*}" "$work/out/compare.json" |
    grep -o "\"$1\":\"[-0-9.]*\"" | head -1 | cut -d'"' -f4
}
group() { # 4502.72 -> 4,502.72
  echo "$1" |
    sed -e ':a' -e 's/^\([-+]\{0,1\}[0-9]\{1,\}\)\([0-9]\{3\}\)/\1,\2/' \
      -e 'ta'
}
a=$(group "$(rev A)")
b=$(group "$(rev B)")
d=$(group "$(rev delta)")
check "revenue A $a shown" has "<b>$a</b>"
check "revenue B $b shown" has "<b>$b</b>"
check "delta +$d shown" has ">+$d</b>"
rows=$(tr -d '\n' <"$dom" | sed -e 's/.*<table id="accounts"//' \
  -e 's/<\/table>.*//' | grep -o '<tr>' | wc -l)
check "accounts table: header + 300 rows ($rows)" test "$rows" -eq 301
check "the table is sortable" has 'class="sortable"'
# No page error. Chromium logs every console message of the page as a
# ":CONSOLE" line (an uncaught exception as "Uncaught ..."), whatever its
# level; the report writes nothing to the console, so any such line is a
# failure.
check "no uncaught JavaScript error" sh -c \
  "! grep -q 'Uncaught' '$work/chromium.log'"
check "no console message at all" sh -c \
  "! grep -q ':CONSOLE' '$work/chromium.log'"
check "no Content-Security-Policy violation" sh -c \
  "! grep -q 'Content Security Policy' '$work/chromium.log'"

if [ -n "${SCREENSHOT:-}" ]; then
  run_chromium --screenshot="$SCREENSHOT" --window-size=1280,2000 \
    --hide-scrollbars "file://$work/out/report.html" 2>/dev/null
  check "screenshot written to $SCREENSHOT" test -s "$SCREENSHOT"
fi
if [ "$fail" -ne 0 ]; then
  echo "--- chromium log:"
  grep -v dbus "$work/chromium.log" | tail -20
fi
exit "$fail"
