-- hostile.lua: a deterministic generator of hostile event lines.
--
-- As a module: require("hostile").generate(n, seed) returns n lines
-- (n >= 13) and, for each, the error code it must be rejected with. Each
-- line is a valid template event spoiled in one way, so that exactly one
-- code applies: truncation, bad UTF-8 and raw control characters, NaN,
-- Infinity and exponents, negative values, values past int64, fields of
-- 10 MB, deep nesting, duplicate keys, wrong JSON types and missing
-- fields, impossible times, video segments outside the presence, and
-- (valid lines the engine refuses) unknown or duplicate account and app
-- ids. The categories are taken in turn, the details (template, field,
-- variant, position) from a fixed-seed integer PRNG, so the same n and
-- seed give the same lines on every platform.
--
-- The engine-level lines take effect between 2020-11-02 and 2020-11-19
-- and name the base accounts A1, D1 and apps 1400000001, 1400000002 of
-- tests/cli/test_corpus.lua only as duplicates; everything else they
-- name does not exist.
--
-- As a script: lua5.4 tests/cli/hostile.lua N OUT.jsonl [SEED] writes
-- the lines to OUT.jsonl and their codes to OUT.jsonl.codes.
-- Depends on: Lua 5.4 (integers wrap modulo 2^64).

local M = {}

-- xorshift64*: a 64-bit integer PRNG (Lua 5.4 integers wrap).
local function prng(seed)
  local s = seed ~= 0 and seed or 0x9E3779B97F4A7C15
  return function(lo, hi)
    s = s ~ (s >> 12)
    s = s ~ (s << 25)
    s = s ~ (s >> 27)
    local r = (s * 0x2545F4914F6CDD1D) >> 11 -- 53 non-negative bits
    return lo + r % (hi - lo + 1)
  end
end

-- The templates: valid events as ordered fields {key, json, kind}.
-- Kinds: id, int (>= 0 or >= 1), money (amount > 0, price/balance
-- >= 0), time, bool, cycle, video. `opt` marks optional fields.
local function templates(n)
  local T = "2020-11-15T10:00:00+08:00"
  return {
    { "account", {
      { "account", '"NA' .. n .. '"', "id" },
      { "at", '"' .. T .. '"', "time" },
      { "balance", '"100.00"', "money", opt = true } } },
    { "app", {
      { "app", tostring(1450000000 + n), "int" },
      { "account", '"A1"', "id" },
      { "at", '"' .. T .. '"', "time" },
      { "postpaid", "true", "bool", opt = true } } },
    { "package", {
      { "package", '"PH' .. n .. '"', "id" },
      { "account", '"D1"', "id" },
      { "at", '"' .. T .. '"', "time" },
      { "kind", '"general"', "id" },
      { "minutes", "25000", "int" },
      { "price", '"168.00"', "money" } } },
    { "topup", {
      { "account", '"A1"', "id" },
      { "at", '"' .. T .. '"', "time" },
      { "amount", '"10.00"', "money", positive = true } } },
    { "enable_postpaid", {
      { "app", "1400000002", "int" },
      { "at", '"' .. T .. '"', "time" } } },
    { "change_cycle", {
      { "account", '"A1"', "id" },
      { "at", '"' .. T .. '"', "time" },
      { "cycle", '"daily"', "cycle" } } },
    { "usage", {
      { "id", '"h' .. n .. '"', "id" },
      { "app", "1400000001", "int" },
      { "user", '"x"', "id" },
      { "room", '"r1"', "id" },
      { "start", '"2020-11-15T20:00:00+08:00"', "time" },
      { "seconds", "600", "int" },
      { "video", '[{"offset":0,"seconds":600,"width":640,"height":360}]',
        "video", opt = true } } },
  }
end

