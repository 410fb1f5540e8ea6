-- invite.run over an invitation kind acted on one invitation at a time (a declaration without
-- `ids`, like Detective, Organizations handshakes and RAM): open statuses, a gate the policy must
-- name, details fetched before the policy decides, one call per invitation recorded in the audit
-- log before it is sent, done codes, decline-only kinds, global scopes and from_organization.
-- The kind here is a preloaded declaration, and its client a fake recording every call.
local NOW = 1795000000 -- 2026-11-19
local ME, OUTSIDER, MEMBER = "111111111111", "999999999999", "222222222222"

local function declaration(global)
  local item = { type = "structure", members = {
    { name = "Arn", type = "string" }, { name = "Sender", type = "string" }, { name = "At", type = "timestamp" },
    { name = "Status", type = "string" }, { name = "Name", type = "string" }, { name = "Kind", type = "string" } } }
  return {
    name = "fakekind", service_id = "FakeKind", api_version = "2026-01-01", signing_name = "fakekind",
    endpoint_prefix = "fakekind", protocol = "rest-json", title = "AWS Fake Kind",
    invitations = {
      order = 9, list_operation = "get_items", list = "Items", account = "Sender", id = "Arn", at = "At",
      status = "Status", open = { "PENDING" }, fields = { share_name = "Name", kind = "Kind" },
      statuses = { PENDING = "pending", ACCEPTED = "accepted", REJECTED = "declined" },
      decline = { operation = "reject_item", params = { ItemArn = "invitation_id" },
                  done_codes = { "AlreadyRejected" }, gone_codes = { "NotFound" } },
      accept = { operation = "accept_item", params = { ItemArn = "invitation_id" } },
      no_delete = "Fake Kind has no delete: a rejected item stays listed",
      details = { operation = "list_item_resources", params = { ItemArn = "invitation_id" }, list = "Resources",
                  member = "Type", field = "resource_types" },
      gate = { field = "kind", policy = "fake_kinds", default = { "INVITE" } },
      organization = "from_organization",
      global = global or nil,
    },
    operations = {
      get_items = { name = "GetItems", method = "POST", uri = "/items", input = {
          { name = "NextToken", type = "string" } },
        output = { { name = "Items", type = "list", member = item }, { name = "NextToken", type = "string" } } },
      reject_item = { name = "RejectItem", method = "POST", uri = "/reject",
        input = { { name = "ItemArn", type = "string", required = true } }, output = {} },
      accept_item = { name = "AcceptItem", method = "POST", uri = "/accept",
        input = { { name = "ItemArn", type = "string", required = true } }, output = {} },
      list_item_resources = { name = "ListItemResources", method = "POST", uri = "/resources",
        input = { { name = "ItemArn", type = "string", required = true }, { name = "NextToken", type = "string" } },
        output = { { name = "Resources", type = "list", member = { type = "structure", members = {
          { name = "Type", type = "string" } } } }, { name = "NextToken", type = "string" } } },
    },
    paginators = {
      get_items = { input_token = "NextToken", output_token = "NextToken", result_key = "Items",
                    all = "get_all_items", each = "each_item" },
      list_item_resources = { input_token = "NextToken", output_token = "NextToken", result_key = "Resources",
                              all = "list_all_item_resources", each = "each_item_resource" },
    },
  }
end

local runner

local function load(global)
  package.preload["invite.services.fakekind"] = function() return declaration(global) end
  for _, m in ipairs{ "invite.model", "invite.runner", "invite.policy", "invite.scope", "invite.services.fakekind" } do
    package.loaded[m] = nil
  end
  runner = require "invite.runner"
end

local function item(arn, sender, status, kind)
  return { Arn = arn, Sender = sender, At = "2026-11-01T00:00:00Z", Status = status or "PENDING",
           Name = arn .. "-share", Kind = kind or "INVITE" }
end

