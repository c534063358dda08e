-- tariff.lua: a price change of the default rule set, for simulations
-- ("what would last year's usage have cost under the new prices?"):
-- HD goes from 28.00 to 30.00, and a new FHD tier (up to 1920x1080)
-- sits between HD and HD+ at 60.00. These prices are an example, not a
-- published tariff. Everything else is as in rules/.
--
-- The default rules' notes follow.
--
-- SPEC 1.1: usage is priced per 1000 minutes by the tier of the video a
-- user receives, the tier being chosen by the pixel area width x height.
-- Bounds are inclusive upper bounds: 720x360 = 259 200 px is SD.
-- SPEC 1.2: each received stream counts in its own tier ("per_stream");
-- an alternative rule set may sum concurrent streams ("aggregate").
-- SPEC 1.6: bills are settled in UTC+08:00 and totals rounded to 0.01.
--
-- Money is written as decimal strings: a price is never a float.

currency       = "CNY"
timezone       = "+08:00"      -- billing time zone (SPEC 1.6)
video_mode     = "per_stream"  -- streams are not summed (SPEC 1.2)
total_rounding = "0.01"        -- bill totals, rounded half-up (SPEC 1.6)

-- Tiers in order: the audio tier first (no video received), then by the
-- largest pixel area they cover; the last tier has no upper bound.
tiers = {
  { name = "audio",                         price = "7.00"   },
  { name = "SD",    max_pixels = 640 * 480,  price = "14.00"  }, -- 307 200
  { name = "HD",    max_pixels = 1280 * 720, price = "30.00"  }, -- 921 600
  { name = "FHD",   max_pixels = 1920 * 1080, price = "60.00" }, -- 2 073 600
  { name = "HD+",                           price = "105.00" }, -- above FHD
}