local function render(typ, fields)
  local parts = { '"type":"' .. typ .. '"' }
  for _, f in ipairs(fields) do
    parts[#parts + 1] = '"' .. f[1] .. '":' .. f[2]
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- A copy of fields with field i's JSON text replaced (or removed when
-- json is nil).
local function with(fields, i, json)
  local out = {}
  for j, f in ipairs(fields) do
    if j ~= i then
      out[#out + 1] = f
    elseif json ~= nil then
      out[#out + 1] = { f[1], json, f[3] }
    end
  end
  return out
end

local function pick(r, list)
  return list[r(1, #list)]
end

-- Fields of the template of one of the given kinds (nil if none).
local function field_of(r, fields, kinds, required_only)
  local idx = {}
  for i, f in ipairs(fields) do
    if kinds[f[3]] and not (required_only and f.opt) then
      idx[#idx + 1] = i
    end
  end
  if #idx == 0 then
    return nil
  end
  return pick(r, idx)
end

local BAD_UTF8 = { "\xff", "\xfe", "\xc0\xaf", "\xc1\xbf", "\xed\xa0\x80",
  "\xed\xbf\xbf", "\xe2\x82", "\xf4\x90\x80\x80", "\x80", "\xbf",
  "\xf8\x88\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xe0\x80\x80", "\x01",
  "\x1f", "\x7f\x00" }
local NAN = { "NaN", "nan", "Infinity", "-Infinity", "inf", "+1", "0x10",
  ".5", "1.", "01", "--1", "1e", "1e+", "-" }
local EXPONENT = { "1e3", "6E2", "1.5", "600.0", "1e+2", "1E-2", "0.0",
  "-1.5e300", "1e400" }
local MONEY_TEXT_BAD = { "1e3", "NaN", "Infinity", "1.5e2", "+1.00", ".5",
  "1.", "1.000000001", " 1.00", "1,00", "0x10", "", "-", "١٢" }
local BIG_INT = { "9223372036854775808", "9223372036854775809",
  "18446744073709551616", "99999999999999999999999999999999",
  "-9223372036854775809", "-99999999999999999999" }
local BIG_MONEY = { "92233720368.54775808", "92233720369",
  "100000000000000000000", "-92233720368.54775809",
  "999999999999999999999999999.99" }
local BAD_TIMES = { "2020-13-01T00:00:00+08:00", "2020-00-10T00:00:00Z",
  "2020-11-31T00:00:00+08:00", "2019-02-29T12:00:00Z",
  "2020-11-32T00:00:00Z", "2020-11-15T24:00:00+08:00",
  "2020-11-15T23:60:00Z", "2020-11-15T23:59:60Z",
  "2020-11-15T10:00:00+24:00", "2020-11-15T10:00:00-23:60",
  "0000-01-01T00:00:00Z", "2020-11-15T10:00:00", "2020-11-15 10:00:00Z",
  "2020-11-15T10:00:00.5+08:00", "2020-11-15T10:00:00.000001Z",
  "2020-11-15", "10:00:00", "", "20201115T100000Z", "2020-1-15T10:00:00Z",
  "2020-11-15T10:00:00+0800", "+2020-11-15T10:00:00Z", "now",
  "99999-11-15T10:00:00Z" }

-- Each category returns a line and its code, or nil to try again.
local CATEGORIES = {
  -- Truncation anywhere before the closing brace.
  function(r, typ, fields)
    local line = render(typ, fields)
    return line:sub(1, r(1, #line - 1)), "bad_json"
  end,
  -- Bad UTF-8 or a raw control character inside a string.
  function(r, typ, fields)
    local i = field_of(r, fields, { id = true, time = true })
    local v = fields[i][2]
    local at = r(2, #v - 1)
    local s = v:sub(1, at - 1) .. pick(r, BAD_UTF8) .. v:sub(at)
    return render(typ, with(fields, i, s)), "bad_json"
  end,
  -- NaN, Infinity and other non-JSON numbers; exponents and fractions
  -- where an integer belongs; money as a number or a bad decimal text.
  function(r, typ, fields)
    local i = field_of(r, fields, { int = true, money = true })
    if i == nil then
      return nil
    end
    local mode = r(1, 3)
    if mode == 1 then
      return render(typ, with(fields, i, pick(r, NAN))), "bad_json"
    elseif fields[i][3] == "int" then
      return render(typ, with(fields, i, pick(r, EXPONENT))), "bad_field"
    elseif mode == 2 then
      return render(typ, with(fields, i, pick(r, EXPONENT))), "bad_money"
    else
      local text = '"' .. pick(r, MONEY_TEXT_BAD) .. '"'
      return render(typ, with(fields, i, text)), "bad_money"
    end
  end,
  -- Negative values.
  function(r, typ, fields)
    local i = field_of(r, fields, { int = true, money = true })
    if i == nil then
      return nil
    end
    if fields[i][3] == "int" then
      return render(typ, with(fields, i, tostring(-r(1, 1 << 40)))),
          "out_of_range"
    end
    return render(typ, with(fields, i,
      ('"-%d.%02d"'):format(r(0, 100000), r(1, 99)))), "out_of_range"
  end,
  -- Values past the int64 range.
  function(r, typ, fields)
    local i = field_of(r, fields, { int = true, money = true })
    if i == nil then
      return nil
    end
    if fields[i][3] == "int" then
      return render(typ, with(fields, i, pick(r, BIG_INT))), "out_of_range"
    end
    return render(typ, with(fields, i, '"' .. pick(r, BIG_MONEY) .. '"')),
        "out_of_range"
  end,
  -- Deep nesting in an extra key (the line's object is level 1; more
  -- than 8 levels is refused).
  function(r, typ, fields)
    local d = r(8, 3000)
    local open, close = "[", "]"
    if r(1, 2) == 1 then
      open, close = '{"k":', "}"
    end
    local extra = { "deep", open:rep(d) .. "1" .. close:rep(d), "extra" }
    local f = { table.unpack(fields) }
    table.insert(f, r(1, #f + 1), extra)
    return render(typ, f), "bad_json"
  end,
  -- Duplicate keys (the same value or another one; in segments too).
  function(r, typ, fields)
    if typ == "usage" and r(1, 3) == 1 then
      local v = '[{"offset":0,"seconds":600,"width":640,"width":640,' ..
          '"height":360}]'
      return render(typ, with(fields, #fields, v)), "bad_json"
    end
    local i = r(1, #fields)
    local f = { table.unpack(fields) }
    table.insert(f, r(i + 1, #f + 1), fields[i])
    return render(typ, f), "bad_json"
  end,
  -- Wrong JSON types; required fields missing or null; bad ids.
  function(r, typ, fields)
    local i = r(1, #fields)
    local kind, v = fields[i][3], nil
    local mode = r(1, 6)
    if mode == 1 and not fields[i].opt then
      return render(typ, with(fields, i, nil)), "missing_field"
    elseif mode == 2 and not fields[i].opt then
      return render(typ, with(fields, i, "null")), "missing_field"
    elseif mode == 3 and kind == "id" then
      return render(typ, with(fields, i, '""')), "bad_field"
    elseif mode == 4 and kind == "id" then
      return render(typ, with(fields, i, '"a\\u0001b"')), "bad_field"
    elseif mode == 5 and kind == "id" then
      return render(typ, with(fields, i, '"' .. ("x"):rep(257) .. '"')),
          "out_of_range"
    end
    if kind == "money" then
      v = pick(r, { "true", "false", "[]", "{}", '["1.00"]' })
      return render(typ, with(fields, i, v)), "bad_field"
    elseif kind == "int" then
      v = pick(r, { '"600"', "true", "[1]", "{}", '"1400000001"', '""' })
    elseif kind == "time" then
      v = pick(r, { "1605405600", "true", "[]", '{"t":1}' })
    elseif kind == "cycle" then
      v = pick(r, { "1", '"weekly"', '"Daily"', "true", '["daily"]' })
    elseif kind == "bool" then
      v = pick(r, { '"yes"', "1", '"true"', "[]", "0" })
    elseif kind == "video" then
      v = pick(r, { "{}", '"x"', "1", "[1]", '[["a"]]', "[null]" })
    else
      v = pick(r, { "123", "true", "[]", '{"id":"x"}', "-1" })
    end
    return render(typ, with(fields, i, v)), "bad_field"
  end,
  -- Impossible or malformed times.
  function(r, typ, fields)
    local i = field_of(r, fields, { time = true })
    return render(typ, with(fields, i, '"' .. pick(r, BAD_TIMES) .. '"')),
        "bad_time"
  end,
  -- Video segments outside the presence (or with bad sizes).
  function(r, typ, fields)
    if typ ~= "usage" then
      return nil
    end
    local secs = r(1, 36000)
    local seg, code
    local mode = r(1, 4)
    if mode == 1 then
      seg = ('{"offset":%d,"seconds":%d,"width":640,"height":360}'):format(
        r(0, secs), secs + 1)
      code = "segment_outside"
    elseif mode == 2 then
      local off = r(1, secs)
      seg = ('{"offset":%d,"seconds":%d,"width":640,"height":360}'):format(
        off, secs - off + r(1, 1000))
      code = "segment_outside"
    elseif mode == 3 then
      seg = ('{"offset":%d,"seconds":1,"width":640,"height":360}'):format(
        secs + r(0, 1 << 40))
      code = "segment_outside"
    else
      seg = ('{"offset":0,"seconds":1,"width":%d,"height":360}'):format(
        pick(r, { 0, -1, 65537, 1 << 40 }))
      code = "out_of_range"
    end
    local f = with(fields, 6, tostring(secs))
    f = with(f, 7, "[" .. seg .. "]")
    return render(typ, f), code
  end,
  -- Unknown account and app ids, unknown types, duplicates (engine).
  function(r, typ, fields, n)
    local day = ("2020-11-%02dT%02d:%02d:00+08:00"):format(r(2, 19),
      r(0, 23), r(0, 59))
    local ghost = '"ghost-' .. n .. '"'
    local app = tostring(1499000000 + n)
    local mode = r(1, 9)
    if mode == 1 then
      return ('{"type":"topup","account":%s,"at":"%s","amount":"5.00"}')
          :format(ghost, day), "unknown_account"
    elseif mode == 2 then
      return ('{"type":"app","app":%s,"account":%s,"at":"%s"}')
          :format(app, ghost, day), "unknown_account"
    elseif mode == 3 then
      return ('{"type":"package","package":"PG%d","account":%s,"at":"%s",' ..
        '"kind":"general","minutes":25000,"price":"168.00"}')
          :format(n, ghost, day), "unknown_account"
    elseif mode == 4 then
      return ('{"type":"change_cycle","account":%s,"at":"%s",' ..
        '"cycle":"daily"}'):format(ghost, day), "unknown_account"
    elseif mode == 5 then
      return ('{"type":"usage","id":"g%d","app":%s,"user":"x","room":"r",' ..
        '"start":"%s","seconds":%d}'):format(n, app, day, r(0, 7200)),
          "unknown_app"
    elseif mode == 6 then
      return ('{"type":"enable_postpaid","app":%s,"at":"%s"}')
          :format(app, day), "unknown_app"
    elseif mode == 7 then
      return ('{"type":"account","account":"%s","at":"%s"}')
          :format(pick(r, { "A1", "D1" }), day), "duplicate_account"
    elseif mode == 8 then
      return ('{"type":"app","app":%s,"account":"D1","at":"%s"}')
          :format(pick(r, { "1400000001", "1400000002" }), day),
          "duplicate_app"
    end
    return ('{"type":"%s","at":"%s"}'):format(
      pick(r, { "refund", "Usage", "USAGE", "", "usage ", "топап" }), day),
        "unknown_type"
  end,
}

-- The 10 MB lines: one field's value far past the line limit.
local function huge_lines(seed)
  local big = ("z"):rep(10 * 1024 * 1024)
  return {
    { '{"type":"usage","id":"' .. big .. '","app":1400000001}',
      "line_too_long" },
    { '{"type":"topup","account":"A1","at":"2020-11-15T10:00:00+08:00",' ..
      '"amount":"1' .. ("0"):rep(10 * 1024 * 1024) .. '"}', "line_too_long" },
    { '{"type":"account","account":"X' .. seed .. '","pad":[' ..
      ("1,"):rep(5 * 1024 * 1024) .. '1]}', "line_too_long" },
  }
end

function M.generate(n, seed)
  local r = prng(seed or 20201115)
  local lines, codes = {}, {}
  for _, h in ipairs(huge_lines(seed or 0)) do
    lines[#lines + 1], codes[#codes + 1] = h[1], h[2]
  end
  local k = 0
  while #lines < n do
    k = k + 1
    local cat = CATEGORIES[(k - 1) % #CATEGORIES + 1]
    local tpl = pick(r, templates(k))
    local line, code = cat(r, tpl[1], tpl[2], k)
    if line ~= nil then
      lines[#lines + 1], codes[#codes + 1] = line, code
    end
  end
  return lines, codes
end

M.CATEGORIES = #CATEGORIES + 1 -- plus the 10 MB lines

if arg and arg[0] and arg[0]:match("hostile%.lua$") and arg[2] then
  local lines, codes = M.generate(tonumber(arg[1]), tonumber(arg[3]))
  local f = assert(io.open(arg[2], "wb"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  f = assert(io.open(arg[2] .. ".codes", "wb"))
  f:write(table.concat(codes, "\n"), "\n")
  f:close()
end

return M
