-- invite.run with injected clients: decisions, plan vs apply, batching, outcomes, audit log.
local runner = require "invite.runner"
local cjson = require "cjson"

local NOW = runner.parse_iso("2026-11-22T00:00:00Z")

-- A fake guardduty-shaped client recording every call.
local function fake_client(invs, behaviour)
  behaviour = behaviour or {}
  local c = { calls = {} }
  function c.list_all_invitations(self)
    self.calls[#self.calls + 1] = { op = "list" }
    if behaviour.list_error then return nil, behaviour.list_error end
    return invs
  end
  local function batch(op)
    return function(self, params)
      self.calls[#self.calls + 1] = { op = op, ids = params.AccountIds }
      if behaviour[op .. "_error"] then return nil, behaviour[op .. "_error"] end
      local un = {}
      for _, id in ipairs(params.AccountIds) do
        if behaviour.unprocessed and behaviour.unprocessed[id] then
          un[#un + 1] = { AccountId = id, Result = behaviour.unprocessed[id] }
        end
      end
      return { UnprocessedAccounts = un }
    end
  end
  c.decline_invitations = batch("decline_invitations")
  c.delete_invitations = batch("delete_invitations")
  function c.list_detectors(self)
    self.calls[#self.calls + 1] = { op = "list_detectors" }
    return { DetectorIds = { "d1" } }
  end
  function c.accept_administrator_invitation(self, p)
    self.calls[#self.calls + 1] = { op = "accept", admin = p.AdministratorId, detector = p.DetectorId }
    return {}
  end
  return c
end

local function inv(account, days_old)
  return { AccountId = account, InvitationId = "inv-" .. account,
           InvitedAt = os.date("!%Y-%m-%dT%H:%M:%SZ", NOW - (days_old or 1) * 86400), RelationshipStatus = "Invited" }
end

local function run(opts, clients)
  opts.services = opts.services or { "guardduty" }
  opts.regions = opts.regions or { "us-east-1" }
  opts.now = function() return NOW end
  opts.client = function(scope) return clients[scope.region] end
  opts.identity = function() return "111111111111" end
  return runner.run(opts)
end

local function by_account(report)
  local t = {}
  for _, r in ipairs(report.invitations) do t[r.account_id] = r end
  return t
end

describe("invite.run", function()
  it("plans by default and sends no mutating call", function()
    local c = fake_client({ inv("222222222222"), inv("333333333333") })
    local report = run({ policy = function() return "decline", "stranger" end }, { ["us-east-1"] = c })
    assert.is_false(report.apply)
    assert.are.equal(1, #c.calls)
    assert.are.equal("list", c.calls[1].op)
    assert.are.equal(2, report.totals.outcomes.planned)
    assert.are.equal(2, report.totals.actions.decline)
    assert.are.equal(0, runner.exit_code(report))
  end)

  it("gives the policy a normalized record", function()
    local seen
    local c = fake_client({ inv("222222222222", 40) })
    run({ policy = function(i) seen = i; return "keep" end }, { ["us-east-1"] = c })
    assert.are.equal("guardduty", seen.service)
    assert.are.equal("us-east-1", seen.region)
    assert.are.equal("111111111111", seen.account)
    assert.are.equal("222222222222", seen.account_id)
    assert.are.equal("inv-222222222222", seen.invitation_id)
    assert.are.equal("pending", seen.status)
    assert.are.equal("Invited", seen.raw_status)
    assert.are.equal("222222222222", seen.inviter)
    assert.are.equal("111111111111", seen.invitee)
    assert.are.equal(40, math.floor(seen.age_days + 0.5))
    assert.matches("^2026%-10%-13T", seen.invited_at)
  end)

  it("applies in batches: accept, then decline, then delete", function()
    local c = fake_client({ inv("999999999999"), inv("222222222222"), inv("333333333333"), inv("444444444444"),
                             inv("555555555555") })
    local actions = { ["999999999999"] = "accept", ["222222222222"] = "decline",
                      ["333333333333"] = "decline_and_delete", ["444444444444"] = "delete",
                      ["555555555555"] = "keep" }
    local report = run({ apply = true, policy = function(i) return actions[i.account_id] end }, { ["us-east-1"] = c })
    local ops = {}
    for _, call in ipairs(c.calls) do ops[#ops + 1] = call.op end
    assert.same({ "list", "list_detectors", "accept", "decline_invitations", "delete_invitations" }, ops)
    assert.same({ "222222222222", "333333333333" }, c.calls[4].ids)
    assert.same({ "444444444444", "333333333333" }, c.calls[5].ids)
    local r = by_account(report)
    assert.are.equal("accepted", r["999999999999"].outcome)
    assert.are.equal("declined", r["222222222222"].outcome)
    assert.are.equal("declined_and_deleted", r["333333333333"].outcome)
    assert.are.equal("deleted", r["444444444444"].outcome)
    assert.are.equal("kept", r["555555555555"].outcome)
    assert.are.equal(0, runner.exit_code(report))
  end)

  it("reports unprocessed accounts per invitation and does not delete what was not declined", function()
    local c = fake_client({ inv("222222222222"), inv("333333333333") },
                          { unprocessed = { ["333333333333"] = "Invitation not found" } })
    local report = run({ apply = true, policy = function() return "decline_and_delete" end }, { ["us-east-1"] = c })
    local r = by_account(report)
    assert.are.equal("declined_and_deleted", r["222222222222"].outcome)
    assert.are.equal("unprocessed", r["333333333333"].outcome)
    assert.are.equal("Invitation not found", r["333333333333"].detail)
    assert.same({ "222222222222" }, c.calls[3].ids)
    assert.are.equal(3, runner.exit_code(report))
  end)

  it("marks every invitation of a failed call as an error", function()
    local err = setmetatable({ code = "ThrottlingException", message = "slow down" },
                             { __tostring = function(e) return e.code .. ": " .. e.message end })
    local c = fake_client({ inv("222222222222"), inv("333333333333") }, { decline_invitations_error = err })
    local report = run({ apply = true, policy = function() return "decline" end }, { ["us-east-1"] = c })
    for _, r in ipairs(report.invitations) do
      assert.are.equal("error", r.outcome)
      assert.matches("ThrottlingException: slow down", r.detail)
    end
    assert.are.equal(1, runner.exit_code(report))
  end)

  for name, case in pairs({
    ["an invalid action"] = { fn = function() return "nuke" end, msg = "invalid action 'nuke'" },
    ["a policy error"] = { fn = function() error("oops") end, msg = "policy error: .*oops" },
    ["a non-string reason"] = { fn = function() return "decline", 42 end, msg = "reason must be a string" },
    ["two accepts"] = { fn = function() return "accept" end, msg = "accepted 2 invitations in one scope" },
  }) do
    it("stops the scope with no action applied on " .. name, function()
      local bad = fake_client({ inv("222222222222"), inv("333333333333") })
      local good = fake_client({ inv("444444444444") })
      local policy = function(i)
        if i.region == "eu-west-1" then return "decline" end
        return case.fn(i)
      end
      local report = run({ apply = true, regions = { "us-east-1", "eu-west-1" }, policy = policy },
                         { ["us-east-1"] = bad, ["eu-west-1"] = good })
      assert.are.equal(1, #bad.calls, "only the list call in the failed scope")
      assert.are.equal("decline_invitations", good.calls[2].op, "the other scope still applied")
      assert.are.equal(1, #report.errors)
      assert.matches(case.msg, report.errors[1])
      local r = by_account(report)
      if name == "two accepts" then
        -- no row is wrong on its own: both are skipped, and say why
        for _, id in ipairs{ "222222222222", "333333333333" } do
          assert.are.equal("skipped", r[id].outcome)
          assert.matches("^not acted on: policy accepted 2 invitations in one scope", r[id].detail)
        end
      else
        -- each row whose decision failed says its own cause (not its sibling's account ID)
        for _, id in ipairs{ "222222222222", "333333333333" } do
          assert.are.equal("error", r[id].outcome)
          assert.matches(case.msg, r[id].detail)
          assert.is_nil(r[id].detail:find(id == "222222222222" and "333333333333" or "222222222222", 1, true))
        end
      end
      assert.are.equal(1, runner.exit_code(report))
    end)
  end

  it("reports a scope whose listing fails", function()
    local c = fake_client({}, { list_error = "AccessDeniedException: no" })
    local report = run({ policy = function() return "keep" end }, { ["us-east-1"] = c })
    assert.are.equal(1, #report.errors)
    assert.matches("list_invitations failed: AccessDeniedException", report.errors[1])
    assert.are.equal(1, runner.exit_code(report))
  end)

  it("writes an audit log line per decision and per outcome, with no secret", function()
    local path = os.tmpname()
    local c = fake_client({ inv("222222222222"), inv("333333333333") })
    run({ apply = true, audit_log = path, credentials = { secret_access_key = "SECRET-DO-NOT-LOG" },
          policy = function() return "decline", "stranger" end }, { ["us-east-1"] = c })
    local events = {}
    local text = assert(io.open(path)):read("*a")
    os.remove(path)
    assert.is_nil(text:find("SECRET-DO-NOT-LOG", 1, true))
    for line in text:gmatch("[^\n]+") do events[#events + 1] = cjson.decode(line) end
    local kinds = {}
    for _, e in ipairs(events) do kinds[e.event] = (kinds[e.event] or 0) + 1 end
    assert.are.equal(2, kinds.decision)
    assert.are.equal(2, kinds.outcome)
    assert.are.equal(1, kinds.call)
    assert.are.equal("start", events[1].event)
    assert.are.equal("end", events[#events].event)
  end)

  it("rejects bad options with the field named", function()
    local p = function() return "keep" end
    assert.has_error(function() runner.run{ policy = p, regions = { "us-east-1" }, services = { "s3" } } end,
                     "invite.run: services[1] = 's3': unknown service (macie2, securityhub, guardduty, detective, "
                       .. "organizations, ram)")
    assert.has_error(function() runner.run{ policy = p } end,
                     "invite.run: regions is required (a list, \"all\" or \"enabled\")")
    assert.has_error(function() runner.run{ policy = p, regions = { "nowhere" } } end,
                     "invite.run: regions[1] = 'nowhere': not a region name like us-east-1")
    -- a region-shaped name the region table does not know: the closest known one, and the way past
    local ok, err = pcall(runner.run, { policy = p, regions = { "us-east-1", "us-east-7" } })
    assert.is_false(ok)
    assert.matches("regions[2] = 'us-east-7': not an AWS region invite knows", err, 1, true)
    assert.matches("did you mean 'us-east-1'?", err, 1, true)
    assert.matches("unlisted_regions", err, 1, true)
    assert.has_error(function()
      runner.run{ policy = p, regions = { "us-east-1" }, ous = { "ou-ab12-cd34ef56" } }
    end, 'invite.run: ous needs accounts = "organization"')
    assert.has_error(function()
      runner.run{ policy = p, regions = { "us-east-1" }, accounts = "organization", role = "R",
                  exclude_accounts = { "12" } }
    end, "invite.run: exclude_accounts[1] = 12: account IDs are 12-digit strings")
    assert.has_error(function()
      runner.run{ policy = p, regions = { "us-east-1" }, accounts = { "222222222222" }, role = "R", external_id = "x" }
    end, "invite.run: external_id must be 2-1224 characters of letters, digits and +=,.@:/-")
    assert.has_error(function()
      runner.run{ policy = p, regions = { "us-east-1" }, accounts = "organization" }
    end, "invite.run: accounts needs role (a role name, or an ARN template with {account})")
    assert.has_error(function()
                       runner.run{ policy = p, regions = { "us-east-1" }, accounts = { "1234" }, role = "R" }
                     end,
                     "invite.run: accounts[1] = 1234: account IDs are 12-digit strings")
    assert.has_error(function() runner.run{ policy = 42, regions = { "us-east-1" } } end)
  end)

  it("builds role ARNs from names and templates", function()
    assert.are.equal("arn:aws:iam::123456789012:role/Audit", runner.role_arn("Audit", "123456789012"))
    assert.are.equal("arn:aws:iam::123456789012:role/x/Audit",
                     runner.role_arn("arn:aws:iam::{account}:role/x/Audit", "123456789012"))
  end)
end)

describe("require 'invite'", function()
  it("exposes the runner as invite.run", function()
    local invite = require "invite"
    assert.are.equal(runner.run, invite.run)
  end)
end)
