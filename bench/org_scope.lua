-- bench/org_scope.lua - scope discovery over a simulated AWS Organizations organisation:
--
--   invite plan POLICY --accounts org --role InviteManager --regions enabled
--
-- against `invite sim` with an organisation of N member accounts (default 100) managed by the
-- caller's account: every 20th member SUSPENDED, members enabling opt-in regions (every 4th
-- af-south-1 and ap-east-1, the next eu-central-2), every 10th denied Account ListRegions (so its
-- regions come from EC2 DescribeRegions), one stranger invitation per service in us-east-1 and
-- eu-west-1 of every member. From the simulator's request log it prints, for the one plan run:
--
--   result org-scope-<vm>-a<N> wall=<s> exit=<code> accounts_active=<n> assume_role=<n>
--     get_caller_identity=<n> list_accounts=<n> list_regions=<n> describe_regions=<n>
--     swept=<n> expected=<n> missing=<n> extra=<n> suspended_swept=<n> skipped=<n>
--
-- swept: the distinct (account, service, region) the simulator saw a ListInvitations for;
-- expected: for every ACTIVE account, each service's regions (invite.regions, the caller's
-- partition) that the account has enabled (the simulator's opt-in list and the fixture).
--
--   lua5.4 bench/org_scope.lua [members] [concurrency]      (or luajit, lua5.1, ...)
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
local vm = (rawget(_G, "jit") and "luajit") or _VERSION:match("%d+%.%d+")
package.cpath = "build/" .. vm .. "/?.so;" .. package.cpath

local sim = require "support.sim"
local interp = require "support.interp"
local cjson = require "cjson"
local regions = require "invite.regions"
local sim_regions = require "invite.sim.regions"

local N = tonumber(arg[1]) or 100
local CONC = tonumber(arg[2]) or 32
local SERVICES = { "macie2", "securityhub", "guardduty" }
local ADMIN, STRANGER = "111111111111", "999999999999"
local KEY = { id = "AKIABENCHORGSCOPEADMIN", secret = "bench/org-scope/admin/secret/0123456789" }

local members, suspended, enabled, denied = {}, {}, {}, {}
for i = 1, N do
  local id = ("3%011d"):format(i)
  members[i] = id
  if i % 20 == 0 then suspended[#suspended + 1] = id end
  if i % 4 == 0 then
    enabled[id] = { "af-south-1", "ap-east-1" }
  elseif i % 4 == 1 then
    enabled[id] = { "eu-central-2" }
  end
  if i % 10 == 3 then denied[id] = true end
end

local fx = sim.org_fixture{ admin = ADMIN, key = KEY, inviter = STRANGER, members = members, services = SERVICES,
                            regions = { "us-east-1", "eu-west-1" }, organization = true, suspended = suspended,
                            enabled_regions = enabled }
for _, a in ipairs(fx.accounts) do
  if denied[a.id] then a.denied = { "account:ListRegions" } end
end

local dir = os.tmpname()
os.remove(dir)
assert(interp.execute("mkdir -p " .. sim.shell_quote(dir)) == 0)
-- the request log goes to a file: the simulator keeps only the latest entries in memory
local log = dir .. "/requests.jsonl"
local s = sim.start{ fixtures = fx, log = log }
local policy = dir .. "/policy.lua"
sim.write_file(policy, [[return function(inv)
  if inv.account_id == "]] .. STRANGER .. [[" then return "decline", "a stranger" end
  return "keep", "known"
end
]])

local env = "env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u LD_PRELOAD AWS_ACCESS_KEY_ID=" .. KEY.id
  .. " AWS_SECRET_ACCESS_KEY=" .. sim.shell_quote(KEY.secret) .. " AWS_CONFIG_FILE=/dev/null"
  .. " AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true "
local cmd = env .. interp.LUA .. " bin/invite plan " .. sim.shell_quote(policy)
  .. " --accounts org --role InviteManager --regions enabled --json --quiet --concurrency " .. CONC
  .. " --endpoint-url " .. s.endpoint .. " > " .. sim.shell_quote(dir .. "/out.json") .. " 2> "
  .. sim.shell_quote(dir .. "/err.txt")
local t0 = require("invite.native").monotime()
local code = interp.execute(cmd)
local wall = require("invite.native").monotime() - t0

local report = cjson.decode(sim.read_file(dir .. "/out.json") or "{}") or {}
local counts, swept = {}, {}
local swept_n, suspended_swept = 0, 0
local is_suspended = {}
for _, id in ipairs(suspended) do is_suspended[id] = true end
s:stop()
local requests = {}
for line in io.lines(log) do requests[#requests + 1] = cjson.decode(line) end
for _, e in ipairs(requests) do
  counts[e.operation or "?"] = (counts[e.operation or "?"] or 0) + 1
  if e.operation == "ListInvitations" and e.status == 200 then
    local key = e.account .. " " .. e.service .. " " .. e.region
    if not swept[key] then
      swept[key] = true
      swept_n = swept_n + 1
      if is_suspended[e.account] then suspended_swept = suspended_swept + 1 end
    end
  end
end

local active = { ADMIN }
for _, id in ipairs(members) do
  if not is_suspended[id] then active[#active + 1] = id end
end
local expected_n, missing = 0, 0
local expected = {}
for _, id in ipairs(active) do
  local on = {}
  for _, r in ipairs(enabled[id] or {}) do on[r] = true end
  for _, svc in ipairs(SERVICES) do
    for _, r in ipairs(regions.of(svc, "aws")) do
      if not sim_regions.OPT_IN[r] or on[r] then
        local key = id .. " " .. svc .. " " .. r
        expected[key] = true
        expected_n = expected_n + 1
        if not swept[key] then missing = missing + 1 end
      end
    end
  end
end
local extra = 0
for key in pairs(swept) do
  if not expected[key] then extra = extra + 1 end
end

print(("result org-scope-%s-a%d wall=%.2f exit=%d accounts_active=%d assume_role=%d get_caller_identity=%d "
  .. "list_accounts=%d list_regions=%d describe_regions=%d swept=%d expected=%d missing=%d extra=%d "
  .. "suspended_swept=%d skipped=%d"):format(vm, N, wall, code, #active, counts.AssumeRole or 0,
  counts.GetCallerIdentity or 0, counts.ListAccounts or 0, counts.ListRegions or 0, counts.DescribeRegions or 0,
  swept_n, expected_n, missing, extra, suspended_swept, report.skipped and #report.skipped or -1))
if code ~= 0 then io.stderr:write(sim.read_file(dir .. "/err.txt") or "", "\n") end
os.execute("rm -rf " .. sim.shell_quote(dir))
