-- test_corpus.lua: ten thousand hostile lines change nothing.
--
-- usage: lua5.4 tests/cli/test_corpus.lua BINARY [N]
--
-- A valid base file is simulated alone, then again with N (default
-- 10 240) hostile lines from tests/cli/hostile.lua interleaved with its
-- lines (three of them 10 MB long). The second run must exit 1 and:
--  - reject every hostile line, once, with its own line number and the
--    code the generator expects, and nothing else;
--  - use only error codes listed in docs/formats.md;
--  - write messages without raw control characters;
--  - leave bills.jsonl and notices.jsonl identical to the base run's
--    (compared by FNV-1a 64 hashes), and the summary's accepted count,
--    bills, revenue and minutes equal.
-- Depends on: Lua 5.4, lua-cjson, tests/cli/hostile.lua, a POSIX shell
-- (mktemp, rm).

local script_dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = script_dir .. "/?.lua;" .. package.path
local cjson = require("cjson")
local hostile = require("hostile")

local binary = arg[1]
local N = tonumber(arg[2] or "10240")
if not binary then
  io.stderr:write("usage: lua5.4 test_corpus.lua BINARY [N]\n")
  os.exit(2)
end

local BASE = {
  [[{"type":"account","account":"A1","at":"2019-06-01T09:00:00+08:00","balance":"100.00"}]],
  [[{"type":"app","app":1400000001,"account":"A1","at":"2019-06-01T09:05:00+08:00","postpaid":true}]],
  [[{"type":"account","account":"D1","at":"2020-10-01T09:00:00+08:00","balance":"50.00"}]],
  [[{"type":"app","app":1400000002,"account":"D1","at":"2020-10-01T09:05:00+08:00","postpaid":false}]],
  [[{"type":"package","package":"P1","account":"D1","at":"2020-11-01T08:00:00+08:00","kind":"general","minutes":25000,"price":"168.00"}]],
  [[{"type":"usage","id":"u1","app":1400000001,"user":"x","room":"r1","start":"2020-11-10T20:00:00+08:00","seconds":1800}]],
  [[{"type":"usage","id":"u2","app":1400000001,"user":"y","room":"r1","start":"2020-11-11T20:00:00+08:00","seconds":600,"video":[{"offset":0,"seconds":600,"width":640,"height":360}]}]],
  [[{"type":"usage","id":"u3","app":1400000002,"user":"z","room":"r2","start":"2020-11-12T20:00:00+08:00","seconds":600,"video":[{"offset":0,"seconds":300,"width":1280,"height":720}]}]],
  [[{"type":"topup","account":"A1","at":"2020-11-13T10:00:00+08:00","amount":"10.00"}]],
  [[{"type":"usage","id":"u4","app":1400000001,"user":"x","room":"r1","start":"2020-11-20T20:00:00+08:00","seconds":900}]],
  [[{"type":"usage","id":"u5","app":1400000002,"user":"w","room":"r2","start":"2020-11-21T08:00:00+08:00","seconds":5400,"video":[{"offset":60,"seconds":3000,"width":1920,"height":1080}]}]],
  [[{"type":"change_cycle","account":"A1","at":"2020-11-25T10:00:00+08:00","cycle":"daily"}]],
}

-- FNV-1a 64 of a string (Lua integers wrap modulo 2^64).
local function fnv1a(s)
  local h = -3750763034362895579 -- 0xcbf29ce484222325
  for i = 1, #s do
    h = (h ~ s:byte(i)) * 1099511628211
  end
  return ("%016x"):format(h)
end

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

-- The codes docs/formats.md documents: the first column of the table of
-- section 3 ("| `code` | reader" or "| `code` | engine").
local function documented_codes()
  local text = assert(read_all("docs/formats.md"), "docs/formats.md not found")
  local codes = {}
  for code in text:gmatch("\n| `([a-z_]+)` | [re][en][ag][di][en]") do
    codes[code] = true
  end
  return codes
end

local p = io.popen("mktemp -d")
local TMP = p:read("l")
p:close()
assert(TMP and TMP ~= "", "mktemp -d failed")

local function simulate(name, lines)
  local input = TMP .. "/" .. name .. ".jsonl"
  local out = TMP .. "/" .. name
  local f = assert(io.open(input, "wb"))
  for _, l in ipairs(lines) do
    f:write(l, "\n")
  end
  f:close()
  local _, how, code = os.execute(("%s simulate --out %s %s >/dev/null 2>%s")
    :format(sh_quote(binary), sh_quote(out), sh_quote(input),
            sh_quote(out .. ".err")))
  return {
    code = how == "exit" and code or -1,
    input = input,
    bills = read_all(out .. "/bills.jsonl") or "",
    notices = read_all(out .. "/notices.jsonl") or "",
    rejects = read_all(out .. "/rejects.jsonl") or "",
    summary = read_all(out .. "/summary.json") or "",
    stderr = read_all(out .. ".err") or "",
  }
end

