-- settlement.lua: when an account is billed (SPEC 1.6).
--
-- An account settles monthly when its first app was created on or before
-- 2020-08-31 in the billing time zone, daily from 2020-09-01 on. The
-- cycle is decided once, at the first app's creation; the user cannot
-- change it (an operator may switch monthly to daily, never back).

-- The last local date on which a first app still means monthly billing.
last_monthly_date = "2020-08-31"

-- Issue times. The bill for day D is issued and deducted at D+1 10:00;
-- the bill for month M on a day 1..5 of month M+1 at the given time.
issue = {
  daily   = { at = "10:00" },            -- the next day
  monthly = { day = 1, at = "10:00" },   -- day 1..5 of the next month
}

-- account = { id = "A1", first_app_at = "2020-08-31T23:59:59+08:00",
--             first_app_date = "2020-08-31" }, both in the billing zone.
-- Returns "monthly" or "daily".
function cycle(account)
  if account.first_app_date <= last_monthly_date then
    return "monthly"
  end
  return "daily"
end
