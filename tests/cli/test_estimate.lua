-- test_estimate.lua: `rtcbill estimate` end to end.
--
-- usage: lua5.4 tests/cli/test_estimate.lua BINARY
--
-- Runs the price calculator on hand-worked cases (the figures below come
-- from SPEC 1.1 and 1.4, not from the program) and checks the --json
-- values, the readable table's verdict, the exit statuses (0 success,
-- 1 invalid value, 2 usage error) and that each error names its option.
-- A copy of the rules with another HD price shows that the estimate
-- follows the rules. Prints one line per case and `N passed, N failed`;
-- exits 1 on any failure.
-- Depends on: Lua 5.4, lua-cjson, a POSIX shell (mktemp, cp, rm).

local cjson = require("cjson")

local BIN = assert(arg[1], "usage: test_estimate.lua BINARY")

local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local p = io.popen("mktemp -d")
local TMP = p:read("l")
p:close()
assert(TMP and TMP ~= "", "mktemp -d failed")

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Runs `rtcbill estimate ARGS`; returns exit code, stdout, stderr.
local function run(args)
  local out, err = TMP .. "/out", TMP .. "/err"
  local _, _, code = os.execute(("%s estimate %s >%s 2>%s"):format(
    sh_quote(BIN), args, sh_quote(out), sh_quote(err)))
  return code, slurp(out), slurp(err)
end

local passed, failed = 0, 0
local function case(name, fn)
  local ok, msg = pcall(fn)
  if ok then
    passed = passed + 1
    print("ok   " .. name)
  else
    failed = failed + 1
    print("FAIL " .. name .. ": " .. tostring(msg))
  end
end

local function eq(want, got, what)
  if want ~= got then
    error(("%s: want %s, got %s"):format(what, tostring(want),
                                         tostring(got)), 2)
  end
end

local function has(text, needle, what)
  if not text:find(needle, 1, true) then
    error(("%s: %q not in %q"):format(what, needle, text), 2)
  end
end

local function json(args)
  local code, out, err = run(args .. " --json")
  eq(0, code, "exit status (" .. err .. ")")
  return cjson.decode(out)
end

local ISSUE = "--rooms 10 --hosts 2 --audience 50 --minutes 60 --tier HD"

case("the issue's HD example, as JSON", function()
  local e = json(ISSUE)
  eq(6120, e.room_minutes.HD, "room HD minutes")
  eq(0, e.room_minutes.audio, "room audio minutes")
  eq(1836000, e.minutes.HD, "month HD minutes")
  eq(1836000, e.total_minutes, "total minutes")
  eq("general", e.package.kind, "kind")
  eq(4, e.package.factors.HD, "HD factor")
  eq(7344000, e.package.minutes, "package minutes")
  eq(7344, e.package.thousands, "thousands")
  eq("51408.00", e.postpaid.amounts.HD, "HD amount")
  eq("51408.00", e.postpaid.total, "postpaid")
  eq("custom", e.prepaid.type, "prepaid type")
  eq(7344, e.prepaid.thousands, "prepaid size")
  eq("5.630", e.prepaid.per_thousand, "unit price")
  eq("41346.72", e.prepaid.price, "prepaid price")
  eq("prepaid", e.cheaper, "cheaper")
  eq("10061.28", e.saving, "saving")
  eq(30, e.input.days, "default days")
  eq("CNY", e.currency, "currency")
end)

case("the issue's example as a table", function()
  local code, out = run(ISSUE)
  eq(0, code, "exit status")
  has(out, "1 836 000", "month minutes")
  has(out, "51 408.00", "postpaid")
  has(out, "custom 7 344 thousand x 5.630", "offer")
  has(out, "prepaid is cheaper by 10 061.28 CNY", "verdict")
end)

case("250 thousand at 6.352 beats 240 at 6.720", function()
  local e = json("--rooms 1 --hosts 1 --audience 7 --minutes 1000 " ..
                 "--tier audio")
  eq(240000, e.package.minutes, "package minutes")
  eq(240, e.exact.thousands, "exact size")
  eq("1612.80", e.exact.price, "exact price")
  eq(250, e.prepaid.thousands, "chosen size")
  eq("6.352", e.prepaid.per_thousand, "chosen unit price")
  eq("1588.00", e.prepaid.price, "chosen price")
  eq("1680.00", e.postpaid.total, "postpaid")
  eq("92.00", e.saving, "saving")
end)

case("a need that is not a whole thousand is rounded up", function()
  local e = json("--rooms 1 --hosts 1 --audience 60000 --minutes 1 " ..
                 "--days 1 --tier HD")
  eq(240001, e.package.minutes, "package minutes")
  eq(241, e.package.thousands, "thousands")
  eq("1619.52", e.exact.price, "241 x 6.720")
  eq("0.007", e.postpaid.amounts.audio, "exact audio amount")
  eq("1680.01", e.postpaid.total, "postpaid, rounded like a bill")
end)

case("the audio tier", function()
  local e = json("--rooms 10 --hosts 2 --audience 50 --minutes 60 " ..
                 "--tier audio")
  eq(936000, e.minutes.audio, "audio minutes")
  eq(0, e.minutes.HD, "HD minutes")
  eq("6552.00", e.postpaid.total, "postpaid")
  eq("5945.47", e.prepaid.price, "936 x 6.352, rounded")
end)

