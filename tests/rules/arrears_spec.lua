-- arrears_spec.lua: grace and reclaim after the balance goes negative
-- (SPEC 1.7).

local load_rule = dofile("tests/rules/load_rule.lua")

describe("arrears.lua", function()
  local a = load_rule("arrears.lua")

  it("gives 24 hours of grace before the apps stop", function()
    assert.are.equal(24, a.grace_hours)
    assert.are.equal("integer", math.type(a.grace_hours))
  end)

  it("reclaims an account stopped for arrears for 60 days", function()
    assert.are.equal(60, a.reclaim_days)
    assert.are.equal("integer", math.type(a.reclaim_days))
  end)
end)
