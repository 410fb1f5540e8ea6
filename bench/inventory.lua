-- bench/inventory.lua - the six-kind inventory (issue 18): invite.run over Macie, Security Hub,
-- GuardDuty, Detective, RAM (x 17 regions) and Organizations (once), beside the three old services
-- alone and beside what a boto3 user writes (bench/inventory_boto3.py), against one simulator whose
-- every answer is held 50 ms (fault "latency=50").
--
--   lua5.4 bench/inventory.lua [rounds] [sequential rounds] [parts]     (or: luajit bench/inventory.lua ...)
--
-- rounds             timed sweeps per concurrent case (default 5)
-- sequential rounds  timed sweeps per one-at-a-time case (default 2; 0: those cases are not run)
-- parts              comma list of what to run (default six,three,boto3): six, three (invite.run),
--                    boto3, sessions (boto3 with a Session per worker thread: slow, not by default)
--
-- Starts `invite sim` on examples/fixtures/org.json (spec/support/sim.lua: free port, stopped by its
-- pid) with the credentials of the fixture's prod account, then times:
--   inventory-<vm>-six-c<N>    invite.run{ apply = false }, a policy keeping everything, the six
--                              services x the 17 regions of bench/sweep.lua (5 x 17 + Organizations
--                              once = 86 scopes; one of them, Detective in ap-northeast-3, is skipped
--                              by the region table as there is no such endpoint), N = 86, 32, 1
--   inventory-<vm>-three-c<N>  the same over Macie, Security Hub and GuardDuty alone (51 scopes),
--                              N = 51, 32, 1
--   inventory-boto3-seq        bench/inventory_boto3.py: one loop, paginators (python3's boto3, else
--                              /usr/bin/python3's if it lacks an operation)
--   inventory-boto3-threads32  the same clients made first, then listed by a ThreadPoolExecutor of 32
--                              workers (boto3's guide: share clients across threads, not sessions)
--   inventory-boto3-sessions32 (part "sessions") each worker thread makes its own Session and clients
-- Each invite case runs once untimed first; every run must have no error and find the same
-- invitations as the first six-kind run (per kind), and boto3 must find the same six-kind numbers
-- (asserted). Prints
--   result <name> min=<ms> median=<ms> max=<ms> rounds=<n> iterations=1 requests=<n> invitations=<n>
--          scopes=<n> longest_scope=<n>      (boto3's lines also: boto3=<version> python=<interpreter>)
-- (requests: simulator requests per sweep, from its request log; longest_scope: the most requests
-- one service x region made, one after the other, so no sweep takes less than longest_scope x 50 ms
-- plus the run's who-am-I request).
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
local vm = (rawget(_G, "jit") and "luajit") or _VERSION:match("%d+%.%d+")
package.cpath = "build/" .. vm .. "/?.so;" .. package.cpath

local sim = require "support.sim"
local invite = require "invite"
local core = require "invite.core"
local clock = core.monotime

local SIX = { "macie2", "securityhub", "guardduty", "detective", "organizations", "ram" }
local THREE = { "macie2", "securityhub", "guardduty" }
local REGIONS = {
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
  "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1",
  "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
}
local FAULTS = "latency=50"
local ROUNDS = tonumber(arg[1]) or 5
local SEQ_ROUNDS = tonumber(arg[2]) or 2
local PARTS = {}
for p in (arg[3] or "six,three,boto3"):gmatch("[^,]+") do PARTS[p] = true end
for p in pairs(PARTS) do
  if p ~= "six" and p ~= "three" and p ~= "boto3" and p ~= "sessions" then
    io.stderr:write("bench/inventory.lua: unknown part '", p, "' (six, three, boto3, sessions)\n")
    os.exit(2)
  end
end

local s = sim.start{ faults = FAULTS }
local key = sim.credentials("prod")
local creds = { access_key_id = key.access_key_id, secret_access_key = key.secret_access_key }

local function kinds_text(t)
  local out = {}
  for _, svc in ipairs(SIX) do out[#out + 1] = svc .. "=" .. tostring(t[svc] or 0) end
  return table.concat(out, " ")
end

-- the invitations a report found, per service; the first six-kind run's are the reference
local reference
local function run(services, conc)
  local report = invite.run{
    services = services, regions = REGIONS, policy = function() return "keep", "benchmark" end,
    apply = false, endpoint = s.endpoint, credentials = creds, concurrency = conc,
  }
  local want = #services == 6 and 5 * #REGIONS + 1 or 3 * #REGIONS
  local planned = #report.scopes + #report.skipped
  if planned ~= want or #report.errors > 0 then
    error(("%d services at concurrency %d: %d scopes + %d skipped (want %d), errors: %s"):format(#services, conc,
      #report.scopes, #report.skipped, want, table.concat(report.errors, "; ")), 0)
  end
  local per = {}
  for _, inv in ipairs(report.invitations) do per[inv.service] = (per[inv.service] or 0) + 1 end
  if #services == 6 and not reference then reference = per end
  if reference then
    for _, svc in ipairs(services) do
      if (per[svc] or 0) ~= (reference[svc] or 0) then
        error(("%d services at concurrency %d found %s; the first six-kind run found %s"):format(#services, conc,
          kinds_text(per), kinds_text(reference)), 0)
      end
    end
  end
  return report.totals.invitations, #report.scopes
end

-- requests per sweep and the longest scope (requests of one service x region) in log[from..]
local function count(log, from, sweeps)
  local per_scope, longest = {}, 0
  for i = from, #log do
    local k = tostring(log[i].service) .. " " .. tostring(log[i].region)
    per_scope[k] = (per_scope[k] or 0) + 1
  end
  for _, n in pairs(per_scope) do longest = math.max(longest, n / sweeps) end
  return (#log - from + 1) / sweeps, longest
end

local function median(ms)
  table.sort(ms)
  return ms[1], ms[math.floor(#ms / 2) + 1], ms[#ms]
end

local function emit(name, ms, rounds, requests, invitations, scopes, longest)
  local lo, mid, hi = median(ms)
  print(("result %s min=%.1f median=%.1f max=%.1f rounds=%d iterations=1 requests=%d invitations=%d scopes=%d"
    .. " longest_scope=%d"):format(name, lo, mid, hi, rounds, requests, invitations, scopes, longest))
  io.stdout:flush()
end

local function bench(label, services, conc, rounds, warm)
  if rounds < 1 then return end
  if warm then run(services, conc) end -- connections, credentials, modules
  local before = #s:requests() + 1
  local ms, n, scopes = {}, nil, nil
  for r = 1, rounds do
    local t0 = clock()
    n, scopes = run(services, conc)
    ms[r] = (clock() - t0) * 1e3
  end
  local requests, longest = count(s:requests(), before, rounds)
  emit(("inventory-%s-%s-c%d"):format(vm, label, conc), ms, rounds, requests, n, scopes, longest)
end

-- bench/inventory_boto3.py under the first python with every operation; its result line gets the
-- simulator's request count (its warm-up sweep makes the same requests as a timed one)
local function boto3(mode, rounds)
  if rounds < 1 then return end
  local last
  for _, python in ipairs({ "python3", "/usr/bin/python3" }) do
    local before = #s:requests() + 1
    local p = assert(io.popen(table.concat({
      "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL",
      "-u AWS_REGION -u AWS_DEFAULT_REGION",
      "AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true",
      "AWS_ACCESS_KEY_ID=" .. sim.shell_quote(creds.access_key_id),
      "AWS_SECRET_ACCESS_KEY=" .. sim.shell_quote(creds.secret_access_key),
      python, "bench/inventory_boto3.py", s.endpoint, mode, tostring(rounds), table.concat(REGIONS, ","), "2>&1",
    }, " "), "r"))
    local out = p:read("*a")
    p:close()
    local line = out:match("(result inventory%-boto3%-%S+[^\n]*)")
    if line then
      local kinds = out:match("kinds inventory%-boto3%-%S+ ([^\n]*)") or ""
      local found = {}
      for svc, v in kinds:gmatch("(%w+)=(%d+)") do found[svc] = tonumber(v) end
      if reference and kinds_text(found) ~= kinds_text(reference) then
        error(("boto3 (%s, %s) found %s; invite.run found %s"):format(python, mode, kinds_text(found),
          kinds_text(reference)), 0)
      end
      local requests, longest = count(s:requests(), before, rounds + 1)
      local version = out:match("info boto3 boto3 (%S+)") or "?"
      local exe = out:match("info boto3 [^\n]*%((%S+)%)") or python
      print(("%s requests=%d longest_scope=%d boto3=%s python=%s"):format(line, requests, longest, version, exe))
      print("# " .. (out:match("info boto3 ([^\n]*)") or "boto3 version unknown"))
      io.stdout:flush()
      return
    end
    last = python .. ": " .. out:gsub("%s+$", "")
    if not out:find("has no ", 1, true) then break end -- a real failure, not a missing operation
  end
  error("bench/inventory_boto3.py " .. mode .. " failed: " .. tostring(last), 0)
end

local ok, err = pcall(function()
  if PARTS.six then
    bench("six", SIX, 86, ROUNDS, true)
    bench("six", SIX, 32, ROUNDS, true)
  end
  if PARTS.three then
    bench("three", THREE, 51, ROUNDS, true)
    bench("three", THREE, 32, ROUNDS, true)
  end
  if (PARTS.boto3 or PARTS.sessions) and not reference then run(SIX, 86) end -- the numbers boto3 must find
  if PARTS.boto3 then boto3("threads32", ROUNDS) end
  if PARTS.sessions then boto3("sessions32", ROUNDS) end
  -- the one-at-a-time cases last (the concurrent ones warmed connections and modules)
  if PARTS.six then bench("six", SIX, 1, SEQ_ROUNDS, false) end
  if PARTS.three then bench("three", THREE, 1, SEQ_ROUNDS, false) end
  if PARTS.boto3 then boto3("seq", SEQ_ROUNDS) end
end)
s:stop()
if not ok then
  io.stderr:write("bench/inventory.lua: ", tostring(err), "\n")
  os.exit(1)
end
