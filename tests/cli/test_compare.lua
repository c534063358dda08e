-- test_compare.lua: `rtcbill compare` and `rtcbill explain`, end to end.
--
-- usage: lua5.4 tests/cli/test_compare.lua BINARY
--
-- On the example month (examples/compare/month.jsonl):
--   * the default rules against themselves give zero deltas everywhere;
--   * against examples/compare/rules-b (HD 28.00 -> 30.00 per 1000 min)
--     every account's exact delta is its HD postpaid minutes x 2.00 /
--     1000, and every minute count (covered ones included) is unchanged;
--   * against a copy of the rules whose trial has 300 minutes, the
--     policy outcomes that differ (trial users stopped) are reported;
--   * compare.csv is RFC 4180 with one row per account;
--   * rating the accounts in shares changes none of the files.
-- On small hand-made files: HTML and CSV escaping of hostile account
-- ids, and explain on a hand-worked bill (text, JSON, --line, --from).
-- Prints one line per check and `N passed, N failed`; exits 1 on any
-- failure. Depends on: Lua 5.4, lua-cjson, a POSIX shell.

local cjson = require("cjson")

local BIN = assert(arg[1], "usage: test_compare.lua BINARY")
local MONTH = "examples/compare/month.jsonl"
local RULES_B = "examples/compare/rules-b"

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then
    passed = passed + 1
    print("ok   " .. name)
  else
    failed = failed + 1
    print("FAIL " .. name .. (detail and (": " .. tostring(detail)) or ""))
  end
end

local function sh(cmd)
  local ok, _, code = os.execute(cmd)
  return ok and 0 or code
end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local s = p:read("a")
  local _, _, code = p:close()
  return s, code
end

local tmp = capture("mktemp -d"):gsub("%s+$", "")

-- "12.34000000" -> integer units of 1e-8, exactly (no floats).
local function units(s)
  local neg, int, frac = s:match("^(%-?)(%d+)%.?(%d*)$")
  assert(int, "not a decimal: " .. tostring(s))
  frac = (frac .. "00000000"):sub(1, 8)
  local v = math.tointeger(int) * 100000000 + math.tointeger(frac)
  return neg == "-" and -v or v
end

local function compare(b, out, files)
  local code = sh(("%s compare --against %s --out %s %s > %s/stdout 2>&1")
    :format(BIN, b, out, files or MONTH, tmp))
  local json = read_all(out .. "/compare.json")
  local ok, doc = pcall(cjson.decode, json or "")
  return code, ok and doc or nil
end

