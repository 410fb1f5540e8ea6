-- `invite plan --accounts org --regions enabled` against a simulated organisation, end to end
-- through the CLI: the simulator's request log shows that exactly the enabled regions of every
-- ACTIVE account were swept (suspended accounts not at all), that AssumeRole was called once per
-- member (none for the caller's own account), that an account denied ListRegions was asked through
-- EC2 DescribeRegions, and that --ou (recursive) and --exclude-accounts narrow the accounts. A bad
-- --ou sends nothing; a caller outside the management account gets one clear error.
local cjson = require "cjson"
local sim = require "support.sim"
local interp = require "support.interp"
local regions = require "invite.regions"
local sim_regions = require "invite.sim.regions"

local ADMIN, STRANGER = "111111111111", "999999999999"
local KEY = { id = "AKIAORGSCOPESPECADMIN", secret = "org/scope/spec/secret/0123456789abcdef" }
local SERVICES = { "macie2", "securityhub", "guardduty" }
local OU_SEC, OU_WORK, OU_SAND = "ou-root-security1", "ou-root-workload1", "ou-root-sandboxe1"

local M = {}
for i = 1, 12 do M[i] = ("4000000000%02d"):format(i) end
local SUSPENDED = { [M[4]] = true, [M[9]] = true }
local ENABLED = { [M[1]] = { "af-south-1", "eu-central-2" }, [M[6]] = { "ap-east-1" }, [ADMIN] = { "me-south-1" } }
local DENIED = M[2] -- its regions come from EC2 DescribeRegions

local function fixture()
  local parents = {}
  for i = 1, 4 do parents[M[i]] = OU_SEC end
  for i = 5, 8 do parents[M[i]] = OU_WORK end
  for i = 9, 10 do parents[M[i]] = OU_SAND end -- 11, 12 stay under the root
  local fx = sim.org_fixture{ admin = ADMIN, key = KEY, inviter = STRANGER, members = M, services = SERVICES,
    regions = { "us-east-1" }, organization = true, parents = parents, suspended = { M[4], M[9] },
    enabled_regions = ENABLED,
    units = { { id = OU_SEC, name = "Security" }, { id = OU_WORK, name = "Workloads" },
              { id = OU_SAND, name = "Sandboxes", parent = OU_WORK } } }
  for _, a in ipairs(fx.accounts) do
    if a.id == DENIED then a.denied = { "account:ListRegions" } end
  end
  return fx
end

local function env(key)
  return "env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u LD_PRELOAD AWS_ACCESS_KEY_ID=" .. key.id
    .. " AWS_SECRET_ACCESS_KEY=" .. sim.shell_quote(key.secret) .. " AWS_CONFIG_FILE=/dev/null"
    .. " AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true "
end

local POLICY = os.tmpname()

local function invite(s, args, key)
  local errf = os.tmpname()
  local p = io.popen(env(key or KEY) .. interp.LUA .. " " .. sim.ROOT .. "/bin/invite " .. args
    .. " --endpoint-url " .. s.endpoint .. " 2>" .. sim.shell_quote(errf) .. "; echo \"rc=$?\"")
  local out = p:read("*a")
  p:close()
  local err = sim.read_file(errf) or ""
  os.remove(errf)
  local body, rc = out:match("^(.-)rc=(%d+)%s*$")
  return tonumber(rc), body, err
end

-- (account service region) keys the simulator listed invitations for, and the operation counts
local function swept(s)
  local keys, n, ops = {}, 0, {}
  for _, e in ipairs(s:requests()) do
    ops[e.operation or "?"] = (ops[e.operation or "?"] or 0) + 1
    if e.operation == "ListInvitations" and e.status == 200 then
      local k = e.account .. " " .. e.service .. " " .. e.region
      if not keys[k] then keys[k], n = true, n + 1 end
    end
  end
  return keys, n, ops
end

-- what --regions enabled must sweep for `accounts`
local function expected(accounts)
  local keys, n = {}, 0
  for _, id in ipairs(accounts) do
    local on = {}
    for _, r in ipairs(ENABLED[id] or {}) do on[r] = true end
    for _, svc in ipairs(SERVICES) do
      for _, r in ipairs(regions.of(svc, "aws")) do
        if not sim_regions.OPT_IN[r] or on[r] then keys[id .. " " .. svc .. " " .. r], n = true, n + 1 end
      end
    end
  end
  return keys, n
end

local function same_keys(got, want)
  local missing, extra = {}, {}
  for k in pairs(want) do if not got[k] then missing[#missing + 1] = k end end
  for k in pairs(got) do if not want[k] then extra[#extra + 1] = k end end
  table.sort(missing)
  table.sort(extra)
  return missing, extra
end

describe("invite plan --accounts org --regions enabled", function()
  local s
  setup(function()
    -- the three regional services this organisation's fixture holds invitations in
    sim.write_file(POLICY, 'return { services = { "macie2", "securityhub", "guardduty" }, '
      .. 'decide = function(inv) return "decline", "stranger" end }\n')
    s = sim.start{ fixtures = fixture() }
  end)
  teardown(function()
    s:stop()
    os.remove(POLICY)
  end)
  before_each(function() s:clear_requests() end)

  it("sweeps exactly the enabled regions of every ACTIVE account, assuming each member's role once", function()
    local code, out, err = invite(s, "plan " .. POLICY
      .. " --accounts org --role InviteManager --regions enabled --json")
    assert.are.equal(0, code, err)
    local report = cjson.decode(out)
    local active = { ADMIN }
    for _, id in ipairs(M) do if not SUSPENDED[id] then active[#active + 1] = id end end
    local got, n, ops = swept(s)
    local want, wn = expected(active)
    local missing, extra = same_keys(got, want)
    assert.are.same({}, missing)
    assert.are.same({}, extra)
    assert.are.equal(wn, n)
    assert.are.equal(#active - 1, ops.AssumeRole) -- 9 members; the caller's own account uses its keys
    assert.are.equal(1, ops.GetCallerIdentity)
    assert.are.equal(#active, ops.ListRegions)
    assert.are.equal(1, ops.DescribeRegions) -- the member denied ListRegions
    -- the regions not enabled are skipped scopes, not errors; every stranger invitation planned
    assert.are.same({}, report.errors)
    assert.is_true(#report.skipped > 0)
    for _, sk in ipairs(report.skipped) do
      assert.matches("^region not enabled in account %d+", sk.reason)
      assert.is_true(sim_regions.OPT_IN[sk.region] == true, sk.region)
    end
    assert.are.equal((#active - 1) * #SERVICES, report.totals.invitations) -- one per member and service
    assert.matches("scopes skipped: region not enabled", err)
  end)

  it("--ou takes the accounts under an OU, recursively, and --exclude-accounts leaves some out", function()
    local code, out, err = invite(s, "list --accounts org --ou " .. OU_WORK .. " --exclude-accounts " .. M[7]
      .. " --role InviteManager --regions us-east-1 --services guardduty --json")
    assert.are.equal(0, code, err)
    local report = cjson.decode(out)
    local accounts = {}
    for _, sc in ipairs(report.scopes) do accounts[#accounts + 1] = sc.account end
    table.sort(accounts)
    -- Workloads: 5..8 (7 excluded), Sandboxes inside it: 9 (suspended), 10
    assert.are.same({ M[5], M[6], M[8], M[10] }, accounts)
    local _, _, ops = swept(s)
    assert.are.equal(4, ops.AssumeRole)
  end)

  it("refuses a bad --ou before sending anything, and --ou without --accounts org", function()
    local code, _, err = invite(s, "plan " .. POLICY .. " --accounts org --ou ou-BAD --role R --regions us-east-1")
    assert.are.equal(2, code)
    assert.matches("ous[1] = 'ou-BAD': a parent is a root ID", err, 1, true)
    code, _, err = invite(s, "plan " .. POLICY .. " --ou " .. OU_SEC .. " --regions us-east-1")
    assert.are.equal(2, code)
    assert.matches("--ou needs --accounts org", err, 1, true)
    assert.are.same({}, s:requests())
  end)

  it("gives a caller outside the management account one clear error", function()
    -- a member's own keys: the fixture's members have none, so use an assumed session's keys
    local r = assert(s:call{ service = "sts", method = "POST", path = "/",
      creds = { access_key_id = KEY.id, secret_access_key = KEY.secret },
      content_type = "application/x-www-form-urlencoded",
      body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A" .. M[1]
        .. "%3Arole%2FInviteManager&RoleSessionName=spec" })
    assert.are.equal(200, r.status, r.body)
    local member = { id = r.body:match("<AccessKeyId>(.-)</AccessKeyId>"),
                     secret = r.body:match("<SecretAccessKey>(.-)</SecretAccessKey>"),
                     token = r.body:match("<SessionToken>(.-)</SessionToken>") }
    local errf = os.tmpname()
    local p = io.popen(env(member) .. "AWS_SESSION_TOKEN=" .. sim.shell_quote(member.token) .. " " .. interp.LUA
      .. " " .. sim.ROOT .. "/bin/invite plan " .. POLICY .. " --accounts org --role InviteManager"
      .. " --regions us-east-1 --endpoint-url " .. s.endpoint .. " 2>" .. sim.shell_quote(errf) .. "; echo \"rc=$?\"")
    local out = p:read("*a")
    p:close()
    local err = sim.read_file(errf) or ""
    os.remove(errf)
    assert.matches("rc=1", out)
    assert.matches("error: accounts of the organisation %(Organizations%): .*AccessDeniedException", err)
    local _, _, ops = swept(s)
    assert.is_nil(ops.ListInvitations)
    assert.are.equal(1, ops.ListAccounts) -- not retried
  end)
end)
