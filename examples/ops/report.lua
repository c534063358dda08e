-- report.lua: an operations report from a running daemon's store, using
-- the `rtcbill` Lua module (read-only: safe against a live store).
--
--   lua5.4 examples/ops/report.lua /var/lib/rtcbill/store.db
--
-- Prints the store's state, each account's latest bill, balance and
-- arrears status, revenue per account, and notice counts by type. Run
-- from the source tree after `make build` (the module is build/rtcbill.so;
-- RTCBILL_LUA_CPATH overrides where it is looked for). Needs lua-cjson.

package.cpath = (os.getenv("RTCBILL_LUA_CPATH") or "build/?.so") .. ";"
    .. package.cpath
local rtcbill = require("rtcbill")
local cjson = require("cjson")

local path = arg[1]
if not path then
  io.stderr:write("usage: lua5.4 examples/ops/report.lua STORE.db\n")
  os.exit(2)
end

local store, err = rtcbill.open_store(path)
if not store then
  io.stderr:write("report.lua: ", err, "\n")
  os.exit(1)
end

local state = assert(store:state())
print(string.format("store %s: rules %s, %d journal entries, %d bills, "
                    .. "%d notices, clock %s", path, state.rules,
                    state.journal_seq, state.bills, state.notices,
                    os.date("!%Y-%m-%dT%H:%M:%SZ", state.now)))

-- Money stays a decimal string end to end: sum it as integer cents (all
-- bill totals have two decimals), never as a float.
local function cents(s)
  local sign, int, frac = s:match("^(-?)(%d+)%.(%d%d)$")
  assert(int, "unexpected money " .. s)
  local v = tonumber(int) * 100 + tonumber(frac)
  return sign == "-" and -v or v
end

local function money(c)
  local sign = c < 0 and "-" or ""
  c = math.abs(c)
  return string.format("%s%d.%02d", sign, c // 100, c % 100)
end

local accounts, order = {}, {}
for _, line in ipairs(assert(store:bills())) do
  local b = cjson.decode(line)
  local a = accounts[b.account]
  if not a then
    a = { bills = 0, revenue = 0 }
    accounts[b.account] = a
    order[#order + 1] = b.account
  end
  a.bills = a.bills + 1
  a.revenue = a.revenue + cents(b.total)
  a.last, a.balance, a.status = b.bill, b.balance_after, b.status
end
table.sort(order)

print(string.format("\n%-24s %6s %12s  %-22s %12s  %s", "account", "bills",
                    "revenue", "latest bill", "balance", "status"))
local total = 0
for _, id in ipairs(order) do
  local a = accounts[id]
  total = total + a.revenue
  print(string.format("%-24s %6d %12s  %-22s %12s  %s", id, a.bills,
                      money(a.revenue), a.last, a.balance, a.status))
end
print(string.format("%-24s %6s %12s", "total", "", money(total)))

-- Notices are followed by cursor, as a tool tailing the store would.
local counts, types, after = {}, {}, 0
repeat
  local page = assert(store:notices(after, 500))
  for _, n in ipairs(page) do
    local t = cjson.decode(n.json).type
    if not counts[t] then
      counts[t] = 0
      types[#types + 1] = t
    end
    counts[t] = counts[t] + 1
    after = n.seq
  end
until #page == 0
table.sort(types)
print("\nnotices")
for _, t in ipairs(types) do
  print(string.format("  %-20s %6d", t, counts[t]))
end
store:close()
