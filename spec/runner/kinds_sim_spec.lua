-- invite.run over Detective, Organizations handshakes and RAM against the simulator, as the
-- management account sweeping its organisation: one inventory with each kind's fields, decisions
-- carried out one call per invitation (each in the audit log before the simulator saw it), the
-- simulator's state afterwards (Detective's rejected invitation gone, the handshake DECLINED, the
-- outside share REJECTED), kinds without a delete declining only, what is not open kept unasked,
-- and a second apply that finds nothing left to do.
local cjson = require "cjson"
local sim = require "support.sim"
local runner = require "invite.runner"

local ADMIN, STRANGER, MEMBER = "111111111111", "999999999999", "222222222222"
local KEY = { id = "AKIAKINDSSIMSPEC0001", secret = "kinds/sim/spec/secret/0123456789abcdef" }
local CREDS = { access_key_id = KEY.id, secret_access_key = KEY.secret }
local MEMBER_KEY = { id = "AKIAKINDSSIMSPEC0002", secret = "kinds/sim/spec/member/secret/0123456789" }
local GRAPH_OUT = "arn:aws:detective:us-east-1:" .. STRANGER .. ":graph:0123456789abcdef0123456789abcdef"
local GRAPH_ORG = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:fedcba9876543210fedcba9876543210"
local SHARE_OUT = "arn:aws:ram:us-east-1:" .. STRANGER
  .. ":resource-share-invitation/0f0e0d0c-0b0a-4090-8070-605040302010"
local SHARE_IN = "arn:aws:ram:us-east-1:" .. ADMIN .. ":resource-share-invitation/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"