-- 1. A rule set against itself.
do
  local code, doc = compare("rules", tmp .. "/same")
  check("self: exit 0", code == 0, code)
  check("self: compare.json parses", doc ~= nil)
  if doc then
    local bad
    for _, a in ipairs(doc.accounts) do
      if a.delta ~= "0.00" or a.delta_exact ~= "0.00000000" or
         #a.differences ~= 0 or a.A.total ~= a.B.total then
        bad = a.account
        break
      end
    end
    check("self: 300 accounts", #doc.accounts == 300, #doc.accounts)
    check("self: every account's delta is zero", bad == nil, bad)
    check("self: revenue delta zero", doc.revenue.delta == "0.00" and
          doc.revenue.delta_exact == "0.00000000", doc.revenue.delta)
    local tiers_same = true
    for i, t in ipairs(doc.tiers.A) do
      local u = doc.tiers.B[i]
      tiers_same = tiers_same and t.amount == u.amount and
                   t.postpaid == u.postpaid and t.covered == u.covered
    end
    check("self: tier totals identical", tiers_same)
    local apps_same = true
    for _, p in ipairs(doc.apps) do
      apps_same = apps_same and p.delta_exact == "0.00000000"
    end
    check("self: app deltas zero", apps_same)
  end
end

-- 2. One tier's price changes: HD 28.00 -> 30.00.
do
  local code, doc = compare(RULES_B, tmp .. "/hd")
  check("HD price: exit 0", code == 0, code)
  if doc then
    local pa = doc.rules.A.tiers[3].price_per_1000
    local pb = doc.rules.B.tiers[3].price_per_1000
    check("HD price: the rules differ in HD only", pa == "28.00" and
          pb == "30.00", pa .. " " .. pb)
    local diff = units(pb) - units(pa) -- per 1000 minutes
    local bad, moved, total = nil, 0, 0
    for _, a in ipairs(doc.accounts) do
      local want = a.B.minutes.HD.postpaid * diff // 1000
      if units(a.delta_exact) ~= want then
        bad = ("%s: delta %s, want %d units"):format(a.account,
              a.delta_exact, want)
        break
      end
      for name, m in pairs(a.A.minutes) do
        local n = a.B.minutes[name]
        if m.billable ~= n.billable or m.covered ~= n.covered or
           m.postpaid ~= n.postpaid or m.unbilled ~= n.unbilled then
          bad = a.account .. ": minutes of " .. name .. " differ"
        end
      end
      if units(a.delta_exact) ~= 0 then moved = moved + 1 end
      total = total + want
    end
    check("HD price: delta = HD postpaid x 2.00 / 1000 for every account",
          bad == nil, bad)
    check("HD price: covered and postpaid minutes unchanged", bad == nil, bad)
    check("HD price: some accounts move", moved > 50, moved)
    check("HD price: revenue delta_exact is the sum", units(
          doc.revenue.delta_exact) == total, doc.revenue.delta_exact)
  end
  -- The CSV: BOM, header, one row per account, same deltas.
  local csv = read_all(tmp .. "/hd/compare.csv") or ""
  check("csv: UTF-8 BOM then header", csv:sub(1, 11) ==
        "\xEF\xBB\xBFaccount,")
  local rows = {}
  for line in csv:gmatch("([^\n]*)\n") do rows[#rows + 1] = line end
  check("csv: CRLF line ends", #rows > 0 and rows[1]:sub(-1) == "\r")
  check("csv: header + 300 rows", #rows == 301, #rows)
  local ncols = select(2, rows[1]:gsub(",", ",")) + 1
  local same = true
  for i = 2, #rows do
    if select(2, rows[i]:gsub(",", ",")) + 1 ~= ncols then same = false end
  end
  check("csv: every row has the header's column count", same)
  if doc then
    local first = doc.accounts[1]
    check("csv: first row matches compare.json", rows[2]:sub(1,
          #first.account + #first.A.total + 2) ==
          first.account .. "," .. first.A.total .. ",", rows[2])
  end
end

-- 3. Policy outcomes: a trial of 300 minutes stops trial users earlier.
do
  local dir = tmp .. "/small-trial"
  sh("mkdir -p " .. dir .. " && cp rules/*.lua " .. dir)
  local p = dir .. "/packages.lua"
  local text, n = read_all(p):gsub("minutes = 10000", "minutes = 300", 1)
  assert(n == 1, "the trial size is not where the test expects it")
  write(p, text)
  local code, doc = compare(dir, tmp .. "/trial")
  check("trial 300: exit 0", code == 0, code)
  local stopped
  for _, a in ipairs(doc and doc.accounts or {}) do
    for _, d in ipairs(a.differences) do
      if d.what == "service_stopped" and d.A == "none" and
         d.B == "trial_exhausted" and d.app then
        stopped = stopped or a
      end
    end
  end
  check("trial 300: an app stopped under B but not A is reported",
        stopped ~= nil)
  local html = read_all(tmp .. "/trial/report.html") or ""
  check("trial 300: the report lists the difference",
        html:find("service_stopped", 1, true) ~= nil)
end

-- 3b. Accounts in shares (one engine after another per rule set) give
-- the same files as one engine per rule set, rejects included (a line
-- with an unknown app is added to the month).
do
  local f = tmp .. "/month-rejects.jsonl"
  write(f, (read_all(MONTH) or "") ..
        '{"type":"usage","id":"nobody","app":1999999999,"user":"u",' ..
        '"room":"r","start":"2020-11-05T10:00:00+08:00","seconds":60}\n')
  local outs = {}
  for _, shares in ipairs({ 1, 7, 64 }) do
    local out = ("%s/shares-%d"):format(tmp, shares)
    local code = sh(("%s compare --shares %d --against %s --out %s %s " ..
                     "> %s/stdout 2>&1"):format(BIN, shares, RULES_B, out, f,
                                                 tmp))
    outs[shares] = { code = code, json = read_all(out .. "/compare.json"),
                     csv = read_all(out .. "/compare.csv"),
                     html = read_all(out .. "/report.html") }
  end
  local one = outs[1]
  check("compare --shares 1: exit 1 for the rejected line", one.code == 1,
        one.code)
  check("compare --shares 1: the reject is listed", one.json ~= nil and
        one.json:find('"error":"unknown_app"', 1, true) ~= nil)
  for _, shares in ipairs({ 7, 64 }) do
    local o = outs[shares]
    check(("compare --shares %d: same exit, compare.json, compare.csv and " ..
           "report.html as one engine"):format(shares),
          o.code == one.code and o.json == one.json and o.csv == one.csv and
          o.html == one.html and one.json ~= nil)
  end
end

-- 4. Hostile account ids: escaped in HTML, quoted in CSV.
do
  local id = [[x<script>alert("1")</script>,=cmd]]
  local esc = id:gsub('"', '\\"')
  write(tmp .. "/evil.jsonl", table.concat({
    ('{"type":"account","account":"%s","at":"2019-06-01T09:00:00+08:00",' ..
     '"balance":"10.00"}'):format(esc),
    ('{"type":"app","app":7,"account":"%s","at":"2019-06-01T09:05:00+08:00"' ..
     ',"postpaid":true}'):format(esc),
    '{"type":"usage","id":"e1","app":7,"user":"u","room":"r","start":' ..
    '"2020-11-02T08:00:00+08:00","seconds":600,"video":[{"offset":0,' ..
    '"seconds":600,"width":1280,"height":720}]}',
  }, "\n") .. "\n")
  local code = compare(RULES_B, tmp .. "/evil", tmp .. "/evil.jsonl")
  check("escaping: exit 0", code == 0, code)
  local html = read_all(tmp .. "/evil/report.html") or ""
  check("escaping: no raw <script> from the data",
        not html:find("<script>alert", 1, true))
  check("escaping: the id is shown escaped", html:find(
        "x&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;,=cmd", 1, true)
        ~= nil)
  local csv = read_all(tmp .. "/evil/compare.csv") or ""
  check("escaping: CSV quotes the id and doubles its quotes", csv:find(
        '\n"x<script>alert(""1"")</script>,=cmd",', 1, true) ~= nil)
  -- 10 HD minutes: 0.28 under A, 0.30 under B.
  check("escaping: totals", csv:find(',0.28,0.30,0.02,7.14,', 1, true) ~= nil)
end

-- 5. explain on a hand-worked bill. Account A is monthly and postpaid; it
-- buys a 10-minute general package G (factor 4 for HD). Two HD sessions
-- of 100 s and 50 s: the running total is 100 s = 2 min, then 150 s =
-- 3 min. G covers 2 HD minutes (8 of its 10 package minutes), the third
-- is postpaid at 28.00 / 1000 = 0.028. A 61 s audio session is 2 audio
-- minutes, covered by G's last 2 package minutes at factor 1. The bill:
-- sum 0.028, total 0.03, precision_diff 0.002.
do
  write(tmp .. "/x.jsonl", table.concat({
    '{"type":"account","account":"A","at":"2019-06-01T09:00:00+08:00",' ..
    '"balance":"100.00"}',
    '{"type":"app","app":1,"account":"A","at":"2019-06-01T09:05:00+08:00",' ..
    '"postpaid":true}',
    '{"type":"account","account":"Z","at":"2019-06-01T09:00:00+08:00",' ..
    '"balance":"1.00"}',
    '{"type":"app","app":2,"account":"Z","at":"2019-06-01T09:05:00+08:00",' ..
    '"postpaid":true}',
    '{"type":"package","package":"G","account":"A","at":' ..
    '"2020-11-01T09:00:00+08:00","kind":"general","minutes":10,' ..
    '"price":"1.00"}',
    '{"type":"usage","id":"h1","app":1,"user":"u","room":"r","start":' ..
    '"2020-11-02T08:00:00+08:00","seconds":100,"video":[{"offset":0,' ..
    '"seconds":100,"width":1280,"height":720}]}',
    '{"type":"usage","id":"z1","app":2,"user":"u","room":"r","start":' ..
    '"2020-11-02T08:00:00+08:00","seconds":100}',
    '{"type":"usage","id":"h2","app":1,"user":"v","room":"r","start":' ..
    '"2020-11-03T08:00:00+08:00","seconds":50,"video":[{"offset":0,' ..
    '"seconds":50,"width":1280,"height":720}]}',
    '{"type":"usage","id":"a1","app":1,"user":"v","room":"r","start":' ..
    '"2020-11-03T09:00:00+08:00","seconds":61}',
  }, "\n") .. "\n")
  local out, code = capture(("%s explain --bill A/2020-11 --line 1/HD " ..
                             "--json %s/x.jsonl"):format(BIN, tmp))
  check("explain: exit 0", code == 0, code)
  local ok, e = pcall(cjson.decode, out)
  check("explain: JSON parses", ok, out)
  if ok then
    local l = e.lines[1]
    check("explain: one line, app 1 HD", #e.lines == 1 and l.app == 1 and
          l.tier == "HD")
    check("explain: 2 sessions, 150 s, 3 minutes", l.sessions == 2 and
          l.seconds == 150 and l.minutes == 3, out)
    check("explain: running totals 100 s = 2 min, 150 s = 3 min",
          l.usage[1].id == "h1" and l.usage[1].total_seconds == 100 and
          l.usage[1].minutes == 2 and l.usage[2].id == "h2" and
          l.usage[2].total_seconds == 150 and l.usage[2].minutes == 3)
    check("explain: G covered 2 minutes at factor 4 (8 package minutes)",
          #l.covers == 1 and l.covers[1].package == "G" and
          l.covers[1].minutes == 2 and l.covers[1].factor == 4 and
          l.covers[1].package_minutes == 8 and l.covered == 2)
    check("explain: 1 postpaid minute x 28.00 / 1000 = 0.02800000",
          l.postpaid == 1 and l.uncovered.postpaid == 1 and
          l.price_per_1000 == "28.00" and l.amount == "0.02800000")
    check("explain: bill sum, rounding, precision_diff",
          e.sum == "0.02800000" and e.total == "0.03" and
          e.total_unit == "0.01" and e.precision_diff == "0.00200000")
    local sim = capture(BIN .. " simulate --out " .. tmp .. "/xs " ..
                        tmp .. "/x.jsonl")
    check("explain: rules version is the bill's", sim:find(
          "rules:  " .. e.rules, 1, true) ~= nil, e.rules)
  end
  local text = capture(("%s explain --bill A/2020-11 %s/x.jsonl")
                       :format(BIN, tmp))
  check("explain text: the audio line covered at factor 1", text:find(
        "package G: 2 min x factor 1 = 2 package minutes", 1, true) ~= nil,
        text)
  check("explain text: the ceil", text:find("minutes: ceil(150 s / 60) = 3",
        1, true) ~= nil)
  check("explain text: the postpaid product", text:find(
        "postpaid: 1 min x 28.00 / 1000 = 0.02800000 CNY", 1, true) ~= nil)
  check("explain text: the rounding", text:find(
        "total: rounded half-up to 0.01 = 0.03 CNY", 1, true) ~= nil and
        text:find("precision_diff: total - sum = 0.00200000", 1, true) ~= nil)
  local from = capture(("%s explain --bill A/2020-11 --from %s/xs")
                       :format(BIN, tmp))
  check("explain --from DIR: same as from the files", from == text, from)
  local _, c1 = capture(("%s explain --bill A/2020-10 %s/x.jsonl 2>&1")
                        :format(BIN, tmp))
  local _, c2 = capture(("%s explain --bill A/2020-11 --line 1/SD %s/x.jsonl" ..
                         " 2>&1"):format(BIN, tmp))
  check("explain: unknown bill or line exits 1", c1 == 1 and c2 == 1)
end

sh("rm -rf " .. tmp)
print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
