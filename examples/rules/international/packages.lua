-- packages.lua: package kinds of the international model (SPEC
-- Appendix A: general-package factors 1:4:9:16:36; the rest as in the
-- default rules). Every tier of tariff.lua needs a factor.

kinds = {
  -- The free trial: granted, never bought; 10 000 minutes, 1:1 in every
  -- tier, as in the default rules.
  { name = "trial", granted = true, minutes = 10000,
    factors = { audio = 1, HD = 1, FHD = 1, ["2K"] = 1, ["4K"] = 1 } },
  -- The general package: one 4K minute uses 36 package minutes.
  { name = "general",
    factors = { audio = 1, HD = 4, FHD = 9, ["2K"] = 16, ["4K"] = 36 } },
}

trial_grant_from = "2019-10-11"
activation_delay_minutes = 5
validity_months = 12
deduction_order = {
  "trial_first", "earliest_expiry", "earliest_purchase", "id",
}
-- No catalogue: the international package prices are not part of this
-- example, so `rtcbill estimate` does not apply to it.