local function fixture()
  local fx = sim.org_fixture{ admin = ADMIN, key = KEY, inviter = STRANGER, members = { MEMBER },
                              services = {}, regions = {}, organization = true }
  for _, a in ipairs(fx.accounts) do
    if a.id == MEMBER then a.access_keys = { MEMBER_KEY } end
  end
  local add = function(t) fx.invitations[#fx.invitations + 1] = t end
  add{ service = "detective", region = "us-east-1", account = MEMBER, inviter = STRANGER, id = GRAPH_OUT,
       invited_at = "now-40d" }
  add{ service = "detective", region = "us-east-1", account = MEMBER, inviter = ADMIN, id = GRAPH_ORG,
       invited_at = "now-90d", status = "ENABLED" }
  add{ service = "organizations", account = MEMBER, inviter = STRANGER, id = "h-stranger0001", invited_at = "now-2d",
       organization_id = "o-stranger001", action = "INVITE" }
  add{ service = "organizations", account = MEMBER, inviter = ADMIN, id = "h-features0001", invited_at = "now-1d",
       organization_id = "o-simspecorg1", action = "ENABLE_ALL_FEATURES" }
  add{ service = "ram", region = "us-east-1", account = MEMBER, inviter = STRANGER, id = SHARE_OUT,
       invited_at = "now-3d", share_name = "vendor-subnet",
       resources = { "arn:aws:ec2:us-east-1:" .. STRANGER .. ":subnet/subnet-0a1b2c3d4e5f60718" } }
  add{ service = "ram", region = "us-east-1", account = MEMBER, inviter = ADMIN, id = SHARE_IN,
       invited_at = "now-1d", share_name = "org-network",
       resources = { "arn:aws:ec2:us-east-1:" .. ADMIN .. ":transit-gateway/tgw-0a1b2c3d4e5f60718" } }
  return fx
end

-- decline what comes from outside, whatever the kind (a stale one "deleted": they have no delete)
local function policy(inv)
  if inv.service == "ram" then
    if inv.from_organization == false then return "decline", "outside" end
    return "keep", "inside"
  end
  if inv.account_id == ADMIN then return "keep", "our management account" end
  if inv.age_days > 30 then return "decline_and_delete", "stale stranger" end
  return "decline", "stranger"
end

local function read_lines(path)
  local out = {}
  local f = assert(io.open(path))
  for l in f:lines() do out[#out + 1] = cjson.decode(l) end
  f:close()
  return out
end

local MUTATING = { RejectInvitation = true, AcceptInvitation = true, DeclineHandshake = true, AcceptHandshake = true,
                   RejectResourceShareInvitation = true, AcceptResourceShareInvitation = true }

describe("invite.run over the three one-at-a-time kinds, against the simulator", function()
  local s, audit_path
  setup(function()
    s = sim.start{ fixtures = fixture() }
    audit_path = os.tmpname()
  end)
  teardown(function()
    s:stop()
    os.remove(audit_path)
  end)

  local function run(apply)
    return runner.run{ services = { "detective", "organizations", "ram" }, regions = { "us-east-1" },
                       accounts = "organization", role = "InviteManager", credentials = CREDS,
                       endpoint = s.endpoint, policy = policy, apply = apply, audit_log = audit_path }
  end

  it("lists every kind with its fields, decides the open ones, and carries the decisions out", function()
    s:clear_requests()
    local report = run(true)
    assert.are.same({}, report.errors)
    local by = {}
    for _, r in ipairs(report.invitations) do by[r.invitation_id] = r end
    -- Detective
    assert.are.equal("declined", by[GRAPH_OUT].outcome)
    assert.are.equal("decline_and_delete", by[GRAPH_OUT].action)
    assert.are.equal("declined only: Detective has no delete: a rejected invitation is no longer listed",
      by[GRAPH_OUT].detail)
    assert.are.equal(GRAPH_OUT, by[GRAPH_OUT].graph_arn)
    assert.are.equal("kept", by[GRAPH_ORG].outcome)
    assert.are.equal("accepted", by[GRAPH_ORG].status)
    assert.are.equal("ENABLED", by[GRAPH_ORG].raw_status)
    -- Organizations: global, the inviter from the handshake's ARN, the gate
    local h = by["h-stranger0001"]
    assert.are.same({ "global", MEMBER, STRANGER, STRANGER, "o-stranger001", "INVITE", "declined" },
      { h.region, h.account, h.account_id, h.management_account, h.organization_id, h.action_type, h.outcome })
    local f = by["h-features0001"]
    assert.are.equal("kept", f.outcome)
    assert.are.equal("action_type ENABLE_ALL_FEATURES: kept, the policy's handshake_actions (INVITE) does not name it",
      f.reason)
    -- RAM: from_organization from the organisation's listing, the resource types it would share
    assert.is_false(by[SHARE_OUT].from_organization)
    assert.is_true(by[SHARE_IN].from_organization)
    assert.are.same({ "ec2:Subnet" }, by[SHARE_OUT].resource_types)
    assert.are.same({ "ec2:TransitGateway" }, by[SHARE_IN].resource_types)
    assert.are.equal("vendor-subnet", by[SHARE_OUT].share_name)
    assert.are.equal(STRANGER, by[SHARE_OUT].sharing_account)
    assert.are.equal("declined", by[SHARE_OUT].outcome)
    assert.are.equal("kept", by[SHARE_IN].outcome)

    -- the simulator's state afterwards
    local st = s:state()
    local status = {}
    for _, i in ipairs(st.invitations) do status[i.id] = i.status end
    assert.is_nil(status[GRAPH_OUT]) -- rejected: no longer listed
    assert.are.equal("ENABLED", status[GRAPH_ORG])
    assert.are.equal("DECLINED", status["h-stranger0001"])
    assert.are.equal("OPEN", status["h-features0001"])
    assert.are.equal("REJECTED", status[SHARE_OUT])
    assert.are.equal("PENDING", status[SHARE_IN])

    -- every mutating request the simulator saw was in the audit log first, with its invitation ID
    local mutating = {}
    for _, e in ipairs(s:requests()) do
      if MUTATING[e.operation] then mutating[#mutating + 1] = e.operation end
    end
    table.sort(mutating)
    assert.are.same({ "DeclineHandshake", "RejectInvitation", "RejectResourceShareInvitation" }, mutating)
    local calls, outcomes = {}, 0
    for _, e in ipairs(read_lines(audit_path)) do
      if e.event == "call" then calls[#calls + 1] = e.operation .. " " .. e.invitation_id end
      if e.event == "outcome" then outcomes = outcomes + 1 end
    end
    table.sort(calls)
    assert.are.same({ "decline_handshake h-stranger0001", "reject_invitation " .. GRAPH_OUT,
                      "reject_resource_share_invitation " .. SHARE_OUT }, calls)
    assert.are.equal(#report.invitations, outcomes)
  end)

  it("a second apply finds nothing open left to decline: no mutating call", function()
    s:clear_requests()
    local report = run(true)
    assert.are.same({}, report.errors)
    for _, e in ipairs(s:requests()) do assert.is_nil(MUTATING[e.operation], e.operation) end
    -- what the first run declined is already declined; Detective's rejected invitation is not listed
    local outcomes = {}
    for _, r in ipairs(report.invitations) do outcomes[r.invitation_id] = r.outcome end
    assert.are.same({ [GRAPH_ORG] = "kept", ["h-stranger0001"] = "already_declined", ["h-features0001"] = "kept",
                      [SHARE_OUT] = "already_declined", [SHARE_IN] = "kept" }, outcomes)
  end)

  it("a member account that may not list the organisation: from_organization is nil, one warning, one call",
     function()
    s:reset()
    s:clear_requests()
    local asked, known = 0, 0
    local report = runner.run{ services = { "ram" }, regions = { "us-east-1" }, endpoint = s.endpoint,
                               credentials = { access_key_id = MEMBER_KEY.id, secret_access_key = MEMBER_KEY.secret },
                               policy = function(inv)
                                 asked = asked + 1
                                 if inv.from_organization ~= nil then known = known + 1 end
                                 return "keep"
                               end }
    assert.are.equal(2, asked)
    assert.are.equal(0, known)
    assert.are.same({ "from_organization is unknown (nil): these credentials cannot list the organisation's "
      .. "accounts (Organizations ListAccounts: AccessDeniedException)" }, report.warnings)
    assert.are.equal(1, s:count("ListAccounts"))
  end)

  it("plans one Organizations scope per account (global) beside the regional kinds", function()
    s:reset()
    local plan = runner.plan{ services = { "detective", "organizations", "ram" }, regions = { "us-east-1" },
                              credentials = CREDS, endpoint = s.endpoint, accounts = "organization",
                              role = "InviteManager" }
    local kinds = {}
    for _, sc in ipairs(plan.scopes) do kinds[#kinds + 1] = sc.account .. " " .. sc.service .. " " .. sc.region end
    table.sort(kinds)
    assert.are.same({ ADMIN .. " detective us-east-1", ADMIN .. " organizations global", ADMIN .. " ram us-east-1",
                      MEMBER .. " detective us-east-1", MEMBER .. " organizations global", MEMBER .. " ram us-east-1" },
      kinds)
  end)
end)
