-- settlement_spec.lua: the settlement cycle and issue times (SPEC 1.6).

local load_rule = dofile("tests/rules/load_rule.lua")

-- An account as the host passes it: times in the billing zone.
local function account(at)
  return { id = "A1", first_app_at = at, first_app_date = at:sub(1, 10) }
end

describe("settlement.lua", function()
  local s = load_rule("settlement.lua")

  it("bills monthly when the first app came on 2020-08-31, to the last second",
     function()
    assert.are.equal("monthly", s.cycle(account("2020-08-31T23:59:59+08:00")))
  end)

  it("bills daily when the first app came on 2020-09-01 at midnight", function()
    assert.are.equal("daily", s.cycle(account("2020-09-01T00:00:00+08:00")))
  end)

  it("bills monthly long before the switch and daily long after", function()
    assert.are.equal("monthly", s.cycle(account("2019-10-11T09:00:00+08:00")))
    assert.are.equal("daily", s.cycle(account("2023-02-01T09:00:00+08:00")))
  end)

  it("answers only monthly or daily, on every day of 2020", function()
    local seen = { monthly = 0, daily = 0 }
    local days = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
    for m = 1, 12 do
      for d = 1, days[m] do
        local date = string.format("2020-%02d-%02d", m, d)
        local c = s.cycle(account(date .. "T12:00:00+08:00"))
        seen[c] = seen[c] + 1
      end
    end
    assert.are.same({ monthly = 244, daily = 122 }, seen)
  end)

  it("issues the daily bill the next day at 10:00", function()
    assert.are.same({ at = "10:00" }, s.issue.daily)
  end)

  it("issues the monthly bill on day 1 of the next month at 10:00", function()
    assert.are.equal(1, s.issue.monthly.day)
    assert.are.equal("10:00", s.issue.monthly.at)
    assert.is_true(s.issue.monthly.day >= 1 and s.issue.monthly.day <= 5)
  end)
end)
