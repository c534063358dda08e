-- tariff_spec.lua: the default list prices (SPEC 1.1, 1.2, 1.6).

local load_rule = dofile("tests/rules/load_rule.lua")

-- The tier a stream of `pixels` (> 0) falls in: the first video tier
-- whose inclusive bound holds it, else the unbounded last one.
local function tier_for(tiers, pixels)
  for i = 2, #tiers do
    if tiers[i].max_pixels == nil or pixels <= tiers[i].max_pixels then
      return tiers[i].name
    end
  end
  return tiers[#tiers].name
end

describe("tariff.lua", function()
  local t = load_rule("tariff.lua")

  it("bills in CNY in the UTC+08:00 time zone", function()
    assert.are.equal("CNY", t.currency)
    assert.are.equal("+08:00", t.timezone)
  end)

  it("counts each received stream in its own tier", function()
    assert.are.equal("per_stream", t.video_mode)
  end)

  it("rounds bill totals to 0.01", function()
    assert.are.equal("0.01", t.total_rounding)
  end)

  it("lists the tiers audio, SD, HD and HD+ in that order", function()
    local names = {}
    for i, tier in ipairs(t.tiers) do names[i] = tier.name end
    assert.are.same({ "audio", "SD", "HD", "HD+" }, names)
  end)

  it("bounds SD at 640x480 and HD at 1280x720 pixels, inclusive", function()
    assert.is_nil(t.tiers[1].max_pixels)
    assert.are.equal(307200, t.tiers[2].max_pixels)
    assert.are.equal(921600, t.tiers[3].max_pixels)
    assert.is_nil(t.tiers[4].max_pixels)
    assert.are.equal("integer", math.type(t.tiers[2].max_pixels))
  end)

  it("puts 720x360 in SD, 640x480 in SD, 1280x720 in HD and 1920x1080 in HD+",
     function()
    assert.are.equal("SD", tier_for(t.tiers, 720 * 360))
    assert.are.equal("SD", tier_for(t.tiers, 640 * 480))
    assert.are.equal("HD", tier_for(t.tiers, 640 * 480 + 1))
    assert.are.equal("HD", tier_for(t.tiers, 1280 * 720))
    assert.are.equal("HD+", tier_for(t.tiers, 1280 * 720 + 1))
    assert.are.equal("HD+", tier_for(t.tiers, 1920 * 1080))
  end)

  it("prices 1000 minutes at 7.00, 14.00, 28.00 and 105.00", function()
    local prices = {}
    for i, tier in ipairs(t.tiers) do prices[i] = tier.price end
    assert.are.same({ "7.00", "14.00", "28.00", "105.00" }, prices)
  end)

  it("writes every price as a decimal string, never a number", function()
    for _, tier in ipairs(t.tiers) do
      assert.are.equal("string", type(tier.price))
      assert.truthy(tier.price:match("^%d+%.%d%d$"), tier.price)
    end
  end)
end)
