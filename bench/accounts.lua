-- bench/accounts.lua - a multi-account invite.run sweep against the simulator: N accounts (a role
-- InviteManager in each, assumed through STS by the runner) x 3 services x 17 regions, every
-- response held 30 ms (fault "latency=30"), apply = true with a policy that declines everything.
--
--   lua5.4 bench/accounts.lua [accounts] [concurrency,...] [mode]      (or: luajit ...)
--
-- accounts defaults to 100, concurrency to 32, mode to "run": the runner's scope plan assumes
-- every account's role once, concurrently, before the sweep (invite.scope), and each account's
-- scopes share that session. ("upfront", the bench assuming the roles itself and handing the
-- clients those credentials, was the floor for the runner's former assume-on-first-use; the
-- runner now works that way itself, so the mode is gone.) Starts `invite sim`
-- (spec/support/sim.lua: free port, stopped by its pid) on a generated fixture, resets it before
-- each sweep, and prints per sweep
--   result accounts-<vm>-<mode>-a<N>-c<C> wall=<s> scopes=<n> scope_errors=<n> retries=<n>
--     backoff=<s> retry_codes=<code:n,...> assume_role=<n> unhandled=<n> still_invited=<n>
-- (retries and backoff: every client retry and the sum of the delays it slept, counted through
-- invite.retry's on_retry; unhandled: invitations whose outcome is not "declined"; still_invited:
-- invitations the simulator still has as Invited afterwards).
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
local vm = (rawget(_G, "jit") and "luajit") or _VERSION:match("%d+%.%d+")
package.cpath = "build/" .. vm .. "/?.so;" .. package.cpath

local sim = require "support.sim"
local invite = require "invite"
local retry = require "invite.retry"
local core = require "invite.core"

local N = tonumber(arg[1]) or 100
local CONCS = {}
for c in (arg[2] or "32"):gmatch("%d+") do CONCS[#CONCS + 1] = tonumber(c) end
local MODE = arg[3] or "run"
assert(MODE == "run", "mode must be run (the upfront mode is gone: the runner assumes every role up front)")

local SERVICES = { "macie2", "securityhub", "guardduty" }
local REGIONS = {
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
  "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1",
  "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
}
local ADMIN = "111111111111"
local KEY = { id = "AKIABENCHACCOUNTSADMIN", secret = "bench/accounts/admin/secret/0123456789" }
local INVITER = "999999999999"

local members = {}
for i = 1, N do members[i] = ("3%011d"):format(i) end
local fixture = sim.org_fixture{ admin = ADMIN, key = KEY, inviter = INVITER, members = members,
  services = SERVICES, regions = REGIONS }

-- the simulator keeps only its last 20000 requests in memory: count AssumeRole in its log file
local LOG = os.tmpname()
local s = sim.start{ fixtures = fixture, faults = "always * latency=30",
                     log = LOG }
local function log_size()
  local f = io.open(LOG, "rb")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end
local source = { access_key_id = KEY.id, secret_access_key = KEY.secret }

local retries, backoff, codes
local real_run = retry.run
retry.run = function(fn, opts, ...)
  if not opts._bench_counted then
    local prev = opts.on_retry
    opts.on_retry = function(err, attempt, delay)
      retries = retries + 1
      backoff = backoff + (delay or 0)
      local code = type(err) == "table" and tostring(err.code) or tostring(err)
      codes[code] = (codes[code] or 0) + 1
      if prev then return prev(err, attempt, delay) end
    end
    opts._bench_counted = true
  end
  return real_run(fn, opts, ...)
end

local function sweep(conc)
  s:reset()
  s:clear_requests()
  local log_from = log_size()
  retries, backoff, codes = 0, 0, {}
  local t0 = core.monotime()
  local report = invite.run{
    endpoint = s.endpoint, sts_endpoint = s.endpoint, credentials = source,
    accounts = members, role = "InviteManager", services = SERVICES, regions = REGIONS,
    concurrency = conc, apply = true, policy = function() return "decline", "benchmark" end,
  }
  local wall = core.monotime() - t0
  local scope_errors = 0
  for _, sc in ipairs(report.scopes) do if sc.error then scope_errors = scope_errors + 1 end end
  local unhandled, seen = 0, 0
  for _, r in ipairs(report.invitations) do
    seen = seen + 1
    if r.outcome ~= "declined" then unhandled = unhandled + 1 end
  end
  unhandled = unhandled + (#fixture.invitations - seen)
  local assume = 0
  local f = assert(io.open(LOG, "rb"))
  f:seek("set", log_from)
  for line in f:lines() do
    if line:find('"operation":"AssumeRole"', 1, true) then assume = assume + 1 end
  end
  f:close()
  local still = 0
  for _, inv in ipairs(s:state().invitations) do if inv.status == "Invited" then still = still + 1 end end
  local cl = {}
  for k, v in pairs(codes) do cl[#cl + 1] = k .. ":" .. v end
  table.sort(cl)
  print(("result accounts-%s-%s-a%d-c%d wall=%.2f scopes=%d scope_errors=%d retries=%d backoff=%.1f"
    .. " retry_codes=%s assume_role=%d unhandled=%d still_invited=%d"):format(vm, MODE, N, conc, wall,
    #report.scopes, scope_errors, retries, backoff, #cl > 0 and table.concat(cl, ",") or "-", assume,
    unhandled, still))
  io.stdout:flush()
end

local ok, err = pcall(function()
  for _, conc in ipairs(CONCS) do sweep(conc) end
end)
retry.run = real_run
s:stop()
os.remove(LOG)
if not ok then
  io.stderr:write("bench/accounts.lua: ", tostring(err), "\n")
  os.exit(1)
end
