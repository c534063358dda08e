-- run.lua: runs the end-to-end scenarios against an rtcbill binary.
--
-- usage: lua5.4 tests/scenarios/run.lua BINARY SCENARIOS_DIR [NAME...]
--
-- Each scenario is a folder with expect.json and its input: events.jsonl,
-- or the files listed in expect.files (passed in that order). The binary
-- runs `simulate` on it and expect.json is matched against the outputs
-- as a subset, like the public acceptance runner:
--   "bills":   [{"bill": ID, ...}]  found by id, other keys compared; each
--              expected line must equal (on its keys) some line of the bill
--   "bill_count": N                 exact number of bills
--   "notices": [{...}]              each must match some notice
--   "absent":  [{...}]              none may match any notice
--   "rejects": [{...}]              each must match some reject
--   "summary": {...}                nested subset of summary.json
--   "rules":   "DIR"                a rules folder inside the scenario
-- and, beyond the acceptance runner:
--   "files":   ["a.jsonl", ...]     input files instead of events.jsonl
--   "until":   TIME                 passed as --until
--   "exit":    N                    the exit status required (else 0 or 1)
--   "notices_count": {TYPE: N}      exact number of notices of a type
--   "exact_lines": [BILL_ID, ...]   those bills' lines must match the
--                                   expected lines one to one, in order
-- Prints `ok   NAME` or `FAIL NAME` with the problems, then
-- `N passed, N failed`; exits 1 if any scenario failed. A folder without
-- expect.json is a failure, never a pass.
-- Depends on: Lua 5.4, lua-cjson, a POSIX shell (mktemp, ls, rm).

local cjson = require("cjson")

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

local function exists(path)
  local f = io.open(path, "rb")
  if f then
    f:close()
    return true
  end
  return false
end

