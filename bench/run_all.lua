-- run_all.lua: the benchmark suite. Generates months of usage of several
-- sizes (bench/gen.lua, fixed seed), runs every tool on each several
-- times, and prints the machine, then one Markdown table per size with
-- the median wall time, the spread (min - max), records per second,
-- peak RSS, and the ratios the targets of BENCHMARKS.md are about.
--
-- usage: lua5.4 bench/run_all.lua [--full] [--runs N] [--sizes S:A,...]
--                                 [--keep DIR]
--   default sizes 100000:10000, 1000000:10000, 1000000:100000,
--   4000000:100000; --full adds 16000000:1000000 (about 4 GB of input
--   and a few minutes per run). --runs: runs per tool (default 3).
--   --keep DIR: generate into (and reuse from) DIR instead of a
--   temporary folder.
--
-- The tools, run one after another on the same file:
--   simulate      build/rtcbill simulate (one thread, the accounts in
--                 shares), all outputs written
--   one engine    the same with --shares 1
--   simulate -j2  the same with --jobs 2
--   compare       build/rtcbill compare, default rules against
--                 examples/compare/rules-b
--   cjson         bench/baseline_cjson: every line parsed with cJSON
--   duckdb        bench/duckdb/query.mjs: postpaid charges per app and
--                 tier in one DuckDB query (both cores); skipped, with a
--                 message, when node or npm is missing
-- Depends on: Lua 5.4, lua-cjson, GNU time (/usr/bin/time), a built tree
-- (make build), cmake (for the cJSON baseline), optionally node and npm.

local cjson = require("cjson")

local runs, full, keep = 3, false, nil
local sizes = { { 100000, 10000 }, { 1000000, 10000 }, { 1000000, 100000 },
                { 4000000, 100000 } }
