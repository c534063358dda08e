-- load_rule.lua: runs a rule file the way the rules host does, text only,
-- in its own environment holding only what the sandbox allows, and
-- returns that environment (the rule's globals). Shared by the specs:
--   local load_rule = dofile("tests/rules/load_rule.lua")
return function(name)
  local env = {
    assert = assert, error = error, ipairs = ipairs, next = next,
    pairs = pairs, pcall = pcall, select = select, tonumber = tonumber,
    tostring = tostring, type = type, setmetatable = setmetatable,
    string = string, table = table, math = math, utf8 = utf8,
  }
  local chunk = assert(loadfile("rules/" .. name, "t", env))
  chunk()
  return env
end
