-- gen.lua: writes a synthetic month of usage for benchmarking simulate.
--
-- usage: lua5.4 bench/gen.lua SESSIONS [ACCOUNTS] > month.jsonl
--
-- Accounts are old monthly postpaid accounts (no trial), each with one
-- app; sessions are spread over November 2020 with 0-3 received video
-- streams of mixed sizes. A fixed-seed generator (xorshift, integers
-- only) makes the output identical on every machine.

local sessions = tonumber(arg[1]) or 100000
local accounts = tonumber(arg[2]) or 1000

local state = 88172645463325252
local function rand(n)          -- an integer in [0, n)
  state = state ~ (state << 13)
  state = state ~ (state >> 7)
  state = state ~ (state << 17)
  return (state >> 1) % n
end

local out = io.stdout
for a = 1, accounts do
  out:write(string.format(
    '{"type":"account","account":"B%d","at":"2019-06-01T09:00:00+08:00",' ..
    '"balance":"100000.00"}\n', a))
  out:write(string.format(
    '{"type":"app","app":%d,"account":"B%d","at":"2019-06-01T09:05:00+08:00",' ..
    '"postpaid":true}\n', 1400000000 + a, a))
end

local sizes = { {640, 360}, {1280, 720}, {1920, 1080}, {320, 240} }
local nov1 = 1604160000 -- 2020-11-01T00:00:00+08:00
for i = 1, sessions do
  local app = 1400000000 + 1 + rand(accounts)
  local start = nov1 + rand(29 * 86400)
  local seconds = 60 + rand(3600)
  local video = {}
  for _ = 1, rand(4) do
    local off = rand(seconds)
    local len = 1 + rand(seconds - off)
    local s = sizes[1 + rand(#sizes)]
    video[#video + 1] = string.format(
      '{"offset":%d,"seconds":%d,"width":%d,"height":%d}',
      off, len, s[1], s[2])
  end
  local t = os.date("!%Y-%m-%dT%H:%M:%S", start + 8 * 3600) .. "+08:00"
  out:write(string.format(
    '{"type":"usage","id":"s%d","app":%d,"user":"u%d","room":"r%d",' ..
    '"start":"%s","seconds":%d,"video":[%s]}\n',
    i, app, rand(100000), rand(5000), t, seconds, table.concat(video, ",")))
end