local i = 1
while i <= #arg do
  local a = arg[i]
  if a == "--full" then
    full = true
  elseif a == "--runs" then
    i = i + 1
    runs = assert(tonumber(arg[i]), "--runs N")
  elseif a == "--keep" then
    i = i + 1
    keep = arg[i]
  elseif a == "--sizes" then
    i = i + 1
    sizes = {}
    for s, n in arg[i]:gmatch("(%d+):(%d+)") do
      sizes[#sizes + 1] = { tonumber(s), tonumber(n) }
    end
  else
    io.stderr:write("usage: lua5.4 bench/run_all.lua [--full] [--runs N] " ..
                    "[--sizes S:A,...] [--keep DIR]\n")
    os.exit(2)
  end
  i = i + 1
end
if full then
  sizes[#sizes + 1] = { 16000000, 1000000 }
end

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The machine.
local cpu = sh("grep -m1 'model name' /proc/cpuinfo"):match(":%s*(.-)%s*$")
local mem = sh("grep -m1 MemTotal /proc/meminfo"):match("(%d+)")
print("## Machine\n")
print(("- CPU: %s, %s cores (nproc)"):format(cpu or "?",
      sh("nproc"):match("%d+")))
print(("- RAM: %d GiB"):format((tonumber(mem) or 0) // (1024 * 1024)))
print(("- kernel: %s"):format(sh("uname -r"):gsub("%s+$", "")))
print(("- compiler: %s"):format(sh("gcc --version | head -1"):gsub("%s+$", "")))
print(("- load average at start: %s"):format(
  sh("cut -d' ' -f1-3 /proc/loadavg"):gsub("%s+$", "")))
print(("- runs per tool: %d; times are wall clock, median [min - max]\n")
      :format(runs))

-- The tools.
assert(exists("build/rtcbill"), "build first: make build")
local cjson_bin = "build/bench/baseline_cjson"
if not exists(cjson_bin) then
  os.execute("cmake --build build --target baseline_cjson >/dev/null 2>&1")
end
if not exists(cjson_bin) then
  print("(cJSON baseline skipped: install libcjson-dev, then rerun cmake)\n")
  cjson_bin = nil
end
local duckdb = nil
if os.execute("command -v node >/dev/null 2>&1 && " ..
              "command -v npm >/dev/null 2>&1") then
  if not exists("bench/duckdb/node_modules/@duckdb/node-api/package.json") then
    os.execute("cd bench/duckdb && npm install --no-audit --no-fund " ..
               ">/dev/null 2>&1")
  end
  if exists("bench/duckdb/node_modules/@duckdb/node-api/package.json") then
    duckdb = "node bench/duckdb/query.mjs"
  end
end
if not duckdb then
  print("(DuckDB baseline skipped: node and npm are needed, and " ..
        "`npm install` in bench/duckdb)\n")
end

local work = keep or sh("mktemp -d"):gsub("%s+$", "")
os.execute("mkdir -p " .. q(work))

-- Runs cmd once: wall seconds (from the ns clock), peak RSS in KiB.
local function measure(cmd)
  local tf = work .. "/time.txt"
  local t = sh(("s=$(date +%%s%%N); /usr/bin/time -f '%%M' -o %s %s " ..
                ">%s/last.out 2>&1; e=$(date +%%s%%N); echo $((e - s))")
               :format(q(tf), cmd, q(work)))
  local ns = tonumber(t:match("%d+"))
  local rss = tonumber((sh("tail -1 " .. q(tf)):match("%d+")))
  return ns / 1e9, rss
end

local function median(xs)
  local s = {}
  for k, v in ipairs(xs) do s[k] = v end
  table.sort(s)
  return s[(#s + 1) // 2], s[1], s[#s]
end

local function fmt_rate(r)
  return tostring(math.floor(r + 0.5)):reverse():gsub("(%d%d%d)", "%1 ")
    :reverse():gsub("^ ", "")
end

local results = {}
for _, size in ipairs(sizes) do
  local sessions, accounts = size[1], size[2]
  local file = ("%s/month-%d-%d.jsonl"):format(work, sessions, accounts)
  if not exists(file) then
    os.execute(("lua5.4 bench/gen.lua %d %d > %s"):format(sessions, accounts,
                                                           q(file)))
  end
  local lines = tonumber(sh("wc -l < " .. q(file)):match("%d+"))
  local bytes = tonumber(sh("stat -L -c %s " .. q(file)):match("%d+"))
  local out = work .. "/out"
  local tools = {
    { "simulate", ("build/rtcbill simulate --out %s %s"):format(q(out), q(file)),
      true },
    { "simulate, one engine",
      ("build/rtcbill simulate --shares 1 --out %s %s"):format(q(out .. "1"),
                                                             q(file)) },
    { "simulate --jobs 2",
      ("build/rtcbill simulate --jobs 2 --out %s %s"):format(q(out .. "2"),
                                                           q(file)) },
    { "compare", ("build/rtcbill compare --against examples/compare/rules-b " ..
                  "--out %s %s"):format(q(out .. "c"), q(file)) },
  }
  if cjson_bin then
    tools[#tools + 1] = { "cJSON parse only", cjson_bin .. " " .. q(file) }
  end
  if duckdb then
    tools[#tools + 1] = { "DuckDB query (2 threads)",
                          duckdb .. " " .. q(file) .. " 2" }
  end
  local row = { sessions = sessions, accounts = accounts, lines = lines,
                bytes = bytes, tools = {} }
  print(("## %d sessions, %d accounts (%d lines, %d MB)\n"):format(
    sessions, accounts, lines, bytes // 1000000))
  print("| tool | median s | spread s | records/s | peak RSS MiB |")
  print("|---|---:|---:|---:|---:|")
  for _, t in ipairs(tools) do
    local ts, rs = {}, {}
    for _ = 1, runs do
      local s, r = measure(t[2])
      ts[#ts + 1] = s
      rs[#rs + 1] = r
    end
    local m, lo, hi = median(ts)
    local rss = median(rs)
    row.tools[t[1]] = { median = m, rss = rss }
    print(("| %s | %.2f | %.2f - %.2f | %s | %d |"):format(t[1], m, lo, hi,
          fmt_rate(lines / m), rss // 1024))
    if t[3] then
      local f = io.open(out .. "/summary.json")
      if f then
        local s = cjson.decode(f:read("a"))
        f:close()
        row.summary = s
      end
    end
  end
  local s = row.summary
  if s and s.engine then
    print(("\nsimulate: phases %s; %d usage ids at %d bytes each; peak %d " ..
           "accumulators at %d bytes each; %d bills"):format(
      cjson.encode(s.phases), s.engine.usage_ids, s.engine.bytes_per_usage_id,
      s.engine.accumulators_peak, s.engine.bytes_per_accumulator, s.bills))
  end
  local sim, tl = row.tools["simulate"], row.tools
  local function ratio(a, b)
    return (a and b) and ("%.2f"):format(a.median / b.median) or "n/a"
  end
  print(("\nratios: cJSON time / simulate time %s (target >= 2.5); " ..
         "DuckDB / simulate %s (target >= 1, aim 2); compare / simulate " ..
         "%s (target <= 1.5); simulate / simulate --jobs 2 %s " ..
         "(target >= 1.8); one engine / simulate %s (what the shares " ..
         "gain)\n"):format(
    ratio(tl["cJSON parse only"], sim), ratio(tl["DuckDB query (2 threads)"],
    sim), ratio(tl["compare"], sim), ratio(sim, tl["simulate --jobs 2"]),
    ratio(tl["simulate, one engine"], sim)))
  results[#results + 1] = row
end

-- Linearity: each size's time per session against the 1M-session
-- months' (with 10k and with 100k accounts, when they were run): 1.00
-- is exactly linear.
local bases = {}
for _, r in ipairs(results) do
  if r.sessions == 1000000 then bases[r.accounts] = r end
end
if bases[10000] or bases[100000] then
  print("## Linearity (simulate, one thread)\n")
  print("time / (sessions / 1M x the time of a 1M-session month):\n")
  print("| sessions | accounts | vs 1M sessions, 10k accounts " ..
        "| vs 1M sessions, 100k accounts |")
  print("|---:|---:|---:|---:|")
  for _, r in ipairs(results) do
    local cols = {}
    for _, a in ipairs({ 10000, 100000 }) do
      local b = bases[a]
      cols[#cols + 1] = b and ("%.2f"):format(r.tools["simulate"].median /
        (b.tools["simulate"].median * r.sessions / 1000000)) or "n/a"
    end
    print(("| %d | %d | %s | %s |"):format(r.sessions, r.accounts, cols[1],
          cols[2]))
  end
  print("")
end
if not keep then
  os.execute("rm -rf " .. q(work))
end
