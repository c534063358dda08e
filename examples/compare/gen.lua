-- gen.lua: writes examples/compare/month.jsonl, a month (November 2020)
-- of synthetic but realistic RTC usage of 300 accounts, the input of the
-- pricing-change walk-through in docs/compare.md.
--
-- Regenerate from the top of the source tree with:
--
--   lua5.4 examples/compare/gen.lua > examples/compare/month.jsonl
--
-- Three kinds of customers, as a real month would have them:
--   old-NNN    120 accounts from mid 2019 (before the trial existed):
--              monthly settlement, postpaid from creation, a few also
--              buy general packages;
--   buyer-NNN  100 accounts from September / October 2020: daily
--              settlement, a trial, and general packages bought over
--              time (postpaid switches on by itself when they run out);
--   trial-NNN   80 accounts from late October / November 2020: the trial
--              only, postpaid off; the busiest run out and are stopped.
-- Old accounts have three times the sessions of the others; a tenth of
-- the accounts are busy (ten times more; a few trial users 25 times). Sessions
-- last 1 to 90 minutes and receive 0 to 3 video streams of mixed sizes.
--
-- The output is the same on every machine: a fixed-seed xorshift64*
-- generator (no math.random), integer arithmetic only, dates computed
-- here (no os.date / os.time). Depends on: Lua 5.4 only.

local SESSIONS = 12000

local state = 0x6A09E667F3BCC908
local function next64()
  state = state ~ (state >> 12)
  state = state ~ (state << 25)
  state = state ~ (state >> 27)
  return state * 0x2545F4914F6CDD1D
end

-- A whole number in [lo, hi].
local function rand(lo, hi)
  return lo + ((next64() >> 11) % (hi - lo + 1))
end

-- "YYYY-MM-DDTHH:MM:SS+08:00" for t seconds since 1970-01-01T00:00 local.
local function civil(days)
  local z = days + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

local function stamp(t)
  local y, m, d = civil(t // 86400)
  local s = t % 86400
  return string.format("%04d-%02d-%02dT%02d:%02d:%02d+08:00", y, m, d,
                       s // 3600, s // 60 % 60, s % 60)
end

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local function local_time(y, m, d, hh, mm)
  return days_from_civil(y, m, d) * 86400 + (hh or 0) * 3600 + (mm or 0) * 60
end

local NOV1 = local_time(2020, 11, 1)
local DEC1 = local_time(2020, 12, 1)

local lines = {}   -- { at, text }: sorted by time at the end
local function emit(at, text) lines[#lines + 1] = { at, #lines, text } end

local accounts = {}  -- { id, apps = {..}, weight }
local next_app = 1400100000
local npackage = 0

local function account(id, created, balance, postpaid, napps)
  emit(created, string.format(
    '{"type":"account","account":"%s","at":"%s","balance":"%s"}',
    id, stamp(created), balance))
  local a = { id = id, apps = {}, created = created,
              weight = rand(1, 10) == 1 and 10 or 1 }
  for k = 1, napps do
    next_app = next_app + 1
    local at = created + 300 * k
    emit(at, string.format(
      '{"type":"app","app":%d,"account":"%s","at":"%s","postpaid":%s}',
      next_app, id, stamp(at), postpaid and "true" or "false"))
    a.apps[#a.apps + 1] = next_app
  end
  accounts[#accounts + 1] = a
  return a
end

local function package(a, at, thousands)
  npackage = npackage + 1
  local prices = { [25] = "168.00", [250] = "1588.00", [1000] = "5968.00" }
  emit(at, string.format(
    '{"type":"package","package":"P%04d","account":"%s","at":"%s",' ..
    '"kind":"general","minutes":%d,"price":"%s"}',
    npackage, a.id, stamp(at), thousands * 1000, prices[thousands]))
end

for i = 1, 120 do
  local created = local_time(2019, 6, 1) + rand(0, 120) * 86400 + 9 * 3600
  local a = account(string.format("old-%03d", i), created,
                    string.format("%d.00", rand(5, 200) * 100), true,
                    rand(1, 2))
  a.weight = a.weight * 3 -- established customers use more
  if rand(1, 5) == 1 then
    package(a, NOV1 + rand(0, 20) * 86400 + rand(8, 20) * 3600, 25)
  end
end
for i = 1, 100 do
  local created = local_time(2020, 9, 1) + rand(0, 60) * 86400 + 10 * 3600
  local a = account(string.format("buyer-%03d", i), created,
                    string.format("%d.00", rand(1, 50) * 10), false, 1)
  package(a, created + rand(1, 20) * 86400, 25)
  if rand(1, 2) == 1 then
    package(a, NOV1 + rand(0, 25) * 86400 + rand(8, 20) * 3600,
            rand(1, 4) == 1 and 250 or 25)
  end
  if rand(1, 3) == 1 then
    local at = NOV1 + rand(1, 28) * 86400 + 9 * 3600
    emit(at, string.format(
      '{"type":"topup","account":"%s","at":"%s","amount":"%d.00"}',
      a.id, stamp(at), rand(1, 20) * 50))
  end
end
for i = 1, 80 do
  local created = local_time(2020, 10, 15) + rand(0, 25) * 86400 + 11 * 3600
  local a = account(string.format("trial-%03d", i), created, "0.00", false,
                    1)
  -- A busy trial user is the one that runs out of its 10 000 minutes.
  if rand(1, 6) == 1 then a.weight = 25 end
end

-- Sessions: an account drawn by weight, then one of its apps.
local pick = {}
for _, a in ipairs(accounts) do
  for _ = 1, a.weight do pick[#pick + 1] = a end
end
local sizes = { {640, 360}, {1280, 720}, {1920, 1080}, {320, 240},
                {960, 540}, {1280, 720} }
for n = 1, SESSIONS do
  local a = pick[rand(1, #pick)]
  local app = a.apps[rand(1, #a.apps)]
  -- Usage starts once the account exists (an hour after creation).
  local from = math.max(NOV1, a.created + 3600)
  local start = from + rand(0, DEC1 - 86400 - from - 1)
  local seconds = rand(60, 5400)
  local video = {}
  for _ = 1, rand(0, 3) do
    local off = rand(0, seconds - 1)
    local len = rand(1, seconds - off)
    local s = sizes[rand(1, #sizes)]
    video[#video + 1] = string.format(
      '{"offset":%d,"seconds":%d,"width":%d,"height":%d}',
      off, len, s[1], s[2])
  end
  -- The effective time of a usage record is its end.
  emit(start + seconds, string.format(
    '{"type":"usage","id":"m%05d","app":%d,"user":"u%d","room":"r%d",' ..
    '"start":"%s","seconds":%d%s}',
    n, app, rand(1, 9999), rand(1, 999), stamp(start), seconds,
    #video > 0 and (',"video":[' .. table.concat(video, ",") .. "]") or ""))
end
assert(DEC1 > NOV1)

table.sort(lines, function(x, y)
  if x[1] ~= y[1] then return x[1] < y[1] end
  return x[2] < y[2]
end)
local out = io.stdout
for _, l in ipairs(lines) do out:write(l[3], "\n") end
