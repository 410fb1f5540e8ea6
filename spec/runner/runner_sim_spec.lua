-- invite.run against the simulator: real clients, real signing, concurrency across scopes,
-- plan vs apply in the request log, and per-account role assumption through STS.
local sim = require "support.sim"
local invite_runner = require "invite.runner"
local core = require "invite.core"

local MUTATING = { DeclineInvitations = true, DeleteInvitations = true, AcceptInvitation = true,
                   AcceptAdministratorInvitation = true }

describe("invite.run against the simulator", function()
  local s
  local prod = sim.keys.prod
  local creds = { access_key_id = prod.access_key_id, secret_access_key = prod.secret_access_key }

  after_each(function() if s then s:stop() end end)

  local function run(opts)
    opts.endpoint = s.endpoint
    opts.credentials = opts.credentials or creds
    opts.services = opts.services or { "macie2", "securityhub", "guardduty" }
    opts.regions = opts.regions or { "us-east-1", "eu-west-1" }
    opts.max_attempts = 1
    return invite_runner.run(opts)
  end

  it("sweeps scopes concurrently: six scopes with 300 ms latency take about one scope's time", function()
    s = sim.start{ fixtures = "examples/fixtures/org.json", faults = "always * latency=300" }
    local policy = function() return "keep" end
    local t0 = core.monotime()
    local seq = run{ policy = policy, concurrency = 1 }
    local sequential = core.monotime() - t0
    t0 = core.monotime()
    local conc = run{ policy = policy, concurrency = 8 }
    local concurrent = core.monotime() - t0
    assert.are.equal(0, #conc.errors, table.concat(conc.errors, "\n"))
    assert.are.equal(seq.totals.invitations, conc.totals.invitations)
    -- six scopes, each at least one 300 ms list call (more with pagination)
    assert.is_true(sequential >= 6 * 0.3, "sequential took " .. sequential)
    assert.is_true(concurrent < sequential / 2.5,
      ("concurrent %.2f s vs sequential %.2f s"):format(concurrent, sequential))
  end)

  it("plans without a mutating call and applies with them", function()
    s = sim.start{ fixtures = "examples/fixtures/org.json" }
    local policy = function(inv)
      if inv.account_id == "111111111111" then return "accept" end
      return "decline_and_delete", "stranger"
    end
    local plan = run{ policy = policy }
    for _, r in ipairs(s:requests()) do assert.is_nil(MUTATING[r.operation], r.operation) end
    assert.is_true(plan.totals.outcomes.planned > 0)
    local report = run{ policy = policy, apply = true }
    local mutating = 0
    for _, r in ipairs(s:requests()) do if MUTATING[r.operation] then mutating = mutating + 1 end end
    assert.is_true(mutating > 0)
    for _, r in ipairs(report.invitations) do
      assert.is_truthy(({ accepted = true, declined_and_deleted = true, unprocessed = true })[r.outcome],
        r.service .. " " .. r.account_id .. ": " .. tostring(r.outcome) .. " " .. tostring(r.detail))
    end
    local after = run{ policy = function() return "keep" end }
    for _, r in ipairs(after.invitations) do
      assert.are.equal("111111111111", r.account_id, "left after apply: " .. r.service .. " " .. r.account_id)
    end
  end)

  it("reports every invitation with an outcome when a batch call keeps failing", function()
    s = sim.start{ fixtures = "examples/fixtures/org.json", faults = "always guardduty:DeclineInvitations 503" }
    local report = run{ policy = function() return "decline" end, apply = true, services = { "guardduty" } }
    local errors = 0
    for _, r in ipairs(report.invitations) do
      assert.is_not_nil(r.outcome)
      if r.outcome == "error" then errors = errors + 1; assert.matches("503", r.detail .. tostring(r.detail)) end
    end
    assert.is_true(errors > 0)
    assert.are.equal(1, invite_runner.exit_code(report))
  end)
end)

describe("invite.run across accounts", function()
  it("assumes the role in each account through STS and sweeps it as that account", function()
    local s = sim.start{ fixtures = "examples/fixtures/org.json" }
    local admin = sim.keys["111111111111"]
    local ok, err = pcall(function()
      local report = invite_runner.run{
        endpoint = s.endpoint, sts_endpoint = s.endpoint, max_attempts = 1,
        credentials = { access_key_id = admin.access_key_id, secret_access_key = admin.secret_access_key },
        accounts = { "222222222222", "333333333333" }, role = "InviteManager",
        services = { "guardduty" }, regions = { "us-east-1" },
        policy = function() return "keep" end,
      }
      assert.are.equal(0, #report.errors, table.concat(report.errors, "\n"))
      local seen = {}
      for _, sc in ipairs(report.scopes) do seen[sc.account] = true end
      assert.is_true(seen["222222222222"] and seen["333333333333"])
      local assumed, accounts = 0, {}
      for _, r in ipairs(s:requests()) do
        if r.operation == "AssumeRole" then assumed = assumed + 1 end
        if r.service == "guardduty" then accounts[r.account] = true end
      end
      assert.are.equal(2, assumed)
      assert.is_true(accounts["222222222222"] and accounts["333333333333"])
    end)
    s:stop()
    assert(ok, err)
  end)
end)
