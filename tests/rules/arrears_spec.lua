-- arrears_spec.lua: grace and reclaim after the balance goes negative
-- (SPEC 1.7).

local function load_rule(name)
  local env = {
    assert = assert, error = error, ipairs = ipairs, next = next,
    pairs = pairs, pcall = pcall, select = select, tonumber = tonumber,
    tostring = tostring, type = type, setmetatable = setmetatable,
    string = string, table = table, math = math, utf8 = utf8,
  }
  local chunk = assert(loadfile("rules/" .. name, "t", env))
  chunk()
  return env
end

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
