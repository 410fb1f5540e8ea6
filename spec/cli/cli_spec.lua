-- The invite CLI end to end against the simulator: every subcommand and exit code, plan vs apply
-- (the request log shows no mutating call in plan), the audit log, and the example policies.
local interp = require "support.interp"
local sim = require "support.sim"
local cjson = require "cjson"

local MUTATING = { DeclineInvitations = true, DeleteInvitations = true, AcceptInvitation = true,
                   AcceptAdministratorInvitation = true, DisassociateFromAdministratorAccount = true,
                   RejectInvitation = true, DisassociateMembership = true, AcceptHandshake = true,
                   DeclineHandshake = true, AcceptResourceShareInvitation = true,
                   RejectResourceShareInvitation = true }

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

describe("invite CLI", function()
  local s, tmp
  local prod = sim.keys.prod

  local function invite(args, extra_env)
    local env = "env -u LD_PRELOAD -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_CONFIG_FILE=/dev/null "
      .. "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true "
      .. "AWS_ACCESS_KEY_ID=" .. prod.access_key_id .. " AWS_SECRET_ACCESS_KEY=" .. sh_quote(prod.secret_access_key)
      .. " " .. (extra_env or "")
    local cmd = env .. " " .. interp.LUA .. " bin/invite " .. args .. " >" .. tmp .. ".out 2>" .. tmp .. ".err"
    local code = interp.execute(cmd)
    local out = assert(io.open(tmp .. ".out")):read("*a")
    local err = assert(io.open(tmp .. ".err")):read("*a")
    return code, out, err
  end

  local function mutating_calls()
    local n = 0
    for _, r in ipairs(s:requests()) do if MUTATING[r.operation] then n = n + 1 end end
    return n
  end

  before_each(function()
    s = sim.start{ fixtures = "examples/fixtures/org.json" }
    tmp = os.tmpname()
  end)
  after_each(function()
    s:stop()
    os.remove(tmp); os.remove(tmp .. ".out"); os.remove(tmp .. ".err")
  end)

  it("plan lists and decides but sends no mutating call (exit 0)", function()
    local code, out, err = invite("plan examples/policy.lua --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    assert.matches("SERVICE%s+REGION%s+ACCOUNT%s+INVITER%s+WHAT%s+INVITED%-AT%s+STATUS%s+ACTION%s+REASON%s+"
      .. "OUTCOME", out)
    assert.matches("decline_and_delete", out)
    assert.matches("planned", out)
    assert.are.equal(0, mutating_calls())
    assert.is_true(#s:requests() >= 6, "list calls were made")
  end)

  it("apply carries the decisions out, writes the audit log, and the simulator state agrees", function()
    local audit = tmp .. ".audit"
    local code, out, err = invite("apply examples/policy.lua --json --endpoint-url " .. s.endpoint
      .. " --audit-log " .. audit)
    assert.is_true(code == 0 or code == 3, "exit " .. tostring(code) .. ": " .. err)
    local report = cjson.decode(out)
    assert.is_true(report.apply)
    assert.is_true(mutating_calls() > 0)
    local outcomes = {}
    for line in io.lines(audit) do
      local e = cjson.decode(line)
      assert.is_nil(line:find(prod.secret_access_key, 1, true))
      if e.event == "outcome" then outcomes[e.service .. e.region .. e.account_id] = e.outcome end
    end
    os.remove(audit)
    local n = 0
    for _, r in ipairs(report.invitations) do
      if r.action ~= "keep" then
        n = n + 1
        assert.are.equal(r.outcome, outcomes[r.service .. r.region .. r.account_id])
      end
    end
    assert.is_true(n > 0)
    -- a second plan sees the applied state: nothing from strangers is left to decline_and_delete
    local _, out2 = invite("plan examples/policy.lua --json --endpoint-url " .. s.endpoint)
    for _, r in ipairs(cjson.decode(out2).invitations) do
      assert.are_not.equal("decline_and_delete", r.action, "still listed: " .. r.service .. " " .. r.account_id)
    end
  end)

  it("list and count print every service and region", function()
    local code, out, err = invite("list --regions us-east-1 --services guardduty --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    assert.matches("guardduty", out)
    code, out, err = invite("count --regions us-east-1,eu-west-1 --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    assert.matches("SERVICE%s+REGION%s+ACCOUNT%s+INVITATIONS", out)
    -- the ACCOUNT column is the caller's own account (STS GetCallerIdentity)
    assert.matches("securityhub%s+eu%-west%-1%s+222222222222%s+%d+", out)
  end)

  it("decline reports unprocessed account IDs with exit 3", function()
    local code, out = invite("decline --service guardduty --region us-east-1 --endpoint-url " .. s.endpoint
      .. " 999988887777")
    assert.are.equal(3, code)
    assert.matches("999988887777  unprocessed: ", out)
  end)

  it("decline - takes the account IDs from standard input, beside the ones given as arguments", function()
    local list = tmp .. ".ids"
    local f = assert(io.open(list, "w"))
    f:write("999988887777\n  111111111111 \n")
    f:close()
    local code, out = invite("decline --service guardduty --region us-east-1 --endpoint-url " .. s.endpoint
      .. " 222222222222 - <" .. list)
    os.remove(list)
    assert.are.equal(3, code)
    assert.matches("^222222222222  %S[^\n]*\n999988887777  unprocessed: [^\n]*\n111111111111  ", out)
    assert.are.equal(1, s:count("DeclineInvitations"))
  end)

  it("delete sends nothing and exits 2 on an invalid account ID", function()
    local code, _, err = invite("delete --service macie2 --region us-east-1 --endpoint-url " .. s.endpoint
      .. " 12345")
    assert.are.equal(2, code)
    assert.matches("12", err)
    assert.are.equal(0, #s:requests())
  end)

  it("exits 2 on usage errors and a broken policy file, naming file and line", function()
    local code, _, err = invite("plan")
    assert.are.equal(2, code)
    assert.matches("policy", err)
    local bad = tmp .. ".lua"
    local f = assert(io.open(bad, "w")); f:write("return function(inv)\n  return 'decline'\nen\n"); f:close()
    code, _, err = invite("plan " .. bad .. " --regions us-east-1 --endpoint-url " .. s.endpoint)
    os.remove(bad)
    assert.are.equal(2, code)
    assert.matches(bad:gsub("%p", "%%%0") .. ":%d+:", err)
    code, _, err = invite("plan examples/policy.lua --services s3 --endpoint-url " .. s.endpoint)
    assert.are.equal(2, code)
    assert.matches("unknown service", err)
    assert.are.equal(0, #s:requests())
  end)

  it("exits 1 when the credentials are refused", function()
    local code, _, err = invite("list --regions us-east-1 --services macie2 --endpoint-url " .. s.endpoint,
      "AWS_SECRET_ACCESS_KEY=wrong")
    assert.are.equal(1, code)
    -- refused by STS before any scope (GetCallerIdentity comes first): one line, nothing swept
    assert.matches("error: credentials: sts GetCallerIdentity: SignatureDoesNotMatch .*nothing was swept", err)
    assert.are.equal(1, #s:requests())
    assert.is_nil(err:find(prod.secret_access_key, 1, true))
  end)

  it("says missing or expired credentials once, before any scope, and exits 1", function()
    local code, out, err = invite("list --regions all --endpoint-url " .. s.endpoint,
      "AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY=")
    assert.are.equal(1, code, err)
    local _, lines = err:gsub("\n", "")
    assert.are.equal(2, lines, err) -- the summary and one error line
    assert.matches("error: credentials: .*NoCredentials.*nothing was swept", err)
    assert.are.equal(0, #s:requests())
    assert.is_nil(out:find("macie2", 1, true))
    -- an expired session: one GetCallerIdentity, one line
    local exp = sim.sessions.expired
    code, _, err = invite("list --regions all --endpoint-url " .. s.endpoint, "AWS_ACCESS_KEY_ID=" .. exp.access_key_id
      .. " AWS_SECRET_ACCESS_KEY=" .. sh_quote(exp.secret_access_key) .. " AWS_SESSION_TOKEN="
      .. sh_quote(exp.session_token))
    assert.are.equal(1, code, err)
    assert.matches("error: credentials: .*Expired.*nothing was swept", err)
    local reqs = s:requests()
    assert.are.equal(1, #reqs)
    assert.are.equal("GetCallerIdentity", reqs[1].operation)
  end)

  it("runs examples/outside.lua as the management account over the organisation's accounts", function()
    local admin = sim.keys["org-admin"]
    -- (the audit account has another role: excluded)
    local code, out, err = invite("apply examples/outside.lua --accounts org --role InviteManager "
      .. "--exclude-accounts 666666666666 --regions us-east-1,eu-west-1 --json --endpoint-url " .. s.endpoint,
      "AWS_ACCESS_KEY_ID=" .. admin.access_key_id .. " AWS_SECRET_ACCESS_KEY=" .. sh_quote(admin.secret_access_key))
    assert.are.equal(0, code, err)
    local report = cjson.decode(out)
    local by = {}
    for _, r in ipairs(report.invitations) do
      assert.is_true(r.service == "ram" or r.service == "organizations", r.service)
      by[r.service .. " " .. r.account .. " " .. r.account_id .. " " .. tostring(r.raw_status)] = r
    end
    local function outcome(key) return by[key] and by[key].outcome, by[key] and by[key].reason end
    -- RAM: the stranger's shares declined, the organisation's kept, a closed one kept unasked
    assert.are.equal("declined", outcome("ram 333333333333 777788889999 PENDING"))
    assert.are.equal("declined", outcome("ram 222222222222 777788889999 PENDING"))
    assert.are.equal("kept", outcome("ram 333333333333 111111111111 PENDING"))
    assert.is_true(by["ram 333333333333 111111111111 PENDING"].from_organization)
    assert.is_false(by["ram 333333333333 777788889999 PENDING"].from_organization)
    assert.matches("%(ec2:Subnet%) shared by 777788889999, outside our organisation",
      by["ram 333333333333 777788889999 PENDING"].reason)
    assert.are.equal("kept", outcome("ram 333333333333 444444444444 ACCEPTED"))
    -- Organizations: an invitation from an unknown management account declined, the known one kept,
    -- a handshake that is not an INVITE kept without asking
    assert.are.equal("declined", outcome("organizations 222222222222 493817260514 OPEN"))
    assert.are.equal("kept", outcome("organizations 333333333333 111111111111 OPEN"))
    local _, why = outcome("organizations 444444444444 111111111111 REQUESTED")
    assert.matches("^action_type ENABLE_ALL_FEATURES: kept", why)
    local st = s:state()
    local status = {}
    for _, i in ipairs(st.invitations) do status[i.id] = i.status end
    assert.are.equal("DECLINED", status["h-7kq2m9x4w1zp3r8t"])
    assert.are.equal("OPEN", status["h-ex12invite000001"])
  end)

  -- an invitation of the example fixture: the first one matching
  local function fixture_invitation(match)
    local fx = cjson.decode(assert(io.open("examples/fixtures/org.json")):read("*a"))
    for _, i in ipairs(fx.invitations) do
      local ok = true
      for k, v in pairs(match) do if i[k] ~= v then ok = false end end
      if ok then return i end
    end
    error("no such invitation in the example fixture")
  end

  local function status_of(id)
    for _, i in ipairs(s:state().invitations) do if i.id == id then return i.status end end
    return nil
  end

  it("accept takes an invitation's ARN or its inviter's account ID; nothing matching is exit 1", function()
    local graph = fixture_invitation{ service = "detective", account = "222222222222", inviter = "111111111111" }.id
    local code, out, err = invite("accept --service detective --region us-east-1 " .. graph .. " --endpoint-url "
      .. s.endpoint)
    assert.are.equal(0, code, err)
    assert.matches("detective%s+us%-east%-1%s+222222222222%s+111111111111 .* accepted", out)
    assert.are.equal("ENABLED", status_of(graph))
    code, out, err = invite("accept --service guardduty --region us-east-1 111111111111 --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    assert.matches("accepted", out)
    local before = #s:requests()
    local _
    code, _, err = invite("accept --service ram --region eu-west-1 arn:aws:ram:eu-west-1:123456789012:"
      .. "resource-share-invitation/nope --endpoint-url " .. s.endpoint)
    assert.are.equal(1, code)
    assert.matches("no open invitation arn:aws:ram:eu%-west%-1:123456789012:resource%-share%-invitation/nope in ram",
      err)
    for i, r in ipairs(s:requests()) do
      if i > before then assert.is_nil(MUTATING[r.operation], r.operation) end
    end
  end)

  it("count counts the open invitations of the kinds without a count operation (Organizations: once)", function()
    local code, out, err = invite("count --services detective,organizations,ram --regions us-east-1,eu-west-1 --json "
      .. "--endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    local got = {}
    for _, r in ipairs(cjson.decode(out)) do got[#got + 1] = ("%s %s %d"):format(r.service, r.region, r.count) end
    -- prod: two INVITED graphs in us-east-1, one in eu-west-1; one OPEN handshake (the DECLINED one is
    -- not counted); one PENDING share in eu-west-1
    assert.are.same({ "detective us-east-1 2", "detective eu-west-1 1", "organizations global 1", "ram us-east-1 0",
                      "ram eu-west-1 1" }, got)
  end)

  it("decline takes the invitation IDs or ARNs of Detective, Organizations and RAM; delete there is refused", function()
    local share = fixture_invitation{ service = "ram", account = "222222222222" }.id
    local code, out, err = invite("decline --service ram --region eu-west-1 " .. share .. " --endpoint-url "
      .. s.endpoint)
    assert.are.equal(0, code, err)
    assert.are.equal(share .. "  declined\n", out)
    assert.are.equal("REJECTED", status_of(share))
    -- global: no region needed
    code, out, err = invite("decline --service organizations h-7kq2m9x4w1zp3r8t --endpoint-url " .. s.endpoint)
    assert.are.equal(0, code, err)
    assert.are.equal("h-7kq2m9x4w1zp3r8t  declined\n", out)
    assert.are.equal("DECLINED", status_of("h-7kq2m9x4w1zp3r8t"))
    -- already declined: the service's error for that one, exit 1
    code, out = invite("decline --service organizations h-7kq2m9x4w1zp3r8t --endpoint-url " .. s.endpoint)
    assert.are.equal(1, code)
    assert.matches("^h%-7kq2m9x4w1zp3r8t  error: ", out)
    local before = #s:requests()
    code, out, err = invite("delete --service ram --region eu-west-1 " .. share .. " --endpoint-url " .. s.endpoint)
    assert.are.equal(2, code)
    assert.matches("ram has no delete %(RAM has no delete: a rejected invitation stays listed as REJECTED%)", err)
    assert.are.equal("", out)
    assert.are.equal(before, #s:requests())
    -- a malformed ID is refused before anything is sent (exit 2)
    code, out, err = invite("decline --service organizations h-NOT-AN-ID --endpoint-url " .. s.endpoint)
    assert.are.equal(2, code)
    assert.matches("HandshakeId", err)
    assert.are.equal("", out)
    assert.are.equal(before, #s:requests())
  end)

  for _, example in ipairs({ "allow_list", "stale", "accept_admin" }) do
    it("runs examples/" .. example .. ".lua as plan and apply", function()
      local code, out, err = invite("apply examples/" .. example .. ".lua --regions us-east-1 --json --endpoint-url "
        .. s.endpoint)
      assert.is_true(code == 0 or code == 3, "exit " .. tostring(code) .. ": " .. err)
      local report = cjson.decode(out)
      assert.is_true(report.totals.invitations > 0)
      for _, r in ipairs(report.invitations) do
        if example == "allow_list" and r.account_id == "111111111111" then assert.are.equal("kept", r.outcome) end
        if example == "accept_admin" and r.account_id == "111111111111" then
          assert.are.equal("accepted", r.outcome)
        end
        if example == "stale" and r.action == "decline_and_delete" then assert.is_true(r.age_days > 30) end
      end
    end)
  end
end)
