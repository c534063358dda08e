-- module_spec.lua: the Lua module `rtcbill` (bindings/lua/module*.c), as a
-- rule author uses it from busted. ctest passes the build directory in
-- RTCBILL_LUA_CPATH (and the command in RTCBILL_BINARY); by hand, the
-- defaults are build/?.so and build/rtcbill.

package.cpath = (os.getenv("RTCBILL_LUA_CPATH") or "build/?.so") .. ";"
    .. package.cpath
local rtcbill = require("rtcbill")
local cjson = require("cjson")
local binary = os.getenv("RTCBILL_BINARY") or "build/rtcbill"

local function tmpdir()
  local p = io.popen("mktemp -d")
  local d = p:read("l")
  p:close()
  return d
end

local function copy_rules(edit_file, from, to)
  local d = tmpdir()
  for _, f in ipairs({ "tariff.lua", "settlement.lua", "packages.lua",
                       "exhaustion.lua", "arrears.lua" }) do
    local src = assert(io.open("rules/" .. f, "rb")):read("a")
    if f == edit_file then
      local i, j = src:find(from, 1, true)
      assert(i, from)
      src = src:sub(1, i - 1) .. to .. src:sub(j + 1)
    end
    local out = assert(io.open(d .. "/" .. f, "wb"))
    out:write(src)
    out:close()
  end
  return d
end

