-- check.lua: `rtcbill check`, the rule author's pre-flight.
--
-- Built into the rules host (embedded as C data by embed.cmake) and run
-- in a plain Lua state with the `rtcbill` module; the rules themselves
-- still run in their own sandboxes. The chunk returns
--   function(rtcbill, dir) -> ok, lines
-- where lines are what `rtcbill check` prints:
--   1. load the set (the loader validates every field: tiers ordered and
--      non-overlapping, prices non-negative decimal strings, factors
--      positive integers, decide() present);
--   2. ask the policy functions sample questions: cycle() on dates around
--      the usual boundaries, decide() for every trigger x trial state x
--      bought_package (and every tier / kind); each answer must be valid;
--   3. run DIR/selftest/NAME/ fixtures: events.jsonl (or expect.files)
--      simulated under the set and compared with expect.json, with the
--      subset semantics of tests/scenarios/run.lua (bills, bill_count,
--      exact_lines, notices, absent, notices_count, rejects, summary;
--      "until" is passed on).
-- Errors are "DIR/file.lua:LINE: message" or "selftest NAME: ...".
-- Depends on: Lua 5.4 (string, table, io) and the rtcbill module.

-- ------------------------------------------------------------------
-- A small JSON decoder (expect.json is ours and small): objects, arrays,
-- strings with escapes, integers (exact) and other numbers, literals.
-- ------------------------------------------------------------------

local decode

local function json_error(s, i, what)
  error(("JSON: %s at byte %d"):format(what, i), 0)
end

local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b",
                  f = "\f", n = "\n", r = "\r", t = "\t" }

