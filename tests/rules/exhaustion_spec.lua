-- exhaustion_spec.lua: stop the service or switch to postpaid
-- (SPEC 1.5).

local load_rule = dofile("tests/rules/load_rule.lua")

local triggers = { "uncovered", "exhausted", "expired" }
local trials = { "none", "active", "exhausted", "expired" }

-- A question as the core asks it, for an app without postpaid.
local function query(trigger, bought, trial)
  return {
    account = "A1", app = 1400000001, at = "2020-10-06T20:00:00+08:00",
    trigger = trigger,
    package_kind = trigger ~= "uncovered" and "trial" or nil,
    tier = trigger == "uncovered" and "HD" or nil,
    bought_package = bought, trial = trial,
  }
end

describe("exhaustion.lua", function()
  local e = load_rule("exhaustion.lua")

  it("switches postpaid on when the account ever bought a package", function()
    for _, trigger in ipairs(triggers) do
      for _, trial in ipairs(trials) do
        assert.are.same({ action = "postpaid" },
                        e.decide(query(trigger, true, trial)))
      end
    end
  end)

  it("stops for no_package when the account never had a package", function()
    for _, trigger in ipairs(triggers) do
      assert.are.same({ action = "stop", reason = "no_package" },
                      e.decide(query(trigger, false, "none")))
    end
  end)

  it("stops for trial_exhausted when the trial is used up", function()
    for _, trigger in ipairs(triggers) do
      assert.are.same({ action = "stop", reason = "trial_exhausted" },
                      e.decide(query(trigger, false, "exhausted")))
    end
  end)

  it("stops for trial_exhausted when the trial has too little left", function()
    assert.are.same({ action = "stop", reason = "trial_exhausted" },
                    e.decide(query("uncovered", false, "active")))
  end)

  it("stops for trial_expired when the trial expired", function()
    for _, trigger in ipairs(triggers) do
      assert.are.same({ action = "stop", reason = "trial_expired" },
                      e.decide(query(trigger, false, "expired")))
    end
  end)

  it("never gives the arrears reason, which is the core's own", function()
    for _, trigger in ipairs(triggers) do
      for _, trial in ipairs(trials) do
        for _, bought in ipairs({ true, false }) do
          local d = e.decide(query(trigger, bought, trial))
          assert.are_not.equal("arrears", d.reason)
          assert.truthy(d.action == "postpaid" or d.action == "stop")
        end
      end
    end
  end)
end)
