-- test_malformed.lua: a bad line is rejected alone and changes nothing.
--
-- usage: lua5.4 tests/cli/test_malformed.lua BINARY
--
-- A valid base file is simulated once and its bills.jsonl and
-- notices.jsonl are kept. Then, for each kind of malformed or invalid
-- line, that line is inserted in the middle of the base file and the
-- run must: exit 1, write exactly one record to rejects.jsonl with the
-- inserted line's number and the expected error code (and field, where
-- given), and leave bills.jsonl and notices.jsonl byte-identical to the
-- base run's. A few harmless variants (blank lines, CRLF endings) must
-- exit 0 with no reject and the same outputs. Prints one line per kind
-- and `N passed, N failed`; exits 1 on any failure.
-- Depends on: Lua 5.4, lua-cjson, a POSIX shell (mktemp, rm).

local cjson = require("cjson")

local BASE = {
  [[{"type":"account","account":"A1","at":"2019-06-01T09:00:00+08:00","balance":"100.00"}]],
  [[{"type":"app","app":1400000001,"account":"A1","at":"2019-06-01T09:05:00+08:00","postpaid":true}]],
  [[{"type":"account","account":"D1","at":"2020-10-01T09:00:00+08:00","balance":"50.00"}]],
  [[{"type":"app","app":1400000002,"account":"D1","at":"2020-10-01T09:05:00+08:00","postpaid":true}]],
  [[{"type":"package","package":"P1","account":"D1","at":"2020-11-01T08:00:00+08:00","kind":"general","minutes":25000,"price":"168.00"}]],
  [[{"type":"usage","id":"u1","app":1400000001,"user":"x","room":"r1","start":"2020-11-10T20:00:00+08:00","seconds":1800}]],
  -- The bad line goes here, as line 7.
  [[{"type":"usage","id":"u2","app":1400000001,"user":"y","room":"r1","start":"2020-11-11T20:00:00+08:00","seconds":600,"video":[{"offset":0,"seconds":600,"width":640,"height":360}]}]],
  [[{"type":"usage","id":"u3","app":1400000002,"user":"z","room":"r2","start":"2020-11-12T20:00:00+08:00","seconds":600}]],
  [[{"type":"topup","account":"A1","at":"2020-11-13T10:00:00+08:00","amount":"10.00"}]],
  [[{"type":"usage","id":"u4","app":1400000001,"user":"x","room":"r1","start":"2020-11-20T20:00:00+08:00","seconds":900}]],
}
local INSERT_AT = 7

-- A valid usage line with one field's text replaced, so that each case
-- differs from a good line in exactly one way.
local GOOD_USAGE = [[{"type":"usage","id":"u9","app":1400000001,"user":"q","room":"r9","start":"2020-11-11T21:00:00+08:00","seconds":600}]]
local function usage_with(from, to)
  local s, n = GOOD_USAGE:gsub(from, to, 1)
  assert(n == 1, "pattern not in the good usage line: " .. from)
  return s
end

