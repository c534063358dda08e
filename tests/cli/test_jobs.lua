-- test_jobs.lua: `simulate --jobs N --shares S` writes exactly what one
-- engine writes.
--
-- usage: lua5.4 tests/cli/test_jobs.lua BINARY
--
-- Each input is simulated on one engine (--jobs 1 --shares 1) and with
-- more threads, more shares, or both (shares run one after another on
-- their thread: --jobs 1 --shares 7 is seven engines on one thread);
-- bills.jsonl, notices.jsonl and rejects.jsonl must be byte for byte the
-- same, and so must the exit status and the summary's counts, bills,
-- revenue and minutes. The inputs: every scenario of tests/scenarios (with its
-- rules, files and --until), the example year and the TRTC examples, the
-- 300-account comparison month, a generated month with duplicates and
-- late records (bench/gen.lua), and inputs that cannot be shared out
-- (one usage id in several accounts, an app under two accounts), which
-- must still give the same files (and say, in summary.json "engines",
-- that one engine ran). Where sharing is possible the summary must show
-- that it happened, so that the test cannot pass by never sharing.
-- Depends on: Lua 5.4, lua-cjson, a POSIX shell (mktemp, ls, rm).

local cjson = require("cjson")

local binary = arg[1]
if not binary then
  io.stderr:write("usage: lua5.4 test_jobs.lua BINARY\n")
  os.exit(2)
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

