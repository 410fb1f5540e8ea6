-- Scope discovery against the simulator: who am I (STS GetCallerIdentity in the report, the
-- records, the audit log, `invite whoami`), one role session per account (AssumeRole once per
-- account whatever the services and regions, with the ExternalId and a session name carrying the
-- run ID; an account whose role cannot be assumed is one error and its scopes are skipped, and
-- the refusal is not retried), the caller's own account swept with its own credentials, and
-- regions from the region table ("all" per service, a listed region where a service does not
-- exist skipped, unlisted regions passed through).
local cjson = require "cjson"
local sim = require "support.sim"
local interp = require "support.interp"
local runner = require "invite.runner"
local regions = require "invite.regions"

local ADMIN, STRANGER = "100000000001", "999999999999"
local KEY = { id = "AKIASCOPESPECADMIN01", secret = "scope/spec/secret/0123456789abcdefABCDEF" }
local CREDS = { access_key_id = KEY.id, secret_access_key = KEY.secret }

local function members(n)
  local out = {}
  for i = 1, n do out[i] = ("2000000000%02d"):format(i) end
  return out
end

local function keep() return "keep", "look only" end

local function count(s, op, pred)
  local n = 0
  for _, e in ipairs(s:requests()) do
    if e.operation == op and (not pred or pred(e)) then n = n + 1 end
  end
  return n
end