local problems = {}
local function problem(fmt, ...)
  if #problems < 40 then
    problems[#problems + 1] = fmt:format(...)
  elseif #problems == 40 then
    problems[#problems + 1] = "... more problems not shown"
  end
end

local clock0 = os.clock()
local hlines, hcodes = hostile.generate(N)
assert(#hlines >= 10000 or N < 10000, "fewer than 10 000 hostile lines")

-- Interleave: the base lines spread evenly among the hostile ones.
local all, expect = {}, {}
local every = #hlines // (#BASE + 1)
local b, h = 1, 1
while b <= #BASE or h <= #hlines do
  if b <= #BASE and (h > #hlines or (h - 1) >= b * every) then
    all[#all + 1] = BASE[b]
    b = b + 1
  else
    all[#all + 1] = hlines[h]
    expect[#all] = hcodes[h]
    h = h + 1
  end
end

local base = simulate("base", BASE)
if base.code ~= 0 or base.rejects ~= "" then
  problem("base run: exit %d, rejects %q: %s", base.code,
          base.rejects:sub(1, 200), base.stderr:sub(1, 300))
end
if not base.bills:find("A1/2020%-11") or not base.bills:find("D1/2020%-11") then
  problem("base run: the expected bills are missing")
end

local run = simulate("hostile", all)
if run.code ~= 1 then
  problem("hostile run: exit %d, want 1: %s", run.code, run.stderr:sub(1, 300))
end

-- Every reject: an expected line, the expected code, a documented code.
local docs = documented_codes()
for _, want in ipairs({ "bad_json", "line_too_long", "unknown_app" }) do
  if not docs[want] then
    problem("docs/formats.md does not list %s: the code table was not found",
            want)
  end
end
local seen, used, nrejects = {}, {}, 0
for line in run.rejects:gmatch("[^\n]+") do
  nrejects = nrejects + 1
  if line:find("[%z\1-\31\127]") then
    problem("a reject record holds a raw control character: %q",
            line:sub(1, 120))
  end
  local ok, rec = pcall(cjson.decode, line)
  if not ok then
    problem("unparsable reject record: %q", line:sub(1, 120))
  else
    used[rec.error] = (used[rec.error] or 0) + 1
    if not docs[rec.error] then
      problem("line %s: code %s is not documented", tostring(rec.line),
              tostring(rec.error))
    end
    if rec.file ~= run.input then
      problem("line %s: file %s", tostring(rec.line), tostring(rec.file))
    end
    local want = expect[rec.line]
    if want == nil then
      problem("line %s (not hostile) was rejected: %s %s", tostring(rec.line),
              tostring(rec.error), tostring(rec.message))
    elseif seen[rec.line] then
      problem("line %d rejected twice", rec.line)
    elseif rec.error ~= want then
      problem("line %d: %s (%s), want %s; line: %q", rec.line,
              tostring(rec.error), tostring(rec.message), want,
              all[rec.line]:sub(1, 160))
    end
    seen[rec.line] = true
    if type(rec.message) ~= "string" or rec.message == "" then
      problem("line %s: no message", tostring(rec.line))
    end
  end
end
for ln, want in pairs(expect) do
  if not seen[ln] then
    problem("hostile line %d (want %s) was not rejected: %q", ln, want,
            all[ln]:sub(1, 160))
  end
end
if nrejects ~= #hlines then
  problem("%d rejects for %d hostile lines", nrejects, #hlines)
end

-- Outputs and state: as if the hostile lines had not been there.
local hb, hr = fnv1a(base.bills .. "\0" .. base.notices),
    fnv1a(run.bills .. "\0" .. run.notices)
if hb ~= hr then
  problem("bills/notices hash %s differs from the base run's %s", hr, hb)
end
local ok1, s1 = pcall(cjson.decode, base.summary)
local ok2, s2 = pcall(cjson.decode, run.summary)
if not (ok1 and ok2) then
  problem("summary.json does not parse")
else
  if s2.events.accepted ~= s1.events.accepted then
    problem("accepted %s, base %s", tostring(s2.events.accepted),
            tostring(s1.events.accepted))
  end
  if s2.events.read ~= #all or s2.events.rejected ~= #hlines then
    problem("read %s rejected %s, want %d and %d", tostring(s2.events.read),
            tostring(s2.events.rejected), #all, #hlines)
  end
  if s2.bills ~= s1.bills or s2.revenue ~= s1.revenue or
      cjson.encode(s2.minutes) ~= cjson.encode(s1.minutes) then
    problem("summary figures differ from the base run's")
  end
end

os.execute("rm -rf " .. sh_quote(TMP))

local codes = {}
for c, n in pairs(used) do
  codes[#codes + 1] = ("%s %d"):format(c, n)
end
table.sort(codes)
print(("%d hostile lines among %d base lines; bills+notices hash %s; " ..
  "%.1f s CPU in Lua"):format(#hlines, #BASE, hb, os.clock() - clock0))
print("codes: " .. table.concat(codes, ", "))
if #problems > 0 then
  for _, m in ipairs(problems) do
    print("FAIL " .. m)
  end
  os.exit(1)
end
print("ok: every hostile line rejected with its code and line; " ..
      "outputs unchanged")