local function jsonl(path)
  local out = {}
  local f = io.open(path, "rb")
  if not f then
    return out
  end
  for line in f:lines() do
    if line:match("%S") then
      out[#out + 1] = cjson.decode(line)
    end
  end
  f:close()
  return out
end

local ACCOUNT = '{"type":"account","account":"A1","at":'
    .. '"2020-10-01T09:00:00+08:00","balance":"100.00"}'
local APP = '{"type":"app","app":1400000001,"account":"A1","at":'
    .. '"2020-10-01T09:05:00+08:00","postpaid":true}'
local function usage(id, start, seconds, w, h)
  local video = w and (',"video":[{"offset":0,"seconds":%d,"width":%d,'
      .. '"height":%d}]'):format(seconds, w, h) or ""
  return ('{"type":"usage","id":"%s","app":1400000001,"user":"u","room":'
      .. '"r","start":"%s","seconds":%d%s}'):format(id, start, seconds, video)
end

describe("rtcbill.load_rules", function()
  local rules = assert(rtcbill.load_rules("rules"))

  it("gives the compiled rule set as Lua values", function()
    assert.are.equal("CNY", rules.currency)
    assert.are.equal("+08:00", rules.timezone)
    assert.are.equal("per_stream", rules.video_mode)
    assert.are.equal(16, #rules.version)
    assert.are.same({ name = "HD", max_pixels = 921600, price = "28.00" },
                    rules.tiers[3])
    assert.is_nil(rules.tiers[4].max_pixels)
    assert.are.equal(15, rules.kinds[2].factors["HD+"])
    assert.are.equal("integer", math.type(rules.kinds[1].minutes))
    assert.matches("^rtcbill.rules %x+$", tostring(rules))
  end)

  it("answers the policy questions as the rules do", function()
    assert.are.equal("monthly", rules:cycle("2020-08-31T23:59:59+08:00"))
    assert.are.equal("daily",
      rules:cycle{ first_app_at = "2020-09-01T00:00:00+08:00" })
    assert.are.same({ action = "postpaid" },
      rules:decide{ trigger = "uncovered", tier = "HD",
                    bought_package = true, trial = "exhausted" })
    assert.are.same({ action = "stop", reason = "trial_expired" },
      rules:decide{ trigger = "expired", package_kind = "trial",
                    trial = "expired" })
    assert.are.equal("SD", rules:tier_for(720 * 360))
    assert.are.equal("HD+", rules:tier_for(1280 * 721))
    assert.are.equal("audio", rules:tier_for(0))
  end)

  it("returns nil, message, code for a rule set that fails", function()
    local d = copy_rules("tariff.lua", 'price = "28.00"', 'price = "-1"')
    local r, err, code = rtcbill.load_rules(d)
    assert.is_nil(r)
    assert.are.equal("EINVAL", code)
    assert.matches("^EINVAL: " .. d:gsub("%p", "%%%0")
                   .. "/tariff.lua:%d+: tier \"HD\": price", err)
    os.execute("rm -rf '" .. d .. "'")
    r, err, code = rtcbill.load_rules("/nonexistent")
    assert.is_nil(r)
    assert.are.equal("EIO", code)
  end)

  it("raises on misuse", function()
    assert.has_error(function() rtcbill.load_rules() end)
    assert.has_error(function() rules:decide{ trigger = "sideways" } end)
    assert.has_error(function() rules:cycle("yesterday") end)
    assert.has_error(function() rules.decide(42, {}) end)
  end)
end)

describe("rtcbill.simulate", function()
  it("bills lines of events with exact money strings", function()
    local res = assert(rtcbill.simulate{ rules = "rules", events = {
      ACCOUNT, APP,
      usage("u1", "2020-10-05T20:00:00+08:00", 1800, 1280, 720) } })
    assert.are.equal(1, #res.bills)
    local b = res.bills[1]
    assert.are.equal("A1/2020-10-05", b.bill)
    assert.are.equal("daily", b.cycle)
    assert.are.equal("2020-10-06T10:00:00+08:00", b.issued_at)
    assert.are.equal(res.rules, b.rules)
    -- The trial covers HD minutes 1:1.
    assert.are.same({ app = 1400000001, tier = "HD", minutes = 30,
                      covered = 30, postpaid = 0, unbilled = 0,
                      amount = "0.00000000", late = false }, b.lines[1])
    assert.are.equal("integer", math.type(b.lines[1].minutes))
    assert.are.equal("100.00", b.balance_after)
    assert.are.equal(1, res.summary.bills)
    assert.are.equal(3, res.summary.events.accepted)
    assert.are.equal(30, res.summary.minutes.HD.covered)
  end)

  it("charges without a package at list price, exactly", function()
    -- A first app before 2019-10-11: no trial, monthly settlement.
    local res = assert(rtcbill.simulate{ rules = "rules", events = {
      ACCOUNT:gsub("2020%-10%-01", "2019-01-01"),
      APP:gsub("2020%-10%-01", "2019-01-01"),
      usage("u1", "2019-01-05T20:00:00+08:00", 1800, 640, 480) } })
    local b = res.bills[1]
    assert.are.equal("A1/2019-01", b.bill)
    assert.are.same({ app = 1400000001, tier = "SD", minutes = 30,
                      covered = 0, postpaid = 30, unbilled = 0,
                      amount = "0.42000000", late = false }, b.lines[1])
    assert.are.equal("0.42", b.total)
    assert.are.equal("99.58", b.balance_after)
    assert.are.equal("0.42", res.summary.revenue)
  end)

  it("rejects bad lines with their number and stops at until", function()
    local res = assert(rtcbill.simulate{ rules = "rules", ["until"] =
      "2020-10-31T00:00:00+08:00", events = {
      ACCOUNT, "not json", APP,
      usage("u1", "2020-11-05T20:00:00+08:00", 60) } })
    assert.are.equal(1, #res.rejects)
    assert.are.same({ file = "events", line = 2, error = "bad_json" },
      { file = res.rejects[1].file, line = res.rejects[1].line,
        error = res.rejects[1].error })
    assert.are.equal(1, res.summary.events.pending)
    assert.are.equal(0, #res.bills)
  end)

  it("gives what `rtcbill simulate` writes, scenario by scenario", function()
    local p = io.popen("ls tests/scenarios")
    local n = 0
    for name in p:lines() do
      local dir = "tests/scenarios/" .. name
      local ef = io.open(dir .. "/expect.json", "rb")
      if ef then
        local expect = cjson.decode(ef:read("a"))
        ef:close()
        local files = {}
        for _, f in ipairs(expect.files or { "events.jsonl" }) do
          files[#files + 1] = dir .. "/" .. f
        end
        local rules = expect.rules and (dir .. "/" .. expect.rules) or "rules"
        local out = tmpdir()
        local cmd = ("%s simulate --rules %s --out %s %s %s >/dev/null 2>&1")
            :format(binary, rules, out, expect["until"] and
                    ("--until " .. expect["until"]) or "",
                    table.concat(files, " "))
        os.execute(cmd)
        local res = assert(rtcbill.simulate{ rules = rules, files = files,
                                             ["until"] = expect["until"] })
        local bills = jsonl(out .. "/bills.jsonl")
        local notices = jsonl(out .. "/notices.jsonl")
        os.execute("rm -rf '" .. out .. "'")
        assert.are.same(bills, res.bills, name)
        assert.are.equal(#notices, #res.notices, name)
        for i = 1, #notices do
          for k, v in pairs(notices[i]) do
            assert.are.equal(v, res.notices[i][k], name .. " notice " .. i)
          end
        end
        n = n + 1
      end
    end
    p:close()
    assert.is_true(n > 10)
  end)

  it("returns nil, message, code when the rules or files fail", function()
    local r, err, code = rtcbill.simulate{ rules = "rules",
                                            files = { "/nonexistent.jsonl" } }
    assert.is_nil(r)
    assert.are.equal("EIO", code)
    assert.matches("/nonexistent.jsonl", err)
    assert.has_error(function() rtcbill.simulate{ rules = "rules" } end)
    assert.has_error(function() rtcbill.simulate("rules") end)
  end)
end)

describe("rtcbill.check", function()
  it("passes the default rules and summarises them", function()
    local ok, lines = rtcbill.check("rules")
    assert.is_true(ok)
    assert.matches("^ok: rules %x+ %(rules%)$", lines[1])
  end)

  it("reports a broken rule as file:line", function()
    local d = copy_rules("exhaustion.lua",
                         "return stop(stop_reason_by_trial[q.trial])",
                         'return { action = "stop", reason = "arrears" }')
    local ok, lines = rtcbill.check(d)
    os.execute("rm -rf '" .. d .. "'")
    assert.is_false(ok)
    assert.matches("exhaustion.lua: decide returned action \"stop\" with "
                   .. "reason \"arrears\"", lines[1])
  end)
end)

describe("rtcbill.estimate", function()
  it("prices TRTC's calculator example from the rules", function()
    local e = assert(rtcbill.estimate{ rules = "rules", rooms = 10, hosts = 2,
                                       audience = 50, minutes = 60,
                                       tier = "HD" })
    assert.are.equal(1836000, e.minutes.HD)
    assert.are.equal(7344000, e.package_minutes)
    assert.are.equal("51408.00", e.postpaid)
    assert.are.equal("41346.72", e.prepaid.price)
    assert.are.equal("5.630", e.prepaid.per_thousand)
    assert.are.equal("prepaid", e.cheaper)
    assert.are.equal("10061.28", e.saving)
  end)

  it("takes loaded rules and picks a larger package at a band boundary",
     function()
    local r = assert(rtcbill.load_rules("rules"))
    -- 1 room x (1 host + 7 audience), all audio, x 1000 min x 30 days =
    -- 240 000 package minutes: 250 thousand at 6.352 (1588.00) beats the
    -- exact 240 x 6.720 (1612.80).
    local e = assert(rtcbill.estimate{ rules = r, rooms = 1, hosts = 1,
                                       audience = 7, minutes = 1000,
                                       tier = "audio" })
    assert.are.equal(240000, e.package_minutes)
    assert.are.equal("1612.80", e.exact.price)
    assert.are.equal(250, e.prepaid.thousands)
    assert.are.equal("1588.00", e.prepaid.price)
  end)

  it("returns nil and a named error for invalid input", function()
    local r = assert(rtcbill.load_rules("rules"))
    local n, msg, name = rtcbill.estimate{ rules = r, rooms = 0, hosts = 1,
                                           audience = 7, minutes = 1000,
                                           tier = "audio" }
    assert.is_nil(n)
    assert.are.equal("EINVAL", name)
    assert.are.equal("EINVAL: rooms must be 1 or more, not 0", msg)
    n, msg, name = rtcbill.estimate{ rules = r, rooms = 1, hosts = 1,
                                     audience = 7, minutes = 1000,
                                     tier = "FHD" }
    assert.is_nil(n)
    assert.are.equal("ENOENT", name)
  end)

  it("raises on misuse", function()
    assert.has_error(function()
      rtcbill.estimate{ rules = "rules", rooms = 1.5, hosts = 1,
                        audience = 7, minutes = 1000, tier = "HD" }
    end)
  end)
end)