local function fake(items, behaviour)
  behaviour = behaviour or {}
  local c = { calls = {} }
  function c:get_all_items()
    self.calls[#self.calls + 1] = "list"
    if behaviour.relisted and #self.calls > 1 then return behaviour.relisted end
    return items
  end
  function c:list_all_item_resources(p)
    self.calls[#self.calls + 1] = "resources " .. p.ItemArn
    if behaviour.resources_error then return nil, behaviour.resources_error end
    return { { Type = "ec2:Subnet" }, { Type = "ec2:Subnet" }, { Type = "ram:Zeta" } }
  end
  function c:reject_item(p)
    self.calls[#self.calls + 1] = "reject " .. p.ItemArn
    local e = behaviour.reject_error and behaviour.reject_error[p.ItemArn]
    if e then return nil, e end
    return {}
  end
  function c.accept_item(self, p) self.calls[#self.calls + 1] = "accept " .. p.ItemArn; return {} end
  return c
end

local function memory_audit()
  local a = { lines = {} }
  function a:write(e) self.lines[#self.lines + 1] = e; return true end
  function a.close() return true end
  return a
end

local function run(opts, client)
  opts.services = { "fakekind" }
  opts.regions = opts.regions or { "us-east-1" }
  opts.now = function() return NOW end
  opts.client = function() return client end
  opts.identity = opts.identity or { account = ME, arn = "arn:aws:iam::" .. ME .. ":user/x" }
  return runner.run(opts)
end

local function by_id(report)
  local t = {}
  for _, r in ipairs(report.invitations) do t[r.invitation_id] = r end
  return t
end

describe("invite.run over a kind acted on one invitation at a time", function()
  after_each(function()
    package.preload["invite.services.fakekind"] = nil
    for _, m in ipairs{ "invite.model", "invite.runner", "invite.policy", "invite.scope" } do
      package.loaded[m] = nil
    end
  end)

  it("gives the policy the kind's fields and details; keeps closed ones and ungated ones unasked", function()
    load()
    local seen = {}
    local c = fake{ item("a1", OUTSIDER), item("a2", OUTSIDER, "ACCEPTED"), item("a3", OUTSIDER, "PENDING", "OTHER") }
    local report = run({ policy = function(inv) seen[#seen + 1] = inv; return "keep", "looked" end },
      c)
    assert.equal(2, #seen) -- a1 and the closed a2; the gated a3 is not asked
    local v = seen[1]
    assert.same({ "fakekind", "us-east-1", ME, OUTSIDER, "a1", "a1-share", "INVITE", "pending", "PENDING" },
      { v.service, v.region, v.account, v.account_id, v.invitation_id, v.share_name, v.kind, v.status,
        v.raw_status })
    assert.equal("accepted", seen[2].status)
    assert.same({ "ec2:Subnet", "ram:Zeta" }, v.resource_types)
    assert.is_true(v.age_days > 17 and v.age_days < 19)
    local r = by_id(report)
    assert.equal("kept", r.a2.outcome)
    assert.equal("looked", r.a2.reason)
    assert.equal("kind OTHER: kept, the policy's fake_kinds (INVITE) does not name it", r.a3.reason)
    -- details only for what the policy is asked about
    assert.same({ "list", "resources a1" }, c.calls)
  end)

  it("a policy's gate key lets it decide the other kinds; an unknown key is refused naming the allowed", function()
    load()
    local c = fake{ item("a3", OUTSIDER, "PENDING", "OTHER") }
    local report = run({ policy = { fake_kinds = { "INVITE", "OTHER" }, decide = function() return "decline" end },
                         apply = true }, c)
    assert.equal("declined", report.invitations[1].outcome)
    assert.has_error(function()
      run({ policy = { fake_kindz = { "X" }, decide = function() return "keep" end } }, c)
    end, nil)
    local ok, err = pcall(run, { policy = { fake_kindz = { "X" }, decide = function() return "keep" end } }, c)
    assert.is_false(ok)
    assert.matches("unknown policy field 'fake_kindz' %(allowed: .*fake_kinds", tostring(err))
  end)

  it("apply: one call per invitation, each in the audit log before it is sent; delete declines and says why", function()
    load()
    local c = fake{ item("a1", OUTSIDER), item("a2", MEMBER), item("a4", OUTSIDER), item("a5", MEMBER) }
    local audit = memory_audit()
    local decide = { a1 = "decline", a2 = "accept", a4 = "decline_and_delete", a5 = "delete" }
    local report = run({ apply = true, audit = audit,
                         policy = function(inv) return decide[inv.invitation_id], "p" end }, c)
    local r = by_id(report)
    assert.equal("declined", r.a1.outcome)
    assert.is_nil(r.a1.detail)
    assert.equal("accepted", r.a2.outcome)
    assert.equal("declined", r.a4.outcome)
    assert.equal("declined only: Fake Kind has no delete: a rejected item stays listed", r.a4.detail)
    assert.equal("declined", r.a5.outcome)
    -- accepts first, then declines; details before any decision
    assert.same({ "list", "resources a1", "resources a2", "resources a4", "resources a5",
                  "accept a2", "reject a1", "reject a4", "reject a5" }, c.calls)
    local calls = {}
    for i, e in ipairs(audit.lines) do
      if e.event == "call" then calls[#calls + 1] = { i = i, id = e.invitation_id, op = e.operation } end
    end
    assert.equal(4, #calls)
    for _, call in ipairs(calls) do
      -- the outcome line of that invitation comes after its call line
      local outcome_at
      for i, e in ipairs(audit.lines) do
        if e.event == "outcome" and e.invitation_id == call.id then outcome_at = i end
      end
      assert.is_true(outcome_at > call.i)
    end
    assert.equal("accept_item", calls[1].op)
  end)

  it("a done code counts as declined, another error is that invitation's error only", function()
    load()
    local errors = require "invite.errors"
    local c = fake({ item("a1", OUTSIDER), item("a2", OUTSIDER) }, { reject_error = {
      a1 = errors.new{ code = "AlreadyRejected", message = "already", status = 400 },
      a2 = errors.new{ code = "Boom", message = "it broke", status = 400 } } })
    local report = run({ apply = true, policy = function() return "decline" end }, c)
    local r = by_id(report)
    assert.equal("declined", r.a1.outcome)
    assert.equal("already declined when the call arrived (AlreadyRejected)", r.a1.detail)
    assert.equal("error", r.a2.outcome)
    assert.matches("decline failed: Boom", r.a2.detail)
  end)

  it("a gone code: listed again, declined when it is no longer there, an error when it still is", function()
    load()
    local errors = require "invite.errors"
    local gone = errors.new{ code = "NotFound", message = "no such item", status = 404 }
    local c = fake({ item("a1", OUTSIDER), item("a2", OUTSIDER) },
      { reject_error = { a1 = gone, a2 = gone }, relisted = { item("a2", OUTSIDER) } })
    local report = run({ apply = true, policy = function() return "decline" end }, c)
    local r = by_id(report)
    assert.are.equal("declined", r.a1.outcome)
    assert.matches("^already gone when the call arrived %(NotFound%): an earlier attempt", r.a1.detail)
    assert.are.equal("error", r.a2.outcome)
    assert.matches("decline failed: NotFound", r.a2.detail)
    assert.same({ "list", "resources a1", "resources a2", "reject a1", "list", "reject a2", "list" }, c.calls)
  end)

  it("a failed details call ends that invitation as an error, undecided and not acted on", function()
    load()
    local errors = require "invite.errors"
    local c = fake({ item("a1", OUTSIDER) }, { resources_error = errors.new{ code = "Denied", message = "no",
                                                                           status = 403 } })
    local asked = 0
    local report = run({ apply = true, policy = function() asked = asked + 1; return "decline" end }, c)
    assert.equal(0, asked)
    assert.equal("error", report.invitations[1].outcome)
    assert.matches("cannot list what the invitation would share %(ListItemResources%): Denied",
      report.invitations[1].detail)
    assert.same({ "list", "resources a1" }, c.calls)
  end)

  it("an audit log that cannot record stops the calls: nothing unrecorded is sent", function()
    load()
    local c = fake{ item("a1", OUTSIDER), item("a2", OUTSIDER) }
    local audit = memory_audit()
    local n = 0
    function audit:write(e)
      n = n + 1
      if e.event == "call" then return nil, "disk full" end
      self.lines[#self.lines + 1] = e
      return true
    end
    local report = run({ apply = true, audit = audit, policy = function() return "decline" end }, c)
    assert.same({ "list", "resources a1", "resources a2" }, c.calls)
    for _, r in ipairs(report.invitations) do
      assert.equal("error", r.outcome)
      assert.matches("not sent: the audit log could not record", r.detail)
    end
    assert.is_true(n > 0)
  end)

  it("from_organization is unknown (nil) with custom clients: no Organizations call is made", function()
    load()
    local c = fake{ item("a1", OUTSIDER), item("a2", MEMBER) }
    local seen = {}
    -- a custom client: the organisation is unknown, no call is made for it
    local report = run({ policy = function(inv) seen[inv.invitation_id] = inv.from_organization; return "keep" end },
      c)
    assert.is_nil(seen.a1)
    assert.is_nil(seen.a2)
    assert.equal(0, #report.errors)
  end)

  it("a global kind: one scope per account in region 'global', whatever the regions", function()
    load(true)
    local c = fake{ item("a1", OUTSIDER) }
    local report = run({ regions = { "us-east-1", "eu-west-1", "ap-south-1" }, policy = function() return "keep" end },
      c)
    assert.equal(1, #report.scopes)
    assert.equal("global", report.scopes[1].region)
    assert.equal("global", report.invitations[1].region)
    local plan = runner.plan{ services = { "fakekind" }, regions = { "eu-west-1" }, identity = { account = ME },
                              client = function() return c end }
    assert.equal("us-east-1", plan.scopes[1].client_region)
  end)

  it("the declaration is checked: a decline operation that is not declared is named", function()
    package.preload["invite.services.fakekind"] = function()
      local d = declaration()
      d.invitations.decline.operation = "nope"
      return d
    end
    package.loaded["invite.model"], package.loaded["invite.services.fakekind"] = nil, nil
    local m = require "invite.model"
    local ok, err = pcall(m.invitations, "fakekind")
    assert.is_false(ok)
    assert.matches("services/fakekind.lua: invitations.decline: needs operation", tostring(err))
  end)
end)
