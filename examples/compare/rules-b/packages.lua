-- packages.lua: prepaid package kinds and how they are used (SPEC 1.4).
--
-- A package deducts package minutes per tier-minute it covers, by a
-- factor per tier: the free trial 1:1:1:1, the general package 1:2:4:15
-- (one HD minute uses 4 package minutes). Every tier of tariff.lua must
-- have a factor. The order of the kinds matters: it is the order in
-- which reports list them.

kinds = {
  -- 免费试用: granted, never bought; 10 000 minutes.
  { name = "trial", granted = true, minutes = 10000,
    factors = { audio = 1, SD = 1, HD = 1, ["HD+"] = 1 } },
  -- 通用套餐包: bought in any size.
  { name = "general",
    factors = { audio = 1, SD = 2, HD = 4, ["HD+"] = 15 } },
}

-- An account whose first app is created on or after this local date gets
-- one trial package at that moment, with id "ACCOUNT/trial".
trial_grant_from = "2019-10-11"

-- A bought package becomes active this long after the purchase; it then
-- covers usage of the activation day that nothing covered yet.
activation_delay_minutes = 5

-- Valid from the grant or purchase to the end of the same month of the
-- next year (2020-05-01 -> 2021-05-31 24:00); what is left is forfeited.
validity_months = 12

-- Which package pays first: trial packages, then the earliest expiry,
-- then the earliest purchase, then the package id.
deduction_order = {
  "trial_first", "earliest_expiry", "earliest_purchase", "id",
}

-- The catalogue, for the price estimator only (SPEC 1.4). Sizes are in
-- thousands of minutes; prices are decimal strings in the currency of
-- tariff.lua. A custom package of X thousand minutes (X whole) costs X
-- times the unit price of the band X falls in.
catalogue = {
  fixed = {
    { thousands = 25,   price = "168.00"   },
    { thousands = 250,  price = "1588.00"  },
    { thousands = 1000, price = "5968.00"  },
    { thousands = 3000, price = "16888.00" },
  },
  custom = {
    { from = 1,    to = 24,   per_thousand = "7.000" },
    { from = 25,   to = 249,  per_thousand = "6.720" },
    { from = 250,  to = 999,  per_thousand = "6.352" },
    { from = 1000, to = 2999, per_thousand = "5.968" },
    { from = 3000,            per_thousand = "5.630" }, -- and above
  },
}