describe("scope discovery", function()
  local s, ids
  setup(function()
    local fx
    fx, ids = sim.org_fixture{ admin = ADMIN, key = KEY, inviter = STRANGER, members = members(6),
                               services = { "macie2", "securityhub", "guardduty" },
                               regions = { "us-east-1", "eu-west-1" } }
    -- member 5's role trusts nobody; member 6's asks for an ExternalId
    fx.accounts[6].roles[1].trusted_accounts = { STRANGER }
    fx.accounts[7].roles[1].external_id = "scope-spec-external-id"
    fx.accounts[1].enabled_regions = { "eu-central-2" } -- an opt-in region the admin account enabled
    s = sim.start{ fixtures = fx }
  end)
  teardown(function() s:stop() end)
  before_each(function() s:clear_requests() end)

  it("who am I: the report, every record and the audit log's start line carry the caller", function()
    local log = os.tmpname()
    local report = runner.run{ policy = keep, services = { "guardduty" }, regions = { "us-east-1" },
                               endpoint = s.endpoint, credentials = CREDS, audit_log = log, run_id = "spec-run-1" }
    assert.are.same({}, report.errors)
    assert.are.equal(ADMIN, report.identity.account)
    assert.are.equal("arn:aws:iam::" .. ADMIN .. ":user/sim-user", report.identity.arn)
    assert.are.equal("aws", report.identity.partition)
    assert.are.equal(1, count(s, "GetCallerIdentity"))
    for _, rec in ipairs(report.invitations) do assert.are.equal(ADMIN, rec.account) end
    local f = assert(io.open(log))
    local start = cjson.decode(f:read("*l"))
    f:close()
    os.remove(log)
    assert.are.equal("start", start.event)
    assert.are.equal(ADMIN, start.caller_account)
    assert.are.equal(report.identity.arn, start.caller_arn)
    assert.are.equal("spec-run-1", start.run_id)
  end)

  it("assumes each account's role once for every service and region; the caller's own account uses its keys",
     function()
    local list = { ids[1], ids[2], ids[3], ids[4], ADMIN }
    local report = runner.run{ policy = keep, regions = { "us-east-1", "eu-west-1" }, accounts = list,
                               role = "InviteManager", endpoint = s.endpoint, credentials = CREDS,
                               run_id = "20261203T000000Z-abcdef12", concurrency = 16 }
    assert.are.same({}, report.errors)
    -- the five regional services in 2 regions, Organizations (global) once: 11 per account
    assert.are.equal(5 * (5 * 2 + 1), #report.scopes)
    assert.are.equal(4, count(s, "AssumeRole"))
    assert.are.equal(0, count(s, "AssumeRole", function(e) return e.account_ids and e.account_ids[1] == ADMIN end))
    -- the role sessions are named for the run
    local names = {}
    for _, sess in ipairs(s:state().sessions or {}) do names[sess.session_name or "?"] = true end
    assert.is_true(names["invite-20261203T000000Z-abcdef12"], cjson.encode(s:state().sessions or {}))
    -- every member's invitations were listed with that member's session
    local seen = {}
    for _, rec in ipairs(report.invitations) do seen[rec.account] = (seen[rec.account] or 0) + 1 end
    for i = 1, 4 do assert.are.equal(6, seen[ids[i]]) end
  end)

  it("makes an account whose role cannot be assumed one error line, skips its scopes and does not retry", function()
    local report = runner.run{ policy = keep, regions = { "us-east-1", "eu-west-1" }, accounts = { ids[1], ids[5] },
                               role = "InviteManager", endpoint = s.endpoint, credentials = CREDS }
    assert.are.equal(1, #report.errors, table.concat(report.errors, "\n"))
    assert.matches("^account " .. ids[5] .. ": cannot assume role arn:aws:iam::" .. ids[5]
      .. ":role/InviteManager: .*AccessDenied", report.errors[1])
    assert.are.equal(11, #report.skipped)
    for _, sk in ipairs(report.skipped) do assert.are.equal(ids[5], sk.account) end
    assert.are.equal(11, #report.scopes) -- member 1's
    -- AccessDenied is not retried: one call for the refused account, one for the other
    assert.are.equal(2, count(s, "AssumeRole"))
    assert.are.equal(1, runner.exit_code(report))
  end)

  it("sends the ExternalId a role asks for, and names the option when it is wrong", function()
    local report = runner.run{ policy = keep, services = { "guardduty" }, regions = { "us-east-1" },
                               accounts = { ids[6] }, role = "InviteManager", endpoint = s.endpoint,
                               credentials = CREDS, external_id = "scope-spec-external-id" }
    assert.are.same({}, report.errors)
    assert.are.equal(1, #report.scopes)
    report = runner.run{ policy = keep, services = { "guardduty" }, regions = { "us-east-1" },
                         accounts = { ids[6] }, role = "InviteManager", endpoint = s.endpoint,
                         credentials = CREDS, external_id = "not-the-one" }
    assert.are.equal(1, #report.errors)
    assert.matches("AccessDenied", report.errors[1])
  end)

  it("sweeps regions = \"all\" as every region where each service exists", function()
    local report = runner.run{ policy = keep, regions = "all", endpoint = s.endpoint, credentials = CREDS,
                               concurrency = 64 }
    local per = {}
    for _, sc in ipairs(report.scopes) do per[sc.service] = (per[sc.service] or 0) + 1 end
    assert.are.equal(#regions.of("guardduty", "aws"), per.guardduty)
    assert.are.equal(#regions.of("macie2", "aws"), per.macie2)
    assert.are.equal(#regions.of("securityhub", "aws"), per.securityhub)
    assert.is_true(per.guardduty >= 34)
    assert.are.same({}, report.skipped)
  end)

  it("skips a listed region where a service does not exist, and passes an unlisted region through", function()
    -- Macie is not offered in eu-central-2 (botocore 1.43); GuardDuty is
    assert.is_false(regions.exists("macie2", "eu-central-2"))
    assert.is_true(regions.exists("guardduty", "eu-central-2"))
    local report = runner.run{ policy = keep, services = { "macie2", "guardduty" }, regions = { "eu-central-2" },
                               endpoint = s.endpoint, credentials = CREDS }
    assert.are.equal(1, #report.skipped)
    assert.are.same({ "macie2", "eu-central-2" }, { report.skipped[1].service, report.skipped[1].region })
    assert.matches("macie2 does not exist in eu%-central%-2", report.skipped[1].reason)
    assert.are.equal(0, runner.exit_code(report), table.concat(report.errors, "\n"))
    assert.has_error(function()
      runner.run{ policy = keep, services = { "guardduty" }, regions = { "xx-newreg-1" }, endpoint = s.endpoint,
                  credentials = CREDS }
    end)
    report = runner.run{ policy = keep, services = { "guardduty" }, regions = { "xx-newreg-1" },
                         unlisted_regions = { "xx-newreg-1" }, endpoint = s.endpoint, credentials = CREDS }
    assert.are.equal(1, #report.scopes)
    assert.are.equal("xx-newreg-1", report.scopes[1].region)
  end)

  it("says so when the caller's partition is not in the region table", function()
    local id = { account = ADMIN, arn = "arn:aws-future:iam::" .. ADMIN .. ":user/x", partition = "aws-future" }
    local report = runner.run{ policy = keep, services = { "guardduty" }, regions = "all", identity = id,
                               endpoint = s.endpoint, credentials = CREDS }
    assert.are.equal(1, #report.errors)
    assert.matches("partition 'aws%-future' is not in invite's region table .*pass the regions as a list",
      report.errors[1])
    assert.are.same({}, report.scopes)
    report = runner.run{ policy = keep, services = { "guardduty" }, regions = { "us-east-1" }, identity = id,
                         endpoint = s.endpoint, credentials = CREDS }
    assert.are.same({}, report.errors)
    assert.are.equal(1, #report.scopes)
    assert.matches("its listed regions are swept as given", report.warnings[1])
  end)

  it("invite whoami prints the account, ARN and user ID, and --json", function()
    local function whoami(args)
      local env = "env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u LD_PRELOAD AWS_ACCESS_KEY_ID=" .. KEY.id
        .. " AWS_SECRET_ACCESS_KEY=" .. sim.shell_quote(KEY.secret)
        .. " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "
      local p = io.popen(env .. interp.LUA .. " " .. sim.ROOT .. "/bin/invite whoami --endpoint-url " .. s.endpoint
        .. " " .. args .. " 2>&1; echo \"rc=$?\"")
      local out = p:read("*a")
      p:close()
      return out
    end
    local out = whoami("")
    assert.matches("Account%s+" .. ADMIN, out)
    assert.matches("Arn%s+arn:aws:iam::" .. ADMIN .. ":user/sim%-user", out)
    assert.matches("rc=0", out)
    local json = cjson.decode(whoami("--json"):match("^(.-)rc="))
    assert.are.same({ Account = ADMIN, Arn = "arn:aws:iam::" .. ADMIN .. ":user/sim-user", Partition = "aws" },
      { Account = json.Account, Arn = json.Arn, Partition = json.Partition })
    assert.truthy(json.UserId)
    out = whoami("--region us-east-7")
    assert.matches("did you mean 'us%-east%-1'", out)
    assert.matches("rc=2", out)
  end)
end)
