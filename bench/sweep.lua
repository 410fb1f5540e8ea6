-- bench/sweep.lua - a 3 services x 17 regions (51 scopes) invite.run sweep against the simulator,
-- every response held 50 ms (fault "latency=50"), concurrently and sequentially.
--
--   lua5.4 bench/sweep.lua [rounds] [concurrency,...]      (or: luajit bench/sweep.lua ...)
--   lua5.4 bench/sweep.lua --args                          (print the --services/--regions
--                                                           arguments and the fixture's prod key
--                                                           for bench/run.sh's `invite list` runs)
--
-- Starts `invite sim` on examples/fixtures/org.json (spec/support/sim.lua: free port, stopped by
-- its pid) and times invite.run{ apply = false } with a policy that keeps everything, for each
-- concurrency (default 51,32,1: all scopes at once, the runner's default, one at a time). Each run
-- must cover all 51 scopes with no error and find the same invitations as the first. Prints
--   result sweep-<vm>-c<N> min=<ms> median=<ms> max=<ms> rounds=<n> iterations=1 requests=<n>
-- (requests = simulator requests one sweep made, from its request log; longest_scope = the most
-- requests one service x region needed: its pages follow each other, so no sweep can take less
-- than longest_scope x 50 ms).
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
local vm = (rawget(_G, "jit") and "luajit") or _VERSION:match("%d+%.%d+")
package.cpath = "build/" .. vm .. "/?.so;" .. package.cpath

local sim = require "support.sim"

local SERVICES = { "macie2", "securityhub", "guardduty" }
local REGIONS = {
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
  "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1",
  "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
}
assert(#SERVICES * #REGIONS == 51)
local FAULTS = "latency=50"

if arg[1] == "--args" then
  local key = sim.credentials("prod")
  print(table.concat(SERVICES, ","), table.concat(REGIONS, ","), FAULTS, key.access_key_id, key.secret_access_key)
  os.exit(0)
end

local invite = require "invite"
local core = require "invite.core"
local clock = core.monotime
local ROUNDS = tonumber(arg[1]) or 5
local CONCS = {}
for c in (arg[2] or "51,32,1"):gmatch("%d+") do CONCS[#CONCS + 1] = tonumber(c) end

local s = sim.start{ faults = FAULTS }
local key = sim.credentials("prod")
local creds = { access_key_id = key.access_key_id, secret_access_key = key.secret_access_key }

local expected_invitations
local function sweep(conc)
  local report = invite.run{
    services = SERVICES, regions = REGIONS, policy = function() return "keep", "benchmark" end,
    apply = false, endpoint = s.endpoint, credentials = creds, concurrency = conc,
  }
  if #report.scopes ~= 51 or #report.errors > 0 then
    error(("sweep at concurrency %d: %d scopes, errors: %s"):format(conc, #report.scopes,
      table.concat(report.errors, "; ")), 0)
  end
  local n = report.totals.invitations
  expected_invitations = expected_invitations or n
  if n ~= expected_invitations then
    error(("sweep at concurrency %d found %d invitations, the first found %d"):format(conc, n, expected_invitations), 0)
  end
end

local ok, err = pcall(function()
  for _, conc in ipairs(CONCS) do
    sweep(conc) -- warm-up: connections, credentials, modules
    local before = #s:requests()
    local ms = {}
    for r = 1, ROUNDS do
      local t0 = clock()
      sweep(conc)
      ms[r] = (clock() - t0) * 1e3
    end
    local log = s:requests()
    local requests = (#log - before) / ROUNDS
    -- the most requests one scope needs (pages follow each other): the sweep's floor is that x 50 ms
    local per_scope, longest = {}, 0
    for i = before + 1, #log do
      local k = tostring(log[i].service) .. " " .. tostring(log[i].region)
      per_scope[k] = (per_scope[k] or 0) + 1
    end
    for _, n in pairs(per_scope) do longest = math.max(longest, n / ROUNDS) end
    table.sort(ms)
    print(("result sweep-%s-c%d min=%.1f median=%.1f max=%.1f rounds=%d iterations=1 requests=%d invitations=%d"
      .. " longest_scope=%d"):format(vm, conc, ms[1], ms[math.floor(#ms / 2) + 1], ms[#ms], ROUNDS, requests,
      expected_invitations, longest))
    io.stdout:flush()
  end
end)
s:stop()
if not ok then
  io.stderr:write("bench/sweep.lua: ", tostring(err), "\n")
  os.exit(1)
end
