-- international_spec.lua: the international model (SPEC Appendix A),
-- through the rtcbill Lua module. Run from the source root:
--   RTCBILL_LUA_CPATH='build/?.so' busted examples/rules/international/spec

package.cpath = (os.getenv("RTCBILL_LUA_CPATH") or "build/?.so") .. ";"
    .. package.cpath
local rtcbill = require("rtcbill")

local DIR = "examples/rules/international"

local function session(id, start, seconds, video)
  local segs = {}
  for _, v in ipairs(video or {}) do
    segs[#segs + 1] = ('{"offset":%d,"seconds":%d,"width":%d,"height":%d}')
        :format(v[1], v[2], v[3], v[4])
  end
  return ('{"type":"usage","id":"%s","app":1400000101,"user":"u","room":"r",'
      .. '"start":"%s","seconds":%d,"video":[%s]}')
      :format(id, start, seconds, table.concat(segs, ","))
end

-- A postpaid account without trial (first app before 2019-10-11), so
-- every minute is charged at list price on the January bill.
local function bill_of(...)
  local events = {
    '{"type":"account","account":"I1","at":"2019-01-01T09:00:00+08:00",'
      .. '"balance":"100.00"}',
    '{"type":"app","app":1400000101,"account":"I1","at":'
      .. '"2019-01-01T09:05:00+08:00","postpaid":true}',
    ...
  }
  local res = assert(rtcbill.simulate{ rules = DIR, events = events })
  assert.are.equal(1, #res.bills)
  local lines = {}
  for _, l in ipairs(res.bills[1].lines) do
    lines[l.tier] = l
  end
  return res.bills[1], lines
end

describe("the international rule set", function()
  local rules = assert(rtcbill.load_rules(DIR))

  it("bills in USD and sums concurrent streams", function()
    assert.are.equal("USD", rules.currency)
    assert.are.equal("aggregate", rules.video_mode)
  end)

  it("has the five tiers and prices of Appendix A", function()
    local got = {}
    for _, t in ipairs(rules.tiers) do
      got[#got + 1] = { t.name, t.max_pixels or false, t.price }
    end
    assert.are.same({
      { "audio", false, "0.99" }, { "HD", 921600, "3.99" },
      { "FHD", 2073600, "8.99" }, { "2K", 3686400, "15.99" },
      { "4K", false, "35.99" } }, got)
  end)

  it("puts each bound in its own tier and anything above 2K in 4K", function()
    assert.are.equal("HD", rules:tier_for(921600))
    assert.are.equal("FHD", rules:tier_for(921601))
    assert.are.equal("FHD", rules:tier_for(2073600))
    assert.are.equal("2K", rules:tier_for(3686400))
    assert.are.equal("4K", rules:tier_for(3686401))
    assert.are.equal("4K", rules:tier_for(8847360))
    assert.are.equal("4K", rules:tier_for(8847361 * 4))
  end)

  it("deducts general packages 1:4:9:16:36", function()
    local f = rules.kinds[2].factors
    assert.are.equal("general", rules.kinds[2].name)
    assert.are.same({ 1, 4, 9, 16, 36 },
                    { f.audio, f.HD, f.FHD, f["2K"], f["4K"] })
  end)

  it("prices each instant in the tier of the summed area", function()
    -- Two 720p streams overlapping for 5 of 15 minutes: HD, FHD, HD.
    local _, lines = bill_of(session("s1", "2019-01-05T20:00:00+08:00", 900,
      { { 0, 600, 1280, 720 }, { 300, 600, 1280, 720 } }))
    assert.are.equal(10, lines.HD.minutes)
    assert.are.equal("0.03990000", lines.HD.amount)
    assert.are.equal(5, lines.FHD.minutes)
    assert.are.equal("0.04495000", lines.FHD.amount)
    assert.is_nil(lines.audio)
  end)

  it("charges 4K for sums above the nominal 4K bound", function()
    local bill, lines = bill_of(session("s1", "2019-01-05T20:00:00+08:00",
      60, { { 0, 60, 4096, 2160 }, { 0, 60, 4096, 2160 } }))
    assert.are.equal(1, lines["4K"].minutes)
    assert.are.equal("0.03599000", lines["4K"].amount)
    assert.are.equal("0.04", bill.total)
    assert.are.equal("0.00401000", bill.precision_diff)
  end)

  it("passes rtcbill check with its self-tests", function()
    local ok, lines = rtcbill.check(DIR)
    assert.is_true(ok, table.concat(lines, "\n"))
    local text = table.concat(lines, "\n")
    assert.matches("selftest aggregate%-tiers%-and%-unbounded%-4k: ok", text)
    assert.matches("selftest general%-package%-36%-per%-4k%-minute: ok", text)
  end)
end)