local function write_all(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local tmp = io.popen("mktemp -d"):read("l")
local failures, checks = 0, 0

local function fail(name, msg)
  failures = failures + 1
  print(("FAIL %s: %s"):format(name, msg))
end

-- Runs simulate with `jobs` threads and `shares` shares (nil: as many
-- as threads); returns the exit status and the output folder.
local function simulate(name, jobs, files, opts, shares)
  shares = shares or jobs
  local out = ("%s/%s-%d-%d"):format(tmp, name:gsub("[^%w]", "_"), jobs,
                                     shares)
  local cmd = { sh_quote(binary), "simulate", "--jobs", tostring(jobs),
                "--shares", tostring(shares), "--out", sh_quote(out) }
  if opts.rules then
    cmd[#cmd + 1] = "--rules " .. sh_quote(opts.rules)
  end
  if opts["until"] then
    cmd[#cmd + 1] = "--until " .. sh_quote(opts["until"])
  end
  for _, f in ipairs(files) do
    cmd[#cmd + 1] = sh_quote(f)
  end
  local ok, _, code = os.execute(table.concat(cmd, " ") .. " >/dev/null 2>&1")
  return ok and 0 or code, out
end

local function summary(out)
  local text = read_all(out .. "/summary.json")
  if not text then
    return nil
  end
  local okj, s = pcall(cjson.decode, text)
  return okj and s or nil
end

-- Compares the runs in `list` against one engine; an entry is a number
-- of threads (as many shares) or { jobs, shares }. `shared`: true, every
-- run must have shared the work out; false, none may have (the input
-- cannot be shared); nil, either.
local function compare(name, files, opts, list, shared)
  local code1, out1 = simulate(name, 1, files, opts, 1)
  local s1 = summary(out1)
  if not s1 then
    fail(name, "no summary.json with one engine")
    return
  end
  for _, run in ipairs(list) do
    local jobs, shares = run, run
    if type(run) == "table" then
      jobs, shares = run[1], run[2]
    end
    local code, out = simulate(name, jobs, files, opts, shares)
    local tag = ("%s --jobs %d --shares %d"):format(name, jobs, shares)
    checks = checks + 1
    if code ~= code1 then
      fail(tag, ("exit %s, one engine exits %s"):format(code, code1))
    end
    for _, f in ipairs({ "bills.jsonl", "notices.jsonl", "rejects.jsonl" }) do
      local a, b = read_all(out1 .. "/" .. f), read_all(out .. "/" .. f)
      if a == nil or b == nil or a ~= b then
        fail(tag, f .. " differs from one engine's")
      end
    end
    local s = summary(out)
    if not s then
      fail(tag, "no summary.json")
    else
      for _, k in ipairs({ "bills", "revenue" }) do
        if s[k] ~= s1[k] then
          fail(tag, ("summary %s %s, one engine %s"):format(k, s[k], s1[k]))
        end
      end
      if cjson.encode(s.events) ~= cjson.encode(s1.events) or
          cjson.encode(s.minutes) ~= cjson.encode(s1.minutes) then
        fail(tag, "summary events or minutes differ from one engine's")
      end
      if shared == true and s.engines ~= shares then
        fail(tag, ("ran on %s engines, not shared out"):format(s.engines))
      elseif shared == false and s.engines ~= 1 then
        fail(tag, ("ran on %s engines, cannot be shared"):format(s.engines))
      end
    end
  end
  print(("ok   %s"):format(name))
end

-- The scenarios, each as its runner runs it.
local dir = "tests/scenarios"
for name in io.popen("ls " .. sh_quote(dir)):lines() do
  local sdir = dir .. "/" .. name
  local text = read_all(sdir .. "/expect.json")
  if text then
    local expect = cjson.decode(text)
    local files = {}
    for _, f in ipairs(expect.files or { "events.jsonl" }) do
      files[#files + 1] = sdir .. "/" .. f
    end
    local opts = { ["until"] = expect["until"] }
    if expect.rules then
      opts.rules = sdir .. "/" .. expect.rules
    end
    compare("scenario " .. name, files, opts, { 2, 3, { 1, 4 } }, nil)
  end
end

compare("example year", { "examples/events/year.jsonl" }, {},
        { 2, 4, { 1, 2 }, { 1, 5 }, { 2, 7 } }, true)
compare("TRTC examples", { "examples/events/trtc-examples.jsonl" }, {},
        { 2 }, true)
compare("comparison month", { "examples/compare/month.jsonl" }, {},
        { 2, 3, { 1, 16 }, { 2, 64 } }, true)
compare("comparison month, rules B", { "examples/compare/month.jsonl" },
        { rules = "examples/compare/rules-b" }, { 2 }, true)
compare("example year until", { "examples/events/year.jsonl" },
        { ["until"] = "2020-07-01T00:00:00+08:00" }, { 2 }, true)

-- A generated month: duplicates, late records, packages, top-ups, daily
-- and monthly accounts, arrears; two files, the second one's lines out
-- of order with the first's.
local month = tmp .. "/month.jsonl"
assert(os.execute("lua5.4 bench/gen.lua 20000 300 > " .. sh_quote(month)))
do
  local lines = {}
  for l in io.lines(month) do
    lines[#lines + 1] = l
  end
  local a, b = {}, {}
  for i, l in ipairs(lines) do
    if i % 7 == 0 then b[#b + 1] = l else a[#a + 1] = l end
  end
  write_all(tmp .. "/a.jsonl", table.concat(a, "\n") .. "\n")
  write_all(tmp .. "/b.jsonl", "\n" .. table.concat(b, "\n\n") .. "\n")
end
compare("generated month", { month }, {},
        { 2, 3, 5, { 1, 3 }, { 1, 256 }, { 2, 9 } }, true)
compare("generated month in two files",
        { tmp .. "/b.jsonl", tmp .. "/a.jsonl" }, {}, { 2 }, true)
do
  local _, out = simulate("generated month", 2, { month }, {})
  local notices = read_all(out .. "/notices.jsonl") or ""
  local s = summary(out) or { events = {} }
  checks = checks + 1
  if (s.events.duplicates or 0) == 0 or not notices:find('"late_usage"') then
    fail("generated month", "no duplicates or no late usage: the month " ..
         "does not test what it should")
  end
end

-- Read in byte ranges (files of 4 MB and more): rejected lines, blank
-- lines, CRLF endings and a 2 MB line around the middle, where a range
-- starts, must keep their line numbers.
do
  local lines = {}
  for l in io.lines(month) do
    lines[#lines + 1] = l
  end
  local out = {}
  for i, l in ipairs(lines) do
    if i == #lines // 2 then
      out[#out + 1] = '{"type":"usage","pad":"' .. string.rep("x", 2 << 20) ..
                      '"}'
    end
    if i % 997 == 0 then
      out[#out + 1] = '{"type":"usage","id":"bad' .. i .. '"'
    elseif i % 991 == 0 then
      out[#out + 1] = "   "
    end
    out[#out + 1] = i % 3 == 0 and l .. "\r" or l
  end
  local f = tmp .. "/ranges.jsonl"
  write_all(f, table.concat(out, "\n") .. "\n")
  compare("ranges with rejects", { f }, {}, { 2, 3, { 1, 6 } }, true)
end

-- One usage id in eight accounts: a conflict across accounts, which a
-- shared run cannot see. It must not share, and reject the same lines.
do
  local l = {}
  for a = 1, 8 do
    l[#l + 1] = ('{"type":"account","account":"X%d",' ..
                 '"at":"2020-10-01T09:00:00+08:00","balance":"10.00"}'):format(a)
    l[#l + 1] = ('{"type":"app","app":%d,"account":"X%d",' ..
                 '"at":"2020-10-01T09:05:00+08:00","postpaid":true}')
                :format(1500000000 + a, a)
  end
  for a = 1, 8 do
    l[#l + 1] = ('{"type":"usage","id":"same","app":%d,"user":"u",' ..
                 '"room":"r","start":"2020-11-0%dT10:00:00+08:00",' ..
                 '"seconds":600}'):format(1500000000 + a, a)
  end
  local f = tmp .. "/conflict.jsonl"
  write_all(f, table.concat(l, "\n") .. "\n")
  compare("usage id in several accounts", { f }, {}, { 2, 4, { 1, 8 } },
          false)
  local _, out = simulate("usage id in several accounts", 2, { f }, {})
  local rejects = read_all(out .. "/rejects.jsonl") or ""
  local n = select(2, rejects:gsub('"error":"conflict"', ""))
  checks = checks + 1
  if n ~= 7 then
    fail("usage id in several accounts", ("%d conflicts, want 7"):format(n))
  end

  -- An app created under two accounts.
  l[#l + 1] = '{"type":"app","app":1500000001,"account":"X2",' ..
              '"at":"2020-10-02T09:05:00+08:00"}'
  write_all(f, table.concat(l, "\n") .. "\n")
  compare("app under two accounts", { f }, {}, { 2, { 1, 3 } }, false)
end

-- By default a large input is cut into one share per 65536 events (two
-- here), on one thread, with one engine's files.
do
  local big = tmp .. "/big.jsonl"
  assert(os.execute("lua5.4 bench/gen.lua 135000 2000 > " .. sh_quote(big)))
  local code1, out1 = simulate("default shares", 1, { big }, {}, 1)
  local out = tmp .. "/default"
  local ok = os.execute(("%s simulate --out %s %s >/dev/null 2>&1")
                        :format(sh_quote(binary), sh_quote(out),
                                sh_quote(big)))
  local s = summary(out) or {}
  checks = checks + 1
  if (ok and 0 or 1) ~= code1 then
    fail("default shares", "exit status differs from one engine's")
  end
  if s.engines ~= 2 then
    fail("default shares", ("%s engines, want 2"):format(s.engines))
  end
  for _, f in ipairs({ "bills.jsonl", "notices.jsonl", "rejects.jsonl" }) do
    local a, b = read_all(out1 .. "/" .. f), read_all(out .. "/" .. f)
    if a == nil or a ~= b then
      fail("default shares", f .. " differs from one engine's")
    end
  end
  print("ok   default shares")
end

-- Counts out of range are usage errors (exit 2) that name the option.
for _, bad in ipairs({ { "--shares", "0" }, { "--shares", "257" },
                       { "--shares", "2x" }, { "--shares", "-1" },
                       { "--jobs", "0" }, { "--jobs", "65" } }) do
  local err = tmp .. "/err.txt"
  local ok, _, code = os.execute(("%s simulate %s %s --out %s %s 2>%s")
      :format(sh_quote(binary), bad[1], sh_quote(bad[2]),
              sh_quote(tmp .. "/bad"), "examples/events/year.jsonl",
              sh_quote(err)))
  local text = read_all(err) or ""
  checks = checks + 1
  if ok or code ~= 2 or not text:find(bad[1] .. " '" .. bad[2] .. "'", 1,
                                      true) then
    fail("usage " .. bad[1] .. " " .. bad[2],
         ("exit %s, message %q"):format(code, text))
  end
end

os.execute("rm -rf " .. sh_quote(tmp))
print(("%d comparisons, %d failed"):format(checks, failures))
os.exit(failures == 0 and 0 or 1)
