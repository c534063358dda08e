-- price_change_spec.lua: the price-change example against the default
-- rules, through the rtcbill Lua module: what changed, what did not, and
-- a pricing-change simulation (the same usage billed under both).
-- Run from the source root:
--   RTCBILL_LUA_CPATH='build/?.so' busted examples/rules/price-change/spec

package.cpath = (os.getenv("RTCBILL_LUA_CPATH") or "build/?.so") .. ";"
    .. package.cpath
local rtcbill = require("rtcbill")

local DIR = "examples/rules/price-change"

local function by_name(list)
  local t = {}
  for _, x in ipairs(list) do
    t[x.name] = x
  end
  return t
end

-- A month of postpaid usage without trial: 30 minutes a day of each of
-- two HD streams and one 1080p stream.
local function month_of_usage()
  local events = {
    '{"type":"account","account":"C1","at":"2019-01-01T09:00:00+08:00",'
      .. '"balance":"100.00"}',
    '{"type":"app","app":1400000301,"account":"C1","at":'
      .. '"2019-01-01T09:05:00+08:00","postpaid":true}',
  }
  for day = 2, 31 do
    events[#events + 1] = ('{"type":"usage","id":"u%d","app":1400000301,'
      .. '"user":"u","room":"r","start":"2019-01-%02dT20:00:00+08:00",'
      .. '"seconds":1800,"video":['
      .. '{"offset":0,"seconds":1800,"width":1280,"height":720},'
      .. '{"offset":0,"seconds":1800,"width":1280,"height":720},'
      .. '{"offset":0,"seconds":1800,"width":1920,"height":1080}]}')
      :format(day, day)
  end
  return events
end

describe("the price-change rule set", function()
  local new = assert(rtcbill.load_rules(DIR))
  local old = assert(rtcbill.load_rules("rules"))

  it("raises HD from 28.00 to 30.00 and adds FHD at 60.00", function()
    local o, n = by_name(old.tiers), by_name(new.tiers)
    assert.are.equal("28.00", o.HD.price)
    assert.are.equal("30.00", n.HD.price)
    assert.is_nil(o.FHD)
    assert.are.same({ name = "FHD", max_pixels = 1920 * 1080,
                      price = "60.00" }, n.FHD)
    assert.are.equal("FHD", new:tier_for(1920 * 1080))
    assert.are.equal("HD+", old:tier_for(1920 * 1080))
  end)

  it("keeps every other price, the policies and the currency", function()
    local o, n = by_name(old.tiers), by_name(new.tiers)
    for _, name in ipairs({ "audio", "SD", "HD+" }) do
      assert.are.same(o[name], n[name])
    end
    assert.are.equal(old.currency, new.currency)
    assert.are.equal(old:cycle("2020-08-31T12:00:00+08:00"),
                     new:cycle("2020-08-31T12:00:00+08:00"))
    assert.are.same(old:decide{ trigger = "uncovered", tier = "HD" },
                    new:decide{ trigger = "uncovered", tier = "HD" })
    assert.are.equal(9, by_name(new.kinds).general.factors.FHD)
  end)

  it("bills the same usage at the new prices", function()
    local events = month_of_usage()
    local a = assert(rtcbill.simulate{ rules = old, events = events })
    local b = assert(rtcbill.simulate{ rules = new, events = events })
    -- 30 days x 2 x 30 HD minutes; 30 days x 30 minutes of 1080p, which
    -- was HD+ and is now FHD.
    assert.are.equal(1800, a.summary.minutes.HD.postpaid)
    assert.are.equal(1800, b.summary.minutes.HD.postpaid)
    assert.are.equal(900, a.summary.minutes["HD+"].postpaid)
    assert.are.equal(900, b.summary.minutes.FHD.postpaid)
    assert.are.equal(0, b.summary.minutes["HD+"].postpaid)
    -- 1800 x 28.00/1000 + 900 x 105.00/1000 = 50.40 + 94.50
    assert.are.equal("144.90", a.summary.revenue)
    -- 1800 x 30.00/1000 + 900 x 60.00/1000 = 54.00 + 54.00
    assert.are.equal("108.00", b.summary.revenue)
    assert.are_not.equal(a.rules, b.rules)
    assert.are.equal(b.rules, b.bills[1].rules)
  end)

  it("passes rtcbill check with its self-test", function()
    local ok, lines = rtcbill.check(DIR)
    assert.is_true(ok, table.concat(lines, "\n"))
    assert.matches("selftest new%-prices: ok", table.concat(lines, "\n"))
  end)
end)
