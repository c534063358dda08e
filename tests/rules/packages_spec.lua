-- packages_spec.lua: package kinds, their use and the catalogue
-- (SPEC 1.4).

local load_rule = dofile("tests/rules/load_rule.lua")

-- A decimal string with up to three decimals as an integer count of
-- thousandths, so that prices compare exactly.
local function thousandths(s)
  local int, frac = s:match("^(%d+)%.?(%d*)$")
  assert(int and #frac <= 3, "not a decimal price: " .. tostring(s))
  local padded = frac .. ("0"):rep(3 - #frac)
  return math.tointeger(tonumber(int) * 1000 + tonumber(padded))
end

describe("packages.lua", function()
  local p = load_rule("packages.lua")
  local tariff = load_rule("tariff.lua")

  it("has the kinds trial and general, in that order", function()
    assert.are.equal(2, #p.kinds)
    assert.are.equal("trial", p.kinds[1].name)
    assert.are.equal("general", p.kinds[2].name)
  end)

  it("grants a trial of 10000 minutes that deducts 1:1:1:1", function()
    local trial = p.kinds[1]
    assert.is_true(trial.granted)
    assert.are.equal(10000, trial.minutes)
    assert.are.same({ audio = 1, SD = 1, HD = 1, ["HD+"] = 1 }, trial.factors)
  end)

  it("sells a general package that deducts 1:2:4:15 and is never granted",
     function()
    local general = p.kinds[2]
    assert.is_falsy(general.granted)
    assert.is_nil(general.minutes)
    assert.are.same({ audio = 1, SD = 2, HD = 4, ["HD+"] = 15 },
                    general.factors)
  end)

  it("gives every kind a whole factor >= 1 for every tier of the tariff",
     function()
    for _, kind in ipairs(p.kinds) do
      local n = 0
      for _ in pairs(kind.factors) do n = n + 1 end
      assert.are.equal(#tariff.tiers, n, kind.name)
      for _, tier in ipairs(tariff.tiers) do
        local f = kind.factors[tier.name]
        assert.are.equal("integer", math.type(f), kind.name .. " " .. tier.name)
        assert.is_true(f >= 1)
      end
    end
  end)

  it("grants the trial to first apps from 2019-10-11 on", function()
    assert.are.equal("2019-10-11", p.trial_grant_from)
  end)

  it("activates a bought package 5 minutes after the purchase", function()
    assert.are.equal(5, p.activation_delay_minutes)
  end)

  it("keeps a package valid to the end of the same month next year", function()
    assert.are.equal(12, p.validity_months)
  end)

  it("deducts the trial first, then by expiry, purchase and id", function()
    assert.are.same(
      { "trial_first", "earliest_expiry", "earliest_purchase", "id" },
      p.deduction_order)
  end)

  it("lists the fixed packages of 25, 250, 1000 and 3000 thousand minutes",
     function()
    local sizes, prices = {}, {}
    for i, f in ipairs(p.catalogue.fixed) do
      sizes[i], prices[i] = f.thousands, f.price
    end
    assert.are.same({ 25, 250, 1000, 3000 }, sizes)
    assert.are.same({ "168.00", "1588.00", "5968.00", "16888.00" }, prices)
  end)

  it("prices custom packages per thousand minutes by contiguous size bands",
     function()
    local bands = p.catalogue.custom
    local units = {}
    assert.are.equal(1, bands[1].from)
    for i, band in ipairs(bands) do
      units[i] = band.per_thousand
      assert.are.equal("string", type(band.per_thousand))
      if i < #bands then
        assert.are.equal(band.to + 1, bands[i + 1].from)
      else
        assert.is_nil(band.to)
      end
    end
    assert.are.same({ "7.000", "6.720", "6.352", "5.968", "5.630" }, units)
  end)

  it("never prices a fixed package above a custom one of the same size",
     function()
    for _, fixed in ipairs(p.catalogue.fixed) do
      local unit
      for _, band in ipairs(p.catalogue.custom) do
        if fixed.thousands >= band.from
            and (band.to == nil or fixed.thousands <= band.to) then
          unit = thousandths(band.per_thousand)
        end
      end
      assert.is_true(thousandths(fixed.price) <= fixed.thousands * unit,
                     fixed.price)
    end
  end)
end)