case("a lone host is audio; postpaid is cheaper", function()
  local e = json("--rooms 1 --hosts 1 --audience 0 --minutes 60 --tier HD")
  eq(1800, e.minutes.audio, "audio minutes")
  eq(0, e.minutes.HD, "HD minutes")
  eq("12.60", e.postpaid.total, "postpaid")
  eq("14.00", e.prepaid.price, "2 x 7.000")
  eq("postpaid", e.cheaper, "cheaper")
  eq("1.40", e.saving, "saving")
  local _, out = run("--rooms 1 --hosts 1 --audience 0 --minutes 60 " ..
                     "--tier HD")
  has(out, "postpaid is cheaper by 1.40 CNY", "verdict")
end)

case("a fixed package wins when it is cheaper", function()
  local e = json("--rooms 1 --hosts 1 --audience 2998 --minutes 1000 " ..
                 "--days 1 --tier audio")
  eq("fixed", e.prepaid.type, "type")
  eq(3000, e.prepaid.thousands, "size")
  eq("16888.00", e.prepaid.price, "price")
  eq(nil, e.prepaid.per_thousand, "no unit price")
end)

case("--days scales the month; --opt=value works", function()
  local e = json("--rooms=10 --hosts=2 --audience=50 --minutes=60 " ..
                 "--tier=HD --days=1")
  eq(61200, e.minutes.HD, "one day")
end)

case("the estimate follows the rules", function()
  local dir = TMP .. "/rules"
  os.execute(("mkdir -p %s && cp rules/*.lua %s"):format(sh_quote(dir),
                                                          sh_quote(dir)))
  local path = dir .. "/tariff.lua"
  local text = slurp(path)
  local changed, n = text:gsub('price = "28.00"', 'price = "30.00"')
  eq(1, n, "HD price found")
  local f = assert(io.open(path, "wb"))
  f:write(changed)
  f:close()
  local e = json(ISSUE .. " --rules " .. sh_quote(dir))
  eq("55080.00", e.postpaid.total, "1 836 000 x 30 / 1000")
  eq("13733.28", e.saving, "55 080.00 - 41 346.72")
end)

case("--help", function()
  local code, out = run("--help")
  eq(0, code, "exit status")
  has(out, "usage: rtcbill estimate", "usage line")
  has(out, "--audience N", "options")
end)

-- Usage errors: exit 2 and a pointer to --help.
local USAGE = {
  { "missing --tier", "--rooms 1 --hosts 1 --audience 1 --minutes 1",
    "missing --tier" },
  { "missing --rooms", "--hosts 1 --audience 1 --minutes 1 --tier HD",
    "missing --rooms" },
  { "unknown option", ISSUE .. " --colour", "unknown option '--colour'" },
  { "option without value", ISSUE .. " --days", "option '--days' needs" },
  { "stray argument", ISSUE .. " extra", "unexpected argument 'extra'" },
  { "repeated option", ISSUE .. " --rooms 3", "'--rooms' is given twice" },
}
for _, u in ipairs(USAGE) do
  case("usage error: " .. u[1], function()
    local code, out, err = run(u[2])
    eq(2, code, "exit status")
    eq("", out, "stdout")
    has(err, u[3], "message")
    has(err, "--help", "hint")
  end)
end

-- Invalid values: exit 1 and a message naming the option.
local INVALID = {
  { "zero rooms", "--rooms 0 --hosts 2 --audience 50 --minutes 60 --tier HD",
    "--rooms must be 1 or more, not 0" },
  { "negative hosts",
    "--rooms 1 --hosts -2 --audience 50 --minutes 60 --tier HD",
    "--hosts must be 1 or more, not -2" },
  { "negative audience",
    "--rooms 1 --hosts 2 --audience -1 --minutes 60 --tier HD",
    "--audience must be 0 or more" },
  { "not a number", "--rooms ten --hosts 2 --audience 50 --minutes 60 " ..
    "--tier HD", "--rooms 'ten' is not a whole number" },
  { "a fraction", ISSUE .. " --days 30.5", "--days '30.5' is not a whole" },
  { "minutes above a day", "--rooms 1 --hosts 2 --audience 50 " ..
    "--minutes 1441 --tier HD", "--minutes must be at most 1440" },
  { "days above a month", ISSUE .. " --days 32",
    "--days must be at most 31" },
  { "unknown tier", "--rooms 1 --hosts 2 --audience 50 --minutes 60 " ..
    "--tier FHD", '--tier "FHD" is not a tier of the rules (audio, SD, HD, ' ..
    'HD+)' },
  { "past 64 bits", "--rooms 99999999999999999999 --hosts 2 --audience 5 " ..
    "--minutes 60 --tier HD", "--rooms '99999999999999999999' is too large" },
  { "overflowing product", "--rooms 9223372036854775807 --hosts 2 " ..
    "--audience 5 --minutes 60 --tier HD",
    "--rooms 9223372036854775807 is too large:" },
  { "money overflow", "--rooms 1000000000000 --hosts 2 --audience 0 " ..
    "--minutes 1440 --days 31 --tier HD+", "too large: the postpaid cost" },
  { "missing rules", ISSUE .. " --rules " .. sh_quote(TMP .. "/none"),
    "tariff.lua" },
}
for _, v in ipairs(INVALID) do
  case("invalid value: " .. v[1], function()
    local code, out, err = run(v[2])
    eq(1, code, "exit status")
    eq("", out, "stdout")
    has(err, v[3], "message")
  end)
end

os.execute("rm -rf " .. sh_quote(TMP))
print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