-- A line padded with trailing blanks (valid JSON white space) to n bytes.
local function padded(line, n)
  return line .. (" "):rep(n - #line)
end
local LINE_MAX = 1 << 20

local function deep(n)
  return [[{"type":"usage","x":]] .. ("["):rep(n) .. ("]"):rep(n) .. "}"
end

local KINDS = {
  -- Parse level: JSON syntax.
  { "truncated line", [[{"type":"usage","id":"u9",]], "bad_json" },
  { "trailing garbage", GOOD_USAGE .. " x", "bad_json" },
  { "two objects", GOOD_USAGE .. GOOD_USAGE, "bad_json" },
  { "invalid UTF-8", usage_with('"user":"q"', '"user":"q\xff"'), "bad_json" },
  { "lone surrogate", usage_with('"user":"q"', '"user":"\\ud800"'),
    "bad_json" },
  { "raw control character", usage_with('"user":"q"', '"user":"q\x01"'),
    "bad_json" },
  { "NaN", usage_with('"seconds":600', '"seconds":NaN'), "bad_json" },
  { "leading zero", usage_with('"seconds":600', '"seconds":0600'),
    "bad_json" },
  { "deep nesting", deep(20), "bad_json" },
  { "duplicate key", usage_with('"seconds":600', '"seconds":600,"seconds":60'),
    "bad_json" },
  { "not an object", "[1,2,3]", "bad_json" },
  { "line too long", usage_with('"user":"q"',
      '"user":"' .. ("a"):rep(LINE_MAX + 10) .. '"'), "line_too_long" },
  { "one byte over the line limit", padded(GOOD_USAGE, LINE_MAX + 1),
    "line_too_long" },
  -- Parse level: types and values.
  { "exponent integer", usage_with('"seconds":600', '"seconds":1e3'),
    "bad_field", "seconds" },
  { "fractional seconds", usage_with('"seconds":600', '"seconds":1.5'),
    "bad_field", "seconds" },
  { "past int64", usage_with('"seconds":600',
      '"seconds":9223372036854775808'), "out_of_range", "seconds" },
  { "negative seconds", usage_with('"seconds":600', '"seconds":-5'),
    "out_of_range", "seconds" },
  { "app as string", usage_with('"app":1400000001', '"app":"1400000001"'),
    "bad_field", "app" },
  { "user as number", usage_with('"user":"q"', '"user":7'), "bad_field",
    "user" },
  { "empty id", usage_with('"id":"u9"', '"id":""'), "bad_field", "id" },
  { "impossible date", usage_with('2020%-11%-11T21', '2020-11-31T21'),
    "bad_time", "start" },
  { "time without offset", usage_with('21:00:00%+08:00', '21:00:00'),
    "bad_time", "start" },
  { "fractional time", usage_with('21:00:00%+08:00', '21:00:00.5+08:00'),
    "bad_time", "start" },
  { "missing room", usage_with(',"room":"r9"', ''), "missing_field",
    "room" },
  { "missing type", usage_with('"type":"usage",', ''), "missing_field",
    "type" },
  { "unknown type",
    [[{"type":"refund","account":"A1","at":"2020-11-11T10:00:00+08:00"}]],
    "unknown_type" },
  { "money as number",
    [[{"type":"topup","account":"A1","at":"2020-11-11T10:00:00+08:00","amount":12.5}]],
    "bad_money", "amount" },
  { "nine-decimal money",
    [[{"type":"topup","account":"A1","at":"2020-11-11T10:00:00+08:00","amount":"1.000000001"}]],
    "bad_money", "amount" },
  { "negative top-up",
    [[{"type":"topup","account":"A1","at":"2020-11-11T10:00:00+08:00","amount":"-5.00"}]],
    "out_of_range", "amount" },
  { "postpaid not a boolean",
    [[{"type":"app","app":1400000009,"account":"A1","at":"2020-11-11T10:00:00+08:00","postpaid":"yes"}]],
    "bad_field", "postpaid" },
  { "unknown cycle",
    [[{"type":"change_cycle","account":"A1","at":"2020-11-11T10:00:00+08:00","cycle":"weekly"}]],
    "bad_field", "cycle" },
  { "segment outside presence", usage_with('"seconds":600',
      '"seconds":600,"video":[{"offset":500,"seconds":200,"width":640,"height":360}]'),
    "segment_outside" },
  { "zero width", usage_with('"seconds":600',
      '"seconds":600,"video":[{"offset":0,"seconds":60,"width":0,"height":360}]'),
    "out_of_range" },
  -- Engine level: valid lines that the state refuses.
  { "top-up of unknown account",
    [[{"type":"topup","account":"ZZ","at":"2020-11-11T10:00:00+08:00","amount":"5.00"}]],
    "unknown_account" },
  { "app of unknown account",
    [[{"type":"app","app":1400000009,"account":"ZZ","at":"2020-11-11T10:00:00+08:00","postpaid":true}]],
    "unknown_account" },
  { "package of unknown account",
    [[{"type":"package","package":"P9","account":"ZZ","at":"2020-11-11T10:00:00+08:00","kind":"general","minutes":25000,"price":"168.00"}]],
    "unknown_account" },
  { "usage of unknown app", usage_with('"app":1400000001', '"app":1499999999'),
    "unknown_app" },
  { "enable_postpaid of unknown app",
    [[{"type":"enable_postpaid","app":1499999999,"at":"2020-11-11T10:00:00+08:00"}]],
    "unknown_app" },
  { "app created twice",
    [[{"type":"app","app":1400000001,"account":"D1","at":"2020-11-11T10:00:00+08:00","postpaid":true}]],
    "duplicate_app" },
  { "account created twice",
    [[{"type":"account","account":"A1","at":"2020-11-11T10:00:00+08:00","balance":"1.00"}]],
    "duplicate_account" },
  { "package bought twice",
    [[{"type":"package","package":"P1","account":"D1","at":"2020-11-11T10:00:00+08:00","kind":"general","minutes":25000,"price":"168.00"}]],
    "duplicate_package" },
  { "unknown package kind",
    [[{"type":"package","package":"P9","account":"D1","at":"2020-11-11T10:00:00+08:00","kind":"gold","minutes":25000,"price":"168.00"}]],
    "bad_field", "kind" },
  { "disable_postpaid",
    [[{"type":"disable_postpaid","app":1400000001,"at":"2020-11-11T10:00:00+08:00"}]],
    "postpaid_irreversible" },
  -- Same id as u1 (effective 20:30), other content, effective later
  -- (20:40), so that it is the one found in conflict.
  { "usage id reused with other content",
    [[{"type":"usage","id":"u1","app":1400000001,"user":"x","room":"r9","start":"2020-11-10T20:00:00+08:00","seconds":2400}]],
    "conflict" },
  { "daily to monthly",
    [[{"type":"change_cycle","account":"D1","at":"2020-11-11T10:00:00+08:00","cycle":"monthly"}]],
    "cycle_change_not_allowed" },
}

-- Variants that must change nothing and reject nothing.
local HARMLESS = {
  { "empty line", { "" } },
  { "white space line", { " \t " } },
  { "several blank lines", { "", "   ", "" } },
  { "blank line longer than the limit", { (" "):rep(2 * LINE_MAX) } },
}

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local s = f:read("a")
  f:close()
  return s
end

local function write_all(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local binary = arg[1]
if not binary then
  io.stderr:write("usage: lua5.4 test_malformed.lua BINARY\n")
  os.exit(2)
end

local p = io.popen("mktemp -d")
local TMP = p:read("l")
p:close()
assert(TMP and TMP ~= "", "mktemp -d failed")

-- Runs simulate on the given lines; returns the exit status and the
-- output folder's files.
local run_no = 0
local function simulate(lines, eol, no_final_eol)
  run_no = run_no + 1
  local input = ("%s/in%d.jsonl"):format(TMP, run_no)
  local out = ("%s/out%d"):format(TMP, run_no)
  eol = eol or "\n"
  write_all(input, table.concat(lines, eol) .. (no_final_eol and "" or eol))
  local _, how, code = os.execute(("%s simulate --out %s %s >/dev/null 2>%s")
    :format(sh_quote(binary), sh_quote(out), sh_quote(input),
            sh_quote(out .. ".err")))
  local res = {
    code = how == "exit" and code or -1,
    input = input,
    bills = read_all(out .. "/bills.jsonl"),
    notices = read_all(out .. "/notices.jsonl"),
    rejects = read_all(out .. "/rejects.jsonl"),
    summary = read_all(out .. "/summary.json"),
    stderr = read_all(out .. ".err") or "",
  }
  os.execute("rm -rf " .. sh_quote(out) .. " " .. sh_quote(out .. ".err") ..
             " " .. sh_quote(input))
  return res
end

local function decode_lines(text)
  local recs = {}
  for line in (text or ""):gmatch("[^\n]+") do
    local ok, v = pcall(cjson.decode, line)
    recs[#recs + 1] = ok and v or { unparsable = line }
  end
  return recs
end

local function with_inserted(extra)
  local lines = {}
  for i = 1, INSERT_AT - 1 do
    lines[#lines + 1] = BASE[i]
  end
  for _, l in ipairs(extra) do
    lines[#lines + 1] = l
  end
  for i = INSERT_AT, #BASE do
    lines[#lines + 1] = BASE[i]
  end
  return lines
end

local passed, failed = 0, 0
local function report(name, problems)
  if #problems == 0 then
    passed = passed + 1
    print("ok   " .. name)
  else
    failed = failed + 1
    print("FAIL " .. name)
    for _, m in ipairs(problems) do
      print("     " .. m)
    end
  end
end

local function same_outputs(res, base, problems)
  if res.bills ~= base.bills then
    problems[#problems + 1] = "bills.jsonl differs from the base run's"
  end
  if res.notices ~= base.notices then
    problems[#problems + 1] = "notices.jsonl differs from the base run's"
  end
end

local base = simulate(BASE)
do
  local problems = {}
  if base.code ~= 0 then
    problems[#problems + 1] = ("base run exit %d: %s"):format(
      base.code, base.stderr:sub(1, 300))
  end
  if not base.bills or not base.bills:find("A1/2020%-11") then
    problems[#problems + 1] = "base run has no A1/2020-11 bill"
  end
  if not base.notices or base.notices == "" then
    problems[#problems + 1] = "base run has no notices"
  end
  if base.rejects ~= "" then
    problems[#problems + 1] = "base run rejected: " .. tostring(base.rejects)
  end
  report("base run", problems)
  if #problems > 0 then
    print(("%d passed, %d failed"):format(passed, failed))
    os.execute("rm -rf " .. sh_quote(TMP))
    os.exit(1)
  end
end

for _, k in ipairs(KINDS) do
  local name, line, code, field = k[1], k[2], k[3], k[4]
  local res = simulate(with_inserted({ line }))
  local problems = {}
  if res.code ~= 1 then
    problems[#problems + 1] = ("exit %d, want 1: %s"):format(
      res.code, res.stderr:sub(1, 300))
  end
  local recs = decode_lines(res.rejects)
  if #recs ~= 1 then
    problems[#problems + 1] = ("%d rejects, want 1: %s"):format(
      #recs, tostring(res.rejects):sub(1, 400))
  else
    local r = recs[1]
    if r.line ~= INSERT_AT then
      problems[#problems + 1] = ("reject line %s, want %d"):format(
        tostring(r.line), INSERT_AT)
    end
    if r.error ~= code then
      problems[#problems + 1] = ("reject error %s, want %s (%s)"):format(
        tostring(r.error), code, tostring(r.message))
    end
    if field and r.field ~= field then
      problems[#problems + 1] = ("reject field %s, want %s"):format(
        tostring(r.field), field)
    end
    if r.file ~= res.input then
      problems[#problems + 1] = ("reject file %s, want %s"):format(
        tostring(r.file), res.input)
    end
  end
  same_outputs(res, base, problems)
  report(name .. " -> " .. code, problems)
end

local function harmless(name, res)
  local problems = {}
  if res.code ~= 0 then
    problems[#problems + 1] = ("exit %d, want 0: %s"):format(
      res.code, res.stderr:sub(1, 300))
  end
  if res.rejects ~= "" then
    problems[#problems + 1] = "rejects: " .. tostring(res.rejects)
  end
  -- Blank lines are skipped, not counted.
  local ok, summary = pcall(cjson.decode, res.summary or "")
  local read = ok and type(summary) == "table" and summary.events and
      summary.events.read
  if read ~= #BASE then
    problems[#problems + 1] = ("%s lines read, want %d"):format(
      tostring(read), #BASE)
  end
  same_outputs(res, base, problems)
  report(name .. " -> no reject", problems)
end

for _, h in ipairs(HARMLESS) do
  harmless(h[1], simulate(with_inserted(h[2])))
end
harmless("CRLF line endings", simulate(BASE, "\r\n"))
harmless("no newline after the last line", simulate(BASE, "\n", true))
do
  local lines = table.move(BASE, 1, #BASE, 1, {})
  lines[INSERT_AT] = padded(BASE[INSERT_AT], LINE_MAX)
  harmless("a line of exactly the limit", simulate(lines))
  harmless("a line of exactly the limit, then CRLF",
           simulate(lines, "\r\n"))
end

os.execute("rm -rf " .. sh_quote(TMP))
print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed > 0 and 1 or 0)
