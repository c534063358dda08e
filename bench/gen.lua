-- gen.lua: writes a deterministic synthetic month of TRTC usage for the
-- benchmarks: accounts, apps, packages, top-ups and sessions with 0-4
-- received video streams, a few duplicated records and a few that
-- arrive late (after their period's bill was issued).
--
-- usage: lua5.4 bench/gen.lua SESSIONS [ACCOUNTS] > month.jsonl
--
-- The customer base (created between June 2019 and October 2020):
--   80 % of the accounts are monthly (first app on or before 2020-08-31),
--        20 % daily (created in September or October 2020);
--   those created on or after 2019-10-11 get the free trial;
--   an account has 1 app (70 %), 2 (20 %) or 3 (10 %); 85 % of the apps
--        are postpaid from creation, the others rely on packages;
--   a third of the accounts with an app without postpaid buy a general
--        package (25 000 minutes) in October, 1 in 16 of every account
--        tops up once in November, 1 in 20 starts with a small balance.
-- The month: SESSIONS sessions over November 2020, written in order of
-- start time (so the input is mostly, not fully, in effective-time
-- order), 1 to 61 minutes each, on a random app, receiving 0 to 4 video
-- streams (320x240 to 1920x1080) at random offsets. About 1 in 200
-- records is sent again 500 records later (a duplicate) and 1 in 500
-- carries a `received` time two to three days after its end (late
-- usage for daily accounts, and for monthly ones at the month's end).
--
-- Integers only, from a fixed-seed xorshift generator: the output is the
-- same on every machine. About 230 bytes per session line.

local sessions = tonumber(arg[1]) or 100000
local accounts = tonumber(arg[2]) or 1000

local state = 88172645463325252
local function rand(n) -- an integer in [0, n)
  state = state ~ (state << 13)
  state = state ~ (state >> 7)
  state = state ~ (state << 17)
  return (state >> 1) % n
end

local out = io.stdout
local buf, nbuf = {}, 0
local function emit(s)
  nbuf = nbuf + 1
  buf[nbuf] = s
  if nbuf == 512 then
    out:write(table.concat(buf, "\n", 1, nbuf), "\n")
    nbuf = 0
  end
end

local TZ = 8 * 3600
local DAY = 86400

-- Local date-time text (+08:00) of an instant; the date part is cached
-- per day because sessions need millions of them.
local day_text = {}
local function rfc3339(t)
  local lt = t + TZ
  local d = lt // DAY
  local s = lt % DAY
  local dt = day_text[d]
  if dt == nil then
    dt = os.date("!%Y-%m-%dT", d * DAY)
    day_text[d] = dt
  end
  return string.format("%s%02d:%02d:%02d+08:00", dt, s // 3600,
                       s // 60 % 60, s % 60)
end

-- Local midnight of a date, as an instant (days from the civil date,
-- proleptic Gregorian: no dependence on the machine's time zone).
local function ts(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return (era * 146097 + doe - 719468) * DAY - TZ
end

local nov1 = ts(2020, 11, 1)
local jun1_2019 = ts(2019, 6, 1)
local sep1_2020 = ts(2020, 9, 1)
local monthly_span = ts(2020, 8, 31) - jun1_2019
local daily_span = ts(2020, 10, 31) - sep1_2020

-- Accounts and apps, in creation order (monthly ones first: they are
-- older), then the month's top-ups and packages by day.
local apps = {}          -- app ids
local nmonthly = accounts * 8 // 10
local topups = {}        -- [day] = { lines }
local purchases = {}
for a = 1, accounts do
  local created
  if a <= nmonthly then
    created = jun1_2019 + (a - 1) * monthly_span // nmonthly
  else
    created = sep1_2020 + (a - nmonthly - 1) * daily_span //
              (accounts - nmonthly)
  end
  created = created + 9 * 3600
  local balance = rand(20) == 0 and "5.00" or "5000.00"
  emit(string.format(
    '{"type":"account","account":"C%d","at":"%s","balance":"%s"}',
    a, rfc3339(created), balance))
  local r = rand(10)
  local napps = r < 7 and 1 or (r < 9 and 2 or 3)
  local prepaid = false
  for k = 1, napps do
    local id = 1400000000 + #apps + 1
    apps[#apps + 1] = id
    local postpaid = rand(100) < 85
    prepaid = prepaid or not postpaid
    emit(string.format(
      '{"type":"app","app":%d,"account":"C%d","at":"%s","postpaid":%s}',
      id, a, rfc3339(created + 300 * k), postpaid and "true" or "false"))
  end
  if prepaid and rand(3) == 0 then
    local at = nov1 - DAY * (1 + rand(20)) + rand(DAY)
    if at < created + 3600 then at = created + 3600 end
    purchases[#purchases + 1] = {at, string.format(
      '{"type":"package","package":"P%d","account":"C%d","at":"%s",' ..
      '"kind":"general","minutes":25000,"price":"168.00"}',
      a, a, rfc3339(at))}
  end
  if rand(16) == 0 then
    local day = rand(30)
    topups[day] = topups[day] or {}
    table.insert(topups[day], string.format(
      '{"type":"topup","account":"C%d","at":"%s","amount":"%d.00"}',
      a, rfc3339(nov1 + day * DAY + rand(DAY)), 100 + rand(900)))
  end
end
table.sort(purchases, function(x, y) return x[1] < y[1] end)
for _, p in ipairs(purchases) do emit(p[2]) end

local sizes = { {640, 360}, {1280, 720}, {1920, 1080}, {320, 240} }
local napps = #apps
local span = 30 * DAY
local pending = {}       -- duplicates waiting to be sent again: [i] = line
local day_done = -1
local seg = {}
for i = 1, sessions do
  local start = nov1 + (i - 1) * span // sessions + rand(600)
  local day = (start - nov1) // DAY
  while day_done < day and day_done < 29 do
    day_done = day_done + 1
    for _, l in ipairs(topups[day_done] or {}) do emit(l) end
  end
  local seconds = 60 + rand(3600)
  local nseg = rand(5)
  for k = 1, nseg do
    local off = rand(seconds)
    local len = 1 + rand(seconds - off)
    local s = sizes[1 + rand(4)]
    seg[k] = string.format('{"offset":%d,"seconds":%d,"width":%d,"height":%d}',
                           off, len, s[1], s[2])
  end
  local received = ""
  if rand(500) == 0 then
    received = string.format(',"received":"%s"',
      rfc3339(start + seconds + 2 * DAY + rand(DAY)))
  end
  local line = string.format(
    '{"type":"usage","id":"s%d","app":%d,"user":"u%d","room":"r%d",' ..
    '"start":"%s","seconds":%d%s,"video":[%s]}',
    i, apps[1 + rand(napps)], rand(100000), rand(5000), rfc3339(start),
    seconds, received, table.concat(seg, ",", 1, nseg))
  emit(line)
  if rand(200) == 0 then pending[i + 500] = line end
  local again = pending[i]
  if again then
    emit(again)
    pending[i] = nil
  end
end
for i = sessions + 1, sessions + 500 do
  if pending[i] then emit(pending[i]) end
end
if nbuf > 0 then out:write(table.concat(buf, "\n", 1, nbuf), "\n") end
