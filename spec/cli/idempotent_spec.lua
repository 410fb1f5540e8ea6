-- invite apply is idempotent: the demo policy applied twice against the simulator's example
-- organisation. The second run sends no mutating request (the simulator's request log), reports
-- every invitation as already handled (already_declined, already_accepted, or kept), and exits 0.
local interp = require "support.interp"
local sim = require "support.sim"
local cjson = require "cjson"

local MUTATING = { DeclineInvitations = true, DeleteInvitations = true, AcceptInvitation = true,
                   AcceptAdministratorInvitation = true, RejectInvitation = true, AcceptHandshake = true,
                   DeclineHandshake = true, AcceptResourceShareInvitation = true,
                   RejectResourceShareInvitation = true, DisassociateMembership = true,
                   DisassociateFromAdministratorAccount = true }

describe("invite apply twice", function()
  local s, tmp
  setup(function()
    s = sim.start{ fixtures = "examples/fixtures/org.json" }
    tmp = os.tmpname()
  end)
  teardown(function()
    s:stop()
    for _, suffix in ipairs{ "", ".out", ".err" } do os.remove(tmp .. suffix) end
  end)

  local function apply(policy)
    local prod = sim.keys.prod
    local cmd = "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_CONFIG_FILE=/dev/null "
      .. "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 "
      .. "AWS_ACCESS_KEY_ID=" .. prod.access_key_id
      .. " AWS_SECRET_ACCESS_KEY=" .. sim.shell_quote(prod.secret_access_key)
      .. " " .. interp.LUA .. " bin/invite apply " .. policy .. " --json --endpoint-url " .. s.endpoint
      .. " >" .. tmp .. ".out 2>" .. tmp .. ".err"
    local code = interp.execute(cmd)
    return code, cjson.decode(assert(io.open(tmp .. ".out")):read("*a")), assert(io.open(tmp .. ".err")):read("*a")
  end

  local function mutating()
    local n = {}
    for _, r in ipairs(s:requests()) do
      if MUTATING[r.operation] then n[#n + 1] = r.operation end
    end
    return n
  end

  it("sends no mutating request the second time, reports everything as already handled, exits 0", function()
    s:clear_requests()
    local code, first, err = apply("examples/policy.lua")
    assert.are.equal(0, code, err)
    assert.is_true(#mutating() > 0)
    local services = {}
    for _, r in ipairs(first.invitations) do services[r.service] = true end
    assert.are.same({ macie2 = true, securityhub = true, guardduty = true, detective = true, organizations = true,
                      ram = true }, services)

    s:clear_requests()
    local code2, second, err2 = apply("examples/policy.lua")
    assert.are.equal(0, code2, err2)
    assert.are.same({}, mutating())
    local handled = { already_declined = true, already_accepted = true, kept = true }
    local counts = {}
    for _, r in ipairs(second.invitations) do
      assert.is_true(handled[r.outcome], r.service .. " " .. r.region .. " " .. tostring(r.invitation_id) .. ": "
        .. tostring(r.outcome) .. " " .. tostring(r.detail))
      counts[r.outcome] = (counts[r.outcome] or 0) + 1
    end
    -- what the first run declined (and did not delete) and accepted is said to be so
    assert.is_true((counts.already_declined or 0) > 0)
    assert.is_true((counts.already_accepted or 0) > 0)
    if os.getenv("INVITE_VERBOSE") then io.stderr:write("\nsecond apply: ", cjson.encode(counts), "\n") end
  end)
end)
