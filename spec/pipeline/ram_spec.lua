-- AWS RAM's resource-share invitations (services/ram.lua, invite.sim.ram): the declaration against
-- botocore's model; every operation against the simulator (the example fixture's RAM invitations of
-- staging in us-east-1 and prod in eu-west-1): the wire form, parsing, validation errors that name
-- the field and send nothing, paging, the clientToken the client makes (one per call, the same on
-- every retry, the caller's kept) and the simulator's idempotency, RAM's errors and retries.
local cjson = require "cjson"
local botocore = require "support.botocore"
local sim = require "support.sim"
local invite = require "invite"
local model = require "invite.model"
local retry = require "invite.retry"
local transport = require "invite.transport"

local DEF = model.service("ram").def
local STAGING = "333333333333"
local RAM = sim.RAM_ARNS
local UUID4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

local OPS = { "get_resource_share_invitations", "accept_resource_share_invitation",
              "reject_resource_share_invitation", "list_pending_invitation_resources" }

---------------------------------------------------------------------------------------------------
-- The declaration against botocore's model (the newest botocore a python3 here has: 1.43)
---------------------------------------------------------------------------------------------------

-- Beyond botocore.compare's checks: the enums of the input members.
local CHECKS = {
  member = function(w, m, s, input)
    if input and s.enum then assert.same(s.enum, m.enum, w .. ": enum") end
  end,
}

describe("services/ram.lua against botocore's model", function()
  it("has the model's metadata: rest-json, signing name and endpoint prefix ram", function()
    local b = botocore.model("ram")
    if not b then return pending("no python3 with botocore") end
    local md = b.model.metadata
    assert.same({ md.protocol, md.endpointPrefix, md.signingName or md.endpointPrefix, md.serviceId, md.apiVersion },
      { DEF.protocol, DEF.endpoint_prefix, DEF.signing_name, DEF.service_id, DEF.api_version })
  end)

  for _, key in ipairs(OPS) do
    it(key .. ": method, URI, every input and output member (enums, bounds, required), the paginator", function()
      local b = botocore.model("ram")
      if not b then return pending("no python3 with botocore") end
      local op = model.service("ram").ops[key]
      assert.equal(key, (op.name:gsub("(%l)(%u)", "%1_%2"):lower()))
      botocore.operation(b, op, CHECKS)
      assert.is_nil(b.model.operations[op.name].deprecated)
      assert.is_false(op.deprecated)
      local p = b.paginators[op.name]
      if p then
        assert.same({ p.input_token, p.output_token, p.limit_key, p.result_key },
          { op.paginator.input_token, op.paginator.output_token, op.paginator.limit_key, op.paginator.result_key })
        assert.is_nil(op.paginator.invite_only)
      elseif op.paginator then
        -- ListPendingInvitationResources: pages in the model, no paginator in botocore; invite's says so
        assert.is_true(op.paginator.invite_only)
        assert.same({ "nextToken", "nextToken", "maxResults" },
          { op.paginator.input_token, op.paginator.output_token, op.paginator.limit_key })
      end
    end)
  end

  it("marks clientToken idempotency_token (botocore's model does not: the documented deviation)", function()
    local b = botocore.model("ram")
    if not b then return pending("no python3 with botocore") end
    for _, key in ipairs{ "accept_resource_share_invitation", "reject_resource_share_invitation" } do
      local op = model.service("ram").ops[key]
      local m = op.by_name.clientToken
      assert.is_true(m.idempotency_token, key)
      local shape = b.model.shapes[b.model.operations[op.name].input.shape]
      -- when botocore starts filling it, this deviation and its docs go
      assert.is_nil(shape.members.clientToken.idempotencyToken, key)
    end
    for _, key in ipairs{ "get_resource_share_invitations", "list_pending_invitation_resources" } do
      for _, m in ipairs(model.service("ram").ops[key].input) do assert.is_nil(m.idempotency_token) end
    end
  end)

  it("has botocore's error codes classified as its standard retry mode does", function()
    local b = botocore.model("ram")
    if not b then return pending("no python3 with botocore") end
    local seen = {}
    for _, key in ipairs(OPS) do
      for _, e in ipairs(b.model.operations[model.service("ram").ops[key].name].errors or {}) do
        local shape = b.model.shapes[e.shape]
        seen[e.shape] = shape.error and shape.error.httpStatusCode or 400
      end
    end
    seen.ThrottlingException = b.model.shapes.ThrottlingException.error.httpStatusCode
    local want = { ThrottlingException = "throttling", ServerInternalException = "transient",
                   ServiceUnavailableException = "transient" }
    local n = 0
    for code, status in pairs(seen) do
      assert.equal(want[code], retry.classify{ status = status, code = code, service = "ram" }, code)
      n = n + 1
    end
    assert.is_true(n >= 15, n .. " codes")
    assert.equal(400, seen.IdempotentParameterMismatchException)
    assert.equal(429, seen.ThrottlingException)
  end)
end)

---------------------------------------------------------------------------------------------------
-- Validation: every bad input names the field and the rule, and nothing is sent
---------------------------------------------------------------------------------------------------

describe("ram client validation", function()
  local sent = 0
  local c = invite.ram.client{ region = "us-east-1", credentials = { access_key_id = "AKIDEXAMPLE",
    secret_access_key = "secret" }, transport = function() sent = sent + 1; return nil, { kind = "connect" } end }

  local CASES = {
    { "accept_resource_share_invitation", {}, "resourceShareInvitationArn: missing required parameter" },
    { "reject_resource_share_invitation", { resourceShareInvitationArn = 5 },
      "resourceShareInvitationArn: must be a string, got 5 (a number)" },
    { "accept_resource_share_invitation", { resourceShareInvitationArn = RAM.org, clientToken = 7 },
      "clientToken: must be a string, got 7 (a number)" },
    { "reject_resource_share_invitation", { resourceShareInvitationArn = RAM.org, clientToken = "a\0b" },
      "clientToken: must not contain a NUL byte" },
    { "accept_resource_share_invitation", { resourceShareInvitationArn = RAM.org, clienttoken = "x" },
      'unknown parameter "clienttoken" (did you mean "clientToken"?)' },
    { "get_resource_share_invitations", { maxResults = 0 }, "maxResults: must be an integer between 1 and 500, got 0" },
    { "get_resource_share_invitations", { maxResults = 501 }, "maxResults: must be an integer between 1 and 500" },
    { "get_resource_share_invitations", { resourceShareArns = "arn" }, "resourceShareArns: must be a list" },
    { "get_resource_share_invitations", { resourceShareInvitationArns = { RAM.org, 3 } },
      "resourceShareInvitationArns[2]: must be a string" },
    { "list_pending_invitation_resources", { resourceShareInvitationArn = RAM.org, resourceRegionScope = "EVERY" },
      'resourceRegionScope: must be one of ALL, REGIONAL, GLOBAL, got "EVERY"' },
    { "list_pending_invitation_resources", {}, "resourceShareInvitationArn: missing required parameter" },
    { "list_pending_invitation_resources", { resourceShareInvitationArn = RAM.org, maxResults = 1.5 },
      "maxResults: must be an integer between 1 and 500" },
  }
  for i, case in ipairs(CASES) do
    it(i .. ": " .. case[1] .. " " .. case[3], function()
      local res, err = c[case[1]](c, case[2])
      assert.is_nil(res)
      assert.equal("ValidationError", err.code)
      assert.truthy(err.message:find("ram." .. case[1], 1, true), err.message)
      assert.truthy(err.message:find(case[3], 1, true), err.message)
      assert.equal(0, sent)
    end)
  end

  it("a token the client makes is not checked against the caller's table (which it leaves alone)", function()
    local p = { resourceShareInvitationArn = RAM.org }
    local d = invite.ram.client{ region = "us-east-1", dry_run = true,
      credentials = { access_key_id = "AKIDEXAMPLE", secret_access_key = "secret" } }
    local r = assert(d:accept_resource_share_invitation(p))
    assert.is_nil(p.clientToken)
    assert.truthy(cjson.decode(r.body).clientToken:find(UUID4))
  end)
end)

---------------------------------------------------------------------------------------------------
-- Against the simulator
---------------------------------------------------------------------------------------------------

-- A transport that records every attempt's request and answer (over the curl transport).
local function recording()
  local curl = transport.new("curl", { connect_timeout_ms = 5000, timeout_ms = 10000 })
  local t = { kind = "recording", attempts = {} }
  function t.request(_, req)
    local res, err = curl:request(req)
    t.attempts[#t.attempts + 1] = { method = req.method, url = req.url, headers = req.headers, body = req.body,
                                    status = res and res.status, answer = res and res.body,
                                    answer_headers = res and res.headers }
    return res, err
  end
  return t
end

local function header(headers, name)
  for _, h in ipairs(headers) do
    if h[1]:lower() == name then return h[2] end
  end
end

local function arns(list) return sim.pluck(list, "resourceShareInvitationArn") end

describe("ram client against invite sim", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)
  before_each(function() s:fresh() end)

  local function client(o)
    o = o or {}
    local t = recording()
    local opts = { region = o.region or "us-east-1", endpoint = s.endpoint,
                   credentials = sim.credentials(o.who or "staging"),
                   transport = t, sleep = function() end, max_attempts = o.max_attempts }
    return invite.ram.client(opts), t
  end

  it("get_resource_share_invitations: POST /getresourceshareinvitations, every status, parsed", function()
    local c, t = client()
    local res = assert(c:get_resource_share_invitations{})
    assert.same({ RAM.org, RAM.expired, RAM.accepted, RAM.outside }, arns(res.resourceShareInvitations))
    local a = t.attempts[1]
    assert.same({ "POST", s.endpoint .. "/getresourceshareinvitations", "{}", "application/json" },
      { a.method, a.url, a.body, header(a.headers, "content-type") })
    assert.truthy(header(a.headers, "authorization"):find("/us-east-1/ram/aws4_request", 1, true))
    -- on the wire the timestamp is epoch seconds; parsed, an ISO 8601 time
    local wire = cjson.decode(a.answer).resourceShareInvitations[1]
    assert.equal("number", type(wire.invitationTimestamp))
    local inv = res.resourceShareInvitations[1]
    assert.equal(os.date("!%Y-%m-%dT%H:%M:%SZ", wire.invitationTimestamp), inv.invitationTimestamp)
    assert.same({ "org-network", "arn:aws:ram:us-east-1:111111111111:resource-share/org-network-0001", "111111111111",
                  STAGING, "PENDING" },
      { inv.resourceShareName, inv.resourceShareArn, inv.senderAccountId, inv.receiverAccountId, inv.status })
    local statuses = {}
    for _, i in ipairs(res.resourceShareInvitations) do statuses[#statuses + 1] = i.status end
    assert.same({ "PENDING", "EXPIRED", "ACCEPTED", "PENDING" }, statuses)
    -- a share ARN the fixture does not give: the invitation's uuid under resource-share/
    assert.equal("arn:aws:ram:us-east-1:777788889999:resource-share/5c1e9a4e-8f0b-4b8e-9a31-2b7d8f6c1a01",
      res.resourceShareInvitations[4].resourceShareArn)
    assert.is_nil(res.nextToken)
    assert.equal(200, res.ResponseMetadata.HTTPStatusCode)
    -- another region, another account: its own
    local eu = client{ region = "eu-west-1", who = "prod" }
    assert.same({ RAM.eu }, arns(assert(eu:get_resource_share_invitations{}).resourceShareInvitations))
    assert.same({}, assert(client{ who = "prod" }:get_resource_share_invitations{}).resourceShareInvitations)
  end)

  it("pages by maxResults and nextToken (list_all_*, each_*, boto3's PaginationConfig)", function()
    local c, t = client()
    local all = assert(c:list_all_resource_share_invitations{ maxResults = 1 })
    assert.same({ RAM.org, RAM.expired, RAM.accepted, RAM.outside }, arns(all))
    assert.equal(4, #t.attempts)
    local b2 = cjson.decode(t.attempts[2].body)
    assert.equal(1, b2.maxResults)
    assert.is_string(b2.nextToken)
    local seen = {}
    for inv, err in c:each_resource_share_invitation{ PaginationConfig = { PageSize = 3 } } do
      assert.is_nil(err)
      seen[#seen + 1] = inv.status
    end
    assert.same({ "PENDING", "EXPIRED", "ACCEPTED", "PENDING" }, seen)
    assert.equal(2, #assert(c:list_all_resource_share_invitations{ PaginationConfig = { MaxItems = 2 } }))
    -- a token of another list is refused by the service
    local _, err = c:get_resource_share_invitations{ nextToken = "bm90IGEgdG9rZW4=" }
    assert.same({ "InvalidNextTokenException", 400, false }, { err.code, err.status, err.retryable })
  end)

  it("filters by invitation ARNs and share ARNs; unknown and malformed ARNs are RAM's errors", function()
    local c = client()
    local res = assert(c:get_resource_share_invitations{ resourceShareInvitationArns = { RAM.outside, RAM.expired } })
    assert.same({ RAM.expired, RAM.outside }, arns(res.resourceShareInvitations))
    res = assert(c:get_resource_share_invitations{
      resourceShareArns = { "arn:aws:ram:us-east-1:111111111111:resource-share/org-network-0001" } })
    assert.same({ RAM.org }, arns(res.resourceShareInvitations))
    local _, err = c:get_resource_share_invitations{ resourceShareInvitationArns = { RAM.eu } }
    assert.same({ "ResourceShareInvitationArnNotFoundException", 400 }, { err.code, err.status })
    assert.truthy(err.message:find(RAM.eu, 1, true))
    _, err = c:get_resource_share_invitations{ resourceShareInvitationArns = { "subnet-1" } }
    assert.same({ "MalformedArnException", 400 }, { err.code, err.status })
  end)

  it("accept: PENDING -> ACCEPTED (still listed); the answer holds the invitation and the token", function()
    local c, t = client()
    local res = assert(c:accept_resource_share_invitation{ resourceShareInvitationArn = RAM.outside })
    local sent = cjson.decode(t.attempts[1].body)
    assert.same({ "POST", s.endpoint .. "/acceptresourceshareinvitation" }, { t.attempts[1].method, t.attempts[1].url })
    assert.equal(RAM.outside, sent.resourceShareInvitationArn)
    assert.truthy(sent.clientToken:find(UUID4), sent.clientToken)
    assert.equal(sent.clientToken, res.clientToken)
    assert.same({ RAM.outside, "ACCEPTED", "777788889999" }, { res.resourceShareInvitation.resourceShareInvitationArn,
      res.resourceShareInvitation.status, res.resourceShareInvitation.senderAccountId })
    local listed = assert(c:get_resource_share_invitations{ resourceShareInvitationArns = { RAM.outside } })
    assert.equal("ACCEPTED", listed.resourceShareInvitations[1].status)
    local entry = s:requests()[1]
    assert.same({ "ram", "AcceptResourceShareInvitation", 200, STAGING }, { entry.service, entry.operation,
      entry.status, entry.account })
  end)

  it("reject: PENDING -> REJECTED (still listed); not-pending ones are RAM's errors, never retried", function()
    local c, t = client()
    local res = assert(c:reject_resource_share_invitation{ resourceShareInvitationArn = RAM.org })
    assert.equal("REJECTED", res.resourceShareInvitation.status)
    assert.equal(s.endpoint .. "/rejectresourceshareinvitation", t.attempts[1].url)
    assert.equal(4, #assert(c:list_all_resource_share_invitations{}))
    local CASES = {
      { "accept_resource_share_invitation", RAM.org, "ResourceShareInvitationAlreadyRejectedException" },
      { "reject_resource_share_invitation", RAM.org, "ResourceShareInvitationAlreadyRejectedException" },
      { "accept_resource_share_invitation", RAM.accepted, "ResourceShareInvitationAlreadyAcceptedException" },
      { "reject_resource_share_invitation", RAM.accepted, "ResourceShareInvitationAlreadyAcceptedException" },
      { "accept_resource_share_invitation", RAM.expired, "ResourceShareInvitationExpiredException" },
      { "reject_resource_share_invitation", RAM.expired, "ResourceShareInvitationExpiredException" },
      { "accept_resource_share_invitation", RAM.eu, "ResourceShareInvitationArnNotFoundException" },
      { "reject_resource_share_invitation", "arn:aws:ec2:us-east-1:1:subnet/x", "MalformedArnException" },
    }
    for _, case in ipairs(CASES) do
      local before = #t.attempts
      local r, err = c[case[1]](c, { resourceShareInvitationArn = case[2] })
      assert.is_nil(r)
      assert.same({ case[3], 400, false, "ram" }, { err.code, err.status, err.retryable, err.service }, case[1])
      assert.equal(before + 1, #t.attempts, "one attempt: " .. case[3])
    end
  end)

  it("a new token per call; the caller's token kept; the same token and call repeat the first answer", function()
    local c, t = client()
    assert(c:accept_resource_share_invitation{ resourceShareInvitationArn = RAM.outside })
    local _, err = c:accept_resource_share_invitation{ resourceShareInvitationArn = RAM.outside }
    assert.equal("ResourceShareInvitationAlreadyAcceptedException", err.code)
    local t1, t2 = cjson.decode(t.attempts[1].body).clientToken, cjson.decode(t.attempts[2].body).clientToken
    assert.truthy(t2:find(UUID4))
    assert.are_not.equal(t1, t2)
    -- the caller's own token is sent as given, and repeating the call with it repeats the answer
    local mine = "caller-token-0001"
    local r1 = assert(c:reject_resource_share_invitation{ resourceShareInvitationArn = RAM.org, clientToken = mine })
    assert.equal(mine, cjson.decode(t.attempts[3].body).clientToken)
    local r2 = assert(c:reject_resource_share_invitation{ resourceShareInvitationArn = RAM.org, clientToken = mine })
    assert.same(r1.resourceShareInvitation, r2.resourceShareInvitation)
    assert.same({ mine, "REJECTED" }, { r2.clientToken, r2.resourceShareInvitation.status })
    -- the same token with other parameters (another operation, another invitation)
    local _, e1 = c:accept_resource_share_invitation{ resourceShareInvitationArn = RAM.org, clientToken = mine }
    local _, e2 = c:reject_resource_share_invitation{ resourceShareInvitationArn = RAM.outside, clientToken = mine }
    for _, e in ipairs{ e1, e2 } do
      assert.same({ "IdempotentParameterMismatchException", 400, false }, { e.code, e.status, e.retryable })
    end
    -- a token RAM refuses
    local _, e3 = c:accept_resource_share_invitation{ resourceShareInvitationArn = RAM.outside,
      clientToken = string.rep("x", 65) }
    assert.equal("InvalidClientTokenException", e3.code)
  end)

  it("a retried accept sends the same token on every attempt, so a lost answer is repeated, not refused", function()
    s:set_faults("first 1 ram:AcceptResourceShareInvitation lost; first 1 ram:RejectResourceShareInvitation 503")
    local c, t = client()
    local res = assert(c:accept_resource_share_invitation{ resourceShareInvitationArn = RAM.outside })
    -- the request went twice (resent by the client, or by libcurl itself when the lost answer was on a
    -- reused connection: the same bytes either way), and the second got the first one's answer
    assert.equal(#t.attempts, 1 + res.ResponseMetadata.RetryAttempts)
    assert.equal(t.attempts[1].body, t.attempts[#t.attempts].body)
    assert.same({ "ACCEPTED", cjson.decode(t.attempts[1].body).clientToken },
      { res.resourceShareInvitation.status, res.clientToken })
    -- a 503 in RAM's style is retried with the same token too
    local before = #t.attempts
    res = assert(c:reject_resource_share_invitation{ resourceShareInvitationArn = RAM.org })
    assert.equal(before + 2, #t.attempts)
    assert.equal(1, res.ResponseMetadata.RetryAttempts)
    t.attempts = { t.attempts[1], t.attempts[2], t.attempts[before + 1], t.attempts[before + 2] }
    assert.equal(503, t.attempts[3].status)
    assert.equal("ServiceUnavailableException", header(t.attempts[3].answer_headers, "x-amzn-errortype"))
    assert.is_string(cjson.decode(t.attempts[3].answer).message)
    assert.equal(t.attempts[3].body, t.attempts[4].body)
    assert.equal("REJECTED", res.resourceShareInvitation.status)
    -- without the fault the first token's answer is the first answer: the invitation was accepted once
    local entries = {}
    for _, e in ipairs(s:requests()) do entries[#entries + 1] = ("%s %d"):format(e.operation, e.status) end
    assert.same({ "AcceptResourceShareInvitation 0", "AcceptResourceShareInvitation 200",
                  "RejectResourceShareInvitation 503", "RejectResourceShareInvitation 200" }, entries)
  end)

  it("throttling (429 ThrottlingException) and ServerInternalException (500) are retried; faults name ram", function()
    s:set_faults("first 2 ram:GetResourceShareInvitations throttle; first 1 ram:ListPendingInvitationResources 500")
    local c, t = client()
    local res = assert(c:get_resource_share_invitations{})
    assert.equal(2, res.ResponseMetadata.RetryAttempts)
    assert.same({ 429, 429, 200 }, { t.attempts[1].status, t.attempts[2].status, t.attempts[3].status })
    assert.same({ message = "Rate exceeded" }, cjson.decode(t.attempts[1].answer))
    res = assert(c:list_pending_invitation_resources{ resourceShareInvitationArn = RAM.outside })
    assert.equal(1, res.ResponseMetadata.RetryAttempts)
    assert.equal(500, t.attempts[4].status)
    s:set_faults("always ram throttle")
    local c1 = client{ max_attempts = 1 }
    local _, err = c1:get_resource_share_invitations{}
    assert.same({ "ThrottlingException", 429, true }, { err.code, err.status, err.retryable })
  end)

  it("list_pending_invitation_resources: a PENDING invitation's resources, typed, paged; other statuses refused",
    function()
    local c, t = client()
    local res = assert(c:list_pending_invitation_resources{ resourceShareInvitationArn = RAM.org })
    assert.equal(s.endpoint .. "/listpendinginvitationresources", t.attempts[1].url)
    local types, arns_ = {}, {}
    for i, r in ipairs(res.resources) do
      types[i], arns_[i] = r.type, r.arn
      assert.same({ "arn:aws:ram:us-east-1:111111111111:resource-share/org-network-0001", "AVAILABLE", "REGIONAL" },
        { r.resourceShareArn, r.status, r.resourceRegionScope })
      assert.truthy(r.creationTime:find("^%d%d%d%d%-%d%d%-%d%dT"))
    end
    assert.same({ "ec2:Subnet", "ec2:Subnet", "ec2:TransitGateway", "route53resolver:ResolverRule" }, types)
    assert.equal("arn:aws:ec2:us-east-1:111111111111:transit-gateway/tgw-0a1b2c3d4e5f60718", arns_[3])
    local all = assert(c:list_all_pending_invitation_resources{ resourceShareInvitationArn = RAM.org, maxResults = 1 })
    assert.equal(4, #all)
    assert.equal(1 + 4, #t.attempts)
    assert.same(res.resources, all)
    assert.same({}, assert(c:list_pending_invitation_resources{ resourceShareInvitationArn = RAM.org,
      resourceRegionScope = "GLOBAL" }).resources)
    assert.equal(4, #assert(c:list_pending_invitation_resources{ resourceShareInvitationArn = RAM.org,
      resourceRegionScope = "REGIONAL" }).resources)
    -- a resource type the fixture gives (resource_types) wins over the derived one: the accepted share's
    -- invitation is no longer pending, so it is refused; the statuses RAM refuses, and the simulator's
    -- choice for ACCEPTED (InvalidParameterException)
    local CASES = {
      { RAM.accepted, "InvalidParameterException" },
      { RAM.expired, "ResourceShareInvitationExpiredException" },
      { RAM.eu, "ResourceShareInvitationArnNotFoundException" },
      { "not-an-arn", "MalformedArnException" },
    }
    for _, case in ipairs(CASES) do
      local r, err = c:list_pending_invitation_resources{ resourceShareInvitationArn = case[1] }
      assert.is_nil(r)
      assert.same({ case[2], 400, false }, { err.code, err.status, err.retryable }, case[1])
    end
    assert(c:reject_resource_share_invitation{ resourceShareInvitationArn = RAM.outside })
    local _, err = c:list_pending_invitation_resources{ resourceShareInvitationArn = RAM.outside }
    assert.equal("ResourceShareInvitationAlreadyRejectedException", err.code)
    _, err = c:list_pending_invitation_resources{ resourceShareInvitationArn = RAM.org, nextToken = "eA==" }
    assert.equal("InvalidNextTokenException", err.code)
  end)

  it("the simulator checks what the client would not send (maxResults, a missing ARN, bad JSON)", function()
    local function raw(path, body)
      local r = assert(s:call{ service = "ram", region = "us-east-1", method = "POST", path = path, body = body,
        headers = { { "Content-Type", "application/json" } }, creds = sim.credentials("staging") })
      return { r.status, r.headers["x-amzn-errortype"] }, r.json
    end
    local CASES = {
      { "/getresourceshareinvitations", '{"maxResults":501}', 400, "InvalidMaxResultsException", "maxResults" },
      { "/getresourceshareinvitations", '{"resourceShareArns":"x"}', 400, "InvalidParameterException",
        "resourceShareArns" },
      { "/acceptresourceshareinvitation", "{}", 400, "MissingRequiredParameterException",
        "resourceShareInvitationArn" },
      { "/listpendinginvitationresources", "{not json", 400, "InvalidParameterException", "JSON" },
      { "/nosuchoperation", "{}", 404, "UnknownOperationException", "/nosuchoperation" },
    }
    for _, case in ipairs(CASES) do
      local got, json = raw(case[1], case[2])
      assert.same({ case[3], case[4] }, got, case[1])
      assert.truthy(json.message:find(case[5], 1, true), json.message)
    end
  end)
end)
