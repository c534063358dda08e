-- tariff.lua: the later international model (SPEC Appendix A).
--
-- Billed in USD. Streams are NOT priced one by one: at each instant the
-- pixel areas of all the video a user receives are summed, and that
-- instant counts once, in the tier of the sum ("aggregate"). Two 720p
-- streams at once (2 x 921 600 = 1 843 200 px) are one FHD instant.
-- Bounds are inclusive upper bounds on the summed area. 4K is nominally
-- up to 8 847 360 px (4096 x 2160), but larger sums count as 4K too, so
-- its bound is left out: the last tier is unbounded.
-- Source: trtc.io billing docs. Prices are per 1000 minutes.

currency       = "USD"
timezone       = "+08:00"     -- as in the default rules
video_mode     = "aggregate"  -- concurrent streams are summed
total_rounding = "0.01"

tiers = {
  { name = "audio",                          price = "0.99"  },
  { name = "HD",  max_pixels = 921600,       price = "3.99"  }, -- 1280x720
  { name = "FHD", max_pixels = 2073600,      price = "8.99"  }, -- 1920x1080
  { name = "2K",  max_pixels = 3686400,      price = "15.99" }, -- 2560x1440
  { name = "4K",                             price = "35.99" }, -- and above
}