-- JSON Lines: one decoded object per non-blank line; a line that does not
-- parse is a problem of its own.
local function load_jsonl(path, problems)
  local out = {}
  local text = read_all(path)
  if not text then
    return out
  end
  local n = 0
  for line in text:gmatch("[^\n]+") do
    n = n + 1
    if line:match("%S") then
      local ok, v = pcall(cjson.decode, line)
      if ok then
        out[#out + 1] = v
      else
        problems[#problems + 1] = ("%s:%d: not JSON: %s"):format(path, n, v)
      end
    end
  end
  return out
end

-- lua-cjson decodes arrays and objects both to tables; a table whose
-- keys are exactly 1..#t is taken for an array. An empty table is both.
local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then
      return false
    end
    n = n + 1
  end
  return n == #t
end

local function equal(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    return a == b
  end
  for k, v in pairs(a) do
    if not equal(v, b[k]) then
      return false
    end
  end
  for k in pairs(b) do
    if a[k] == nil then
      return false
    end
  end
  return true
end

-- True when every key of want is in got with an equal value; a list of
-- objects matches when each wanted item is somewhere in got.
local function subset(want, got)
  if type(want) == "table" and next(want) ~= nil and not is_array(want) then
    if type(got) ~= "table" then
      return false
    end
    for k, v in pairs(want) do
      if got[k] == nil or not subset(v, got[k]) then
        return false
      end
    end
    return true
  end
  if type(want) == "table" and #want > 0 and type(want[1]) == "table"
      and not is_array(want[1]) then
    if type(got) ~= "table" then
      return false
    end
    for _, w in ipairs(want) do
      local found = false
      for _, g in ipairs(got) do
        if subset(w, g) then
          found = true
          break
        end
      end
      if not found then
        return false
      end
    end
    return true
  end
  return equal(want, got)
end

local function enc(v)
  local ok, s = pcall(cjson.encode, v)
  return ok and s or tostring(v)
end

local function list_dir(dir)
  local names = {}
  local p = io.popen("ls -1 " .. sh_quote(dir) .. " 2>/dev/null")
  for name in p:lines() do
    names[#names + 1] = name
  end
  p:close()
  table.sort(names)
  return names
end

local function is_dir(path)
  local ok, _, code = os.execute("test -d " .. sh_quote(path))
  return ok == true and code == 0
end

local function mktemp_dir()
  local p = io.popen("mktemp -d")
  local dir = p:read("l")
  p:close()
  assert(dir and dir ~= "", "mktemp -d failed")
  return dir
end

local function check(binary, sdir)
  local problems = {}
  local etext = read_all(sdir .. "/expect.json")
  if not etext then
    return { "no expect.json" }
  end
  local ok, expect = pcall(cjson.decode, etext)
  if not ok or type(expect) ~= "table" then
    return { "expect.json is not a JSON object: " .. tostring(expect) }
  end

  local inputs = {}
  if expect.files then
    for _, f in ipairs(expect.files) do
      inputs[#inputs + 1] = sdir .. "/" .. f
    end
  else
    inputs[1] = sdir .. "/events.jsonl"
  end
  for _, f in ipairs(inputs) do
    if not exists(f) then
      return { "input file missing: " .. f }
    end
  end

  local out = mktemp_dir()
  local cmd = { sh_quote(binary), "simulate", "--out", sh_quote(out) }
  if expect.rules then
    cmd[#cmd + 1] = "--rules " .. sh_quote(sdir .. "/" .. expect.rules)
  end
  if expect["until"] then
    cmd[#cmd + 1] = "--until " .. sh_quote(expect["until"])
  end
  for _, f in ipairs(inputs) do
    cmd[#cmd + 1] = sh_quote(f)
  end
  local errfile = out .. "/.stderr"
  local line = table.concat(cmd, " ") .. " >/dev/null 2>" .. sh_quote(errfile)
  local _, how, code = os.execute(line)
  if how ~= "exit" then
    code = -1
  end
  local want_exit = expect.exit and math.tointeger(expect.exit)
  if want_exit then
    if code ~= want_exit then
      problems[#problems + 1] = ("exit %d, want %d: %s"):format(
        code, want_exit, (read_all(errfile) or ""):sub(-300))
    end
  elseif code ~= 0 and code ~= 1 then
    problems[#problems + 1] = ("exit %d: %s"):format(
      code, (read_all(errfile) or ""):sub(-300))
    os.execute("rm -rf " .. sh_quote(out))
    return problems
  end

  local bills = load_jsonl(out .. "/bills.jsonl", problems)
  local notices = load_jsonl(out .. "/notices.jsonl", problems)
  local rejects = load_jsonl(out .. "/rejects.jsonl", problems)
  local summary = {}
  local stext = read_all(out .. "/summary.json")
  if stext then
    local sok, s = pcall(cjson.decode, stext)
    if sok then
      summary = s
    else
      problems[#problems + 1] = "summary.json is not JSON: " .. s
    end
  end
  os.execute("rm -rf " .. sh_quote(out))

  local by_id, ids = {}, {}
  for _, b in ipairs(bills) do
    by_id[b.bill] = b
    ids[#ids + 1] = tostring(b.bill)
  end
  table.sort(ids)
  for _, want in ipairs(expect.bills or {}) do
    local got = by_id[want.bill]
    if got == nil then
      problems[#problems + 1] = ("bill %s missing (have %s)"):format(
        want.bill, table.concat(ids, ", ", 1, math.min(#ids, 8)))
    elseif not subset(want, got) then
      problems[#problems + 1] = ("bill %s differs: want %s got %s"):format(
        want.bill, enc(want), enc(got))
    end
  end
  for _, id in ipairs(expect.exact_lines or {}) do
    local want, got
    for _, b in ipairs(expect.bills or {}) do
      if b.bill == id then
        want = b.lines
      end
    end
    got = by_id[id] and by_id[id].lines
    if want == nil then
      problems[#problems + 1] = "exact_lines names " .. id ..
          ", which has no expected lines"
    elseif got ~= nil then
      local same = #want == #got
      for i = 1, #want do
        same = same and subset(want[i], got[i])
      end
      if not same then
        problems[#problems + 1] = ("bill %s lines not as listed, in order: " ..
          "want %s got %s"):format(id, enc(want), enc(got))
      end
    end
  end
  if expect.bill_count and #bills ~= expect.bill_count then
    problems[#problems + 1] = ("%d bills, want %d"):format(
      #bills, math.tointeger(expect.bill_count) or -1)
  end
  for _, want in ipairs(expect.notices or {}) do
    local found = false
    for _, n in ipairs(notices) do
      if subset(want, n) then
        found = true
        break
      end
    end
    if not found then
      problems[#problems + 1] = "notice missing: " .. enc(want)
    end
  end
  for _, bad in ipairs(expect.absent or {}) do
    for _, n in ipairs(notices) do
      if subset(bad, n) then
        problems[#problems + 1] = "unexpected notice: " .. enc(n)
        break
      end
    end
  end
  if expect.notices_count then
    local count = {}
    for _, n in ipairs(notices) do
      count[n.type] = (count[n.type] or 0) + 1
    end
    for ty, want in pairs(expect.notices_count) do
      if (count[ty] or 0) ~= want then
        problems[#problems + 1] = ("%d %s notices, want %d"):format(
          count[ty] or 0, ty, math.tointeger(want) or -1)
      end
    end
  end
  for _, want in ipairs(expect.rejects or {}) do
    local found = false
    for _, r in ipairs(rejects) do
      if subset(want, r) then
        found = true
        break
      end
    end
    if not found then
      problems[#problems + 1] = "reject missing: " .. enc(want)
    end
  end
  if expect.summary and not subset(expect.summary, summary) then
    problems[#problems + 1] = ("summary differs: want %s got %s"):format(
      enc(expect.summary), enc(summary))
  end
  return problems
end

local function main(args)
  if #args < 2 then
    io.stderr:write("usage: lua5.4 run.lua BINARY SCENARIOS_DIR [NAME...]\n")
    return 2
  end
  local binary, dir = args[1], args[2]
  if not binary:find("^/") then
    local p = io.popen("pwd")
    binary = p:read("l") .. "/" .. binary
    p:close()
  end
  local names = {}
  if #args > 2 then
    table.move(args, 3, #args, 1, names)
  else
    for _, name in ipairs(list_dir(dir)) do
      if is_dir(dir .. "/" .. name) then
        names[#names + 1] = name
      end
    end
  end
  local passed, failed = 0, 0
  for _, name in ipairs(names) do
    local problems = check(binary, dir .. "/" .. name)
    if #problems > 0 then
      failed = failed + 1
      print("FAIL " .. name)
      for _, p in ipairs(problems) do
        print("     " .. p)
      end
    else
      passed = passed + 1
      print("ok   " .. name)
    end
  end
  if #names == 0 then
    print("FAIL no scenarios in " .. dir)
    failed = failed + 1
  end
  print(("%d passed, %d failed"):format(passed, failed))
  return failed > 0 and 1 or 0
end

os.exit(main(arg))
