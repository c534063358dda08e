-- exhaustion.lua: stop the service or switch to postpaid (SPEC 1.5).
--
-- The core asks only about an app running WITHOUT postpaid, and only on
-- a transition: its minutes need cover and no package has any left
-- ("uncovered"), or a package was used up ("exhausted") or expired
-- ("expired") and no active package has minutes left.
--
-- The question q:
--   q.account, q.app, q.at        who and when (at: RFC 3339, billing zone)
--   q.trigger                     "uncovered" | "exhausted" | "expired"
--   q.package_kind                kind used up or expired, else nil
--   q.tier                        tier needing cover ("uncovered"), else nil
--   q.bought_package              the account ever bought a package
--   q.trial                       "none" | "active" | "exhausted" | "expired"
-- The answer: { action = "postpaid" } switches postpaid on for every app
-- of the account (noticed with reason "auto"); { action = "stop",
-- reason = R } stops this app until a package activates or postpaid is
-- enabled.

-- An account that ever bought a package is moved to postpaid instead of
-- being stopped: it has shown it pays.
postpaid_after_purchase = true

-- Otherwise the service stops, for a reason that depends on the trial.
stop_reason_by_trial = {
  none      = "no_package",      -- never had a package
  active    = "trial_exhausted", -- what is left is too little
  exhausted = "trial_exhausted",
  expired   = "trial_expired",
}

local function postpaid()
  return { action = "postpaid" }
end

local function stop(reason)
  return { action = "stop", reason = reason }
end

function decide(q)
  if q.bought_package and postpaid_after_purchase then
    return postpaid()
  end
  return stop(stop_reason_by_trial[q.trial])
end