local function decode_string(s, i)
  local out, j = {}, i + 1
  while true do
    local k = s:find('["\\]', j)
    if not k then
      json_error(s, i, "unterminated string")
    end
    out[#out + 1] = s:sub(j, k - 1)
    if s:sub(k, k) == '"' then
      return table.concat(out), k + 1
    end
    local e = s:sub(k + 1, k + 1)
    if e == "u" then
      local hex = s:sub(k + 2, k + 5)
      local cp = tonumber(hex, 16)
      if not cp or #hex ~= 4 then
        json_error(s, k, "bad \\u escape")
      end
      if cp >= 0xD800 and cp <= 0xDBFF and s:sub(k + 6, k + 7) == "\\u" then
        local lo = tonumber(s:sub(k + 8, k + 11), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
          k = k + 6
        end
      end
      out[#out + 1] = utf8.char(cp)
      j = k + 6
    elseif escapes[e] then
      out[#out + 1] = escapes[e]
      j = k + 2
    else
      json_error(s, k, "bad escape")
    end
  end
end

local function decode_value(s, i)
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local t = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then
      return t, i + 1
    end
    while true do
      if s:sub(i, i) ~= '"' then
        json_error(s, i, "object key expected")
      end
      local k
      k, i = decode_string(s, i)
      i = skip(s, i)
      if s:sub(i, i) ~= ":" then
        json_error(s, i, "':' expected")
      end
      t[k], i = decode_value(s, i + 1)
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "}" then
        return t, i + 1
      elseif d ~= "," then
        json_error(s, i, "',' or '}' expected")
      end
      i = skip(s, i + 1)
    end
  elseif c == "[" then
    local t = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then
      return t, i + 1
    end
    while true do
      t[#t + 1], i = decode_value(s, i)
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "]" then
        return t, i + 1
      elseif d ~= "," then
        json_error(s, i, "',' or ']' expected")
      end
      i = i + 1
    end
  elseif c == '"' then
    return decode_string(s, i)
  elseif s:sub(i, i + 3) == "true" then
    return true, i + 4
  elseif s:sub(i, i + 4) == "false" then
    return false, i + 5
  elseif s:sub(i, i + 3) == "null" then
    return nil, i + 4
  end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if not num or num == "" or num == "-" then
    json_error(s, i, "value expected")
  end
  local v = math.tointeger(tonumber(num)) or tonumber(num)
  if v == nil then
    json_error(s, i, "bad number")
  end
  return v, i + #num
end

decode = function(s)
  local v, i = decode_value(s, 1)
  if skip(s, i) <= #s then
    json_error(s, i, "trailing text")
  end
  return v
end

-- ------------------------------------------------------------------
-- Matching (tests/scenarios/run.lua's semantics)
-- ------------------------------------------------------------------

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

-- A short, stable rendering of a value for messages.
local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then
    return ("%q"):format(v)
  elseif type(v) ~= "table" then
    return tostring(v)
  elseif depth > 3 then
    return "{...}"
  end
  local parts = {}
  if is_array(v) then
    for _, x in ipairs(v) do
      parts[#parts + 1] = show(x, depth + 1)
    end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    parts[#parts + 1] = k .. "=" .. show(v[k], depth + 1)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function any(list, want)
  for _, x in ipairs(list) do
    if subset(want, x) then
      return x
    end
  end
  return nil
end

-- Compares a simulation result with an expect table; returns problems.
local function compare(expect, res)
  local problems = {}
  local function problem(fmt, ...)
    problems[#problems + 1] = fmt:format(...)
  end
  local by_id = {}
  for _, b in ipairs(res.bills) do
    by_id[b.bill] = b
  end
  for _, want in ipairs(expect.bills or {}) do
    local got = by_id[want.bill]
    if got == nil then
      problem("bill %s missing", tostring(want.bill))
    elseif not subset(want, got) then
      problem("bill %s differs: want %s got %s", want.bill, show(want),
              show(got))
    end
  end
  for _, id in ipairs(expect.exact_lines or {}) do
    local want
    for _, b in ipairs(expect.bills or {}) do
      if b.bill == id then
        want = b.lines
      end
    end
    local got = by_id[id] and by_id[id].lines
    if want == nil then
      problem("exact_lines names %s, which has no expected lines", id)
    elseif got ~= nil then
      local same = #want == #got
      for i = 1, #want do
        same = same and subset(want[i], got[i])
      end
      if not same then
        problem("bill %s lines not as listed: want %s got %s", id,
                show(want), show(got))
      end
    end
  end
  if expect.bill_count and #res.bills ~= expect.bill_count then
    problem("%d bills, want %s", #res.bills, tostring(expect.bill_count))
  end
  for _, want in ipairs(expect.notices or {}) do
    if not any(res.notices, want) then
      problem("notice missing: %s", show(want))
    end
  end
  for _, bad in ipairs(expect.absent or {}) do
    local n = any(res.notices, bad)
    if n then
      problem("unexpected notice: %s", show(n))
    end
  end
  if expect.notices_count then
    local count = {}
    for _, n in ipairs(res.notices) do
      count[n.type] = (count[n.type] or 0) + 1
    end
    for ty, want in pairs(expect.notices_count) do
      if (count[ty] or 0) ~= want then
        problem("%d %s notices, want %s", count[ty] or 0, ty, tostring(want))
      end
    end
  end
  for _, want in ipairs(expect.rejects or {}) do
    if not any(res.rejects, want) then
      problem("reject missing: %s", show(want))
    end
  end
  if expect.summary and not subset(expect.summary, res.summary) then
    problem("summary differs: want %s got %s", show(expect.summary),
            show(res.summary))
  end
  return problems
end

-- ------------------------------------------------------------------
-- The check
-- ------------------------------------------------------------------

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local s = f:read("a")
  f:close()
  return s
end

local function join(dir, name)
  if dir:sub(-1) == "/" then
    return dir .. name
  end
  return dir .. "/" .. name
end

local function summary_lines(rules, out)
  out[#out + 1] = ("  currency %s, time zone %s, video %s, totals to %s")
      :format(rules.currency, rules.timezone, rules.video_mode,
              rules.total_rounding)
  local tiers = {}
  for _, t in ipairs(rules.tiers) do
    tiers[#tiers + 1] = t.max_pixels
        and ("%s <= %d px %s"):format(t.name, t.max_pixels, t.price)
        or ("%s %s"):format(t.name, t.price)
  end
  out[#out + 1] = "  tiers (per 1000 minutes): " .. table.concat(tiers, "; ")
  for _, k in ipairs(rules.kinds) do
    local f = {}
    for _, t in ipairs(rules.tiers) do
      f[#f + 1] = tostring(k.factors[t.name])
    end
    out[#out + 1] = ("  kind %s%s: factors %s"):format(k.name,
      k.granted and (" (granted, %d minutes)"):format(k.minutes) or "",
      table.concat(f, ":"))
  end
end

-- Sample questions to the policy functions; returns the number of
-- errors and adds lines describing the answers.
local function probe_policy(rules, out, errors)
  local n = #errors
  local dates = { "2019-10-11", "2020-08-31", "2020-09-01", "2030-01-01" }
  local answers = {}
  for _, d in ipairs(dates) do
    for _, hms in ipairs({ "00:00:00", "23:59:59" }) do
      local at = d .. "T" .. hms .. rules.timezone:gsub("^Z$", "+00:00")
      local c, err = rules:cycle{ first_app_at = at, account = "CHECK" }
      if not c then
        errors[#errors + 1] = err:gsub("^%u+: ", "")
        return #errors - n
      end
      if hms == "00:00:00" then
        answers[#answers + 1] = d .. " " .. c
      end
    end
  end
  out[#out + 1] = "  cycle: " .. table.concat(answers, ", ")
  local seen, order = {}, {}
  local function ask(q)
    local dcs, err = rules:decide(q)
    if not dcs then
      errors[#errors + 1] = err:gsub("^%u+: ", "")
      return false
    end
    local key = dcs.action .. (dcs.reason and (" " .. dcs.reason) or "")
    if not seen[key] then
      seen[key] = true
      order[#order + 1] = key
    end
    return true
  end
  for _, trial in ipairs({ "none", "active", "exhausted", "expired" }) do
    for _, bought in ipairs({ false, true }) do
      for _, t in ipairs(rules.tiers) do
        if not ask{ trigger = "uncovered", tier = t.name, trial = trial,
                    bought_package = bought, account = "CHECK" } then
          return #errors - n
        end
      end
      for _, trigger in ipairs({ "exhausted", "expired" }) do
        for _, k in ipairs(rules.kinds) do
          if not ask{ trigger = trigger, package_kind = k.name, trial = trial,
                      bought_package = bought, account = "CHECK" } then
            return #errors - n
          end
        end
      end
    end
  end
  out[#out + 1] = "  decide: answers " .. table.concat(order, ", ")
  return #errors - n
end

local function run_selftests(rtcbill, rules, dir, out, errors)
  local sdir = join(dir, "selftest")
  local names = rtcbill.dir(sdir)
  if not names then
    out[#out + 1] = "  selftest: none (no " .. sdir .. "/)"
    return
  end
  for _, name in ipairs(names) do
    local case = join(sdir, name)
    local text = read_all(join(case, "expect.json"))
    local problems = {}
    local expect
    if not text then
      problems[1] = "no expect.json"
    else
      local ok, v = pcall(decode, text)
      if ok and type(v) == "table" then
        expect = v
      else
        problems[1] = "expect.json: " .. tostring(v)
      end
    end
    if expect then
      local files = {}
      for _, f in ipairs(expect.files or { "events.jsonl" }) do
        files[#files + 1] = join(case, f)
      end
      local res, err = rtcbill.simulate{ rules = rules, files = files,
                                         ["until"] = expect["until"] }
      if not res then
        problems[1] = "simulate failed: " .. err
      else
        problems = compare(expect, res)
      end
    end
    if #problems == 0 then
      out[#out + 1] = ("selftest %s: ok"):format(name)
    else
      for _, p in ipairs(problems) do
        errors[#errors + 1] = ("selftest %s: %s"):format(name, p)
      end
    end
  end
end

return function(rtcbill, dir)
  local rules, err = rtcbill.load_rules(dir)
  if not rules then
    return false, { (err:gsub("^%u+: ", "")) }
  end
  local out, errors = {}, {}
  summary_lines(rules, out)
  probe_policy(rules, out, errors)
  if #errors == 0 then
    run_selftests(rtcbill, rules, dir, out, errors)
  end
  if #errors > 0 then
    errors[#errors + 1] = ("%s: %d problem%s; the rules were not accepted")
        :format(dir, #errors, #errors == 1 and "" or "s")
    return false, errors
  end
  table.insert(out, 1, ("ok: rules %s (%s)"):format(rules.version, dir))
  return true, out
end
