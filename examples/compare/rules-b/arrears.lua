-- arrears.lua: what happens when the balance goes negative (SPEC 1.7).
--
-- On entering arrears the account gets a notice and a grace period. If
-- the balance is still negative when it ends, every app of the account
-- stops (reason "arrears"), even with package minutes left. A top-up to
-- a balance >= 0 clears the arrears and resumes the apps. After the apps
-- have been stopped this long, the account is reclaimed: its packages
-- are cleared and it stays stopped for good.

grace_hours  = 24 -- from entering arrears to stopping the apps
reclaim_days = 60 -- from stopping the apps to reclaiming the account
