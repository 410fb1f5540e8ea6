-- Amazon Detective (lua/invite/services/detective.lua) on the one pipeline: the endpoint
-- (api.detective.<region>), the request wire form of every operation, the GraphArn rule (the model's
-- pattern, held to Python's re), bad input refused with nothing sent, and the client against the
-- simulator (invite.sim.detective): every operation's answer parsed (MemberDetail with its maps),
-- paging with MaxResults/NextToken (invite's own paginator: botocore has none) stable under
-- rejects, the lifecycle and its errors, retries on throttling and 500, the list-shaping faults.
local envh = require "support.env"
local botocore = require "support.botocore"
local sim = require "support.sim"
local config = require "invite.config"
local retry = require "invite.retry"
local cjson = require "cjson"

local DEF = require "invite.services.detective"

local e
before_each(function() e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" } end)
after_each(function() envh.cleanup() end)

local MEMBER, ADMIN, OTHER = "222222222222", "111111111111", "333333333333"
local MEMBER_KEY = { id = "AKIASIMDETECTIVEMEM1", secret = "detective-spec-member-secret-FAKE" }
local ADMIN_KEY = { id = "AKIASIMDETECTIVEADM1", secret = "detective-spec-admin-secret-FAKE" }
local function creds(key) return { access_key_id = key.id, secret_access_key = key.secret } end

local function graph(region, inviter, n)
  return ("arn:aws:detective:%s:%s:graph:%032x"):format(region, inviter, n)
end

describe("detective endpoint", function()
  local function resolve(o)
    return assert(config.resolve(DEF, sim.with({ env = e.vars }, o)))
  end

  it("is https://api.detective.<region>.<dns suffix>, signed for the region; FIPS api.detective-fips", function()
    local c = resolve{ region = "eu-west-1" }
    assert.are.same({ "https://api.detective.eu-west-1.amazonaws.com", "eu-west-1" },
      { c.endpoint_url, c.signing_region })
    assert.are.equal("https://api.detective.cn-north-1.amazonaws.com.cn", resolve{ region = "cn-north-1" }.endpoint_url)
    assert.are.equal("https://api.detective-fips.us-gov-west-1.amazonaws.com",
      resolve{ region = "us-gov-west-1", use_fips_endpoint = true }.endpoint_url)
  end)

  it("AWS_ENDPOINT_URL_DETECTIVE (boto3's client name, not the endpoint prefix) and [services] detective", function()
    e:set("AWS_ENDPOINT_URL_DETECTIVE", "http://127.0.0.1:4566")
    local c = resolve{ region = "eu-west-1" }
    assert.are.same({ "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_DETECTIVE", "eu-west-1" },
      { c.endpoint_url, c.endpoint_source, c.signing_region })
    e:unset("AWS_ENDPOINT_URL_DETECTIVE")
    e:write(".aws/config", "[default]\nservices = local\n[services local]\ndetective =\n"
      .. "  endpoint_url = http://127.0.0.1:4567\n")
    c = resolve{ region = "eu-west-1" }
    assert.are.same({ "http://127.0.0.1:4567", "[services local] detective.endpoint_url" },
      { c.endpoint_url, c.endpoint_source })
  end)

  it("the region table lists api.detective (21 aws regions in botocore 1.43)", function()
    local regions = require "invite.regions"
    assert.is_true(regions.listed("detective"))
    assert.is_true(regions.exists("detective", "eu-west-1"))
    assert.is_true(#regions.of("detective", "aws") >= 21)
  end)
end)

describe("detective declaration", function()
  it("has botocore 1.43's metadata, operations and GraphArn pattern; list_invitations' paginator is invite's own",
    function()
    local b = botocore.model("detective")
    if not b then return pending("no python3 with botocore") end
    local md = b.model.metadata
    assert.same({ md.protocol, md.endpointPrefix, md.signingName, md.serviceId, md.apiVersion },
      { DEF.protocol, DEF.endpoint_prefix, DEF.signing_name, DEF.service_id, DEF.api_version })
    local model = require "invite.model"
    local checks = { member = function(w, m, s, input)
      if s.enum then assert.same(s.enum, m.enum, w .. ": enum") end
      if input and s.pattern then assert.are.equal(s.pattern, m.pattern, w .. ": pattern") end
      assert.are.equal(s.sensitive == true, m.sensitive == true, w .. ": sensitive")
    end }
    for _, key in ipairs{ "list_invitations", "accept_invitation", "reject_invitation", "disassociate_membership" } do
      local op = model.service("detective").ops[key]
      local mop = b.model.operations[op.name]
      assert.same({ mop.http.method, mop.http.requestUri }, { op.method, op.uri }, key)
      botocore.compare(op.name .. " input", op.input, b.model.shapes, b.model.shapes[mop.input.shape], true, checks)
      local out = mop.output and b.model.shapes[mop.output.shape] or { members = {} }
      botocore.compare(op.name .. " output", op.output, b.model.shapes, out, false, checks)
    end
    assert.is_nil(b.paginators.ListInvitations)
    assert.is_true(DEF.paginators.list_invitations.invite_only)
  end)

  it("GraphArn: the Lua rule agrees with Python's re on the model's pattern", function()
    local samples = {
      graph("us-east-1", ADMIN, 1), graph("eu-west-1", ADMIN, 0xabcdef), "arn:aws-us-gov:detective:us-gov-west-1:"
        .. ADMIN .. ":graph:" .. ("a"):rep(32),
      "arn:aws-cn:detective:cn-north-1:" .. ADMIN .. ":graph:" .. ("0"):rep(32),
      "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:" .. ("A"):rep(32),
      "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:" .. ("a"):rep(31),
      "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:" .. ("a"):rep(33),
      "arn:aws:detective:us-east-1:12345678901:graph:" .. ("a"):rep(32),
      "arn:aws:detective:u:" .. ADMIN .. ":graph:" .. ("a"):rep(32),
      "arn:aws:detective:" .. ("r"):rep(21) .. ":" .. ADMIN .. ":graph:" .. ("a"):rep(32),
      "arn:aws-abcdefghijk:detective:us-east-1:" .. ADMIN .. ":graph:" .. ("a"):rep(32),
      "arn:aws:guardduty:us-east-1:" .. ADMIN .. ":graph:" .. ("a"):rep(32),
      "arn:aws:detective:us_east-1:" .. ADMIN .. ":graph:" .. ("a"):rep(32),
      " " .. graph("us-east-1", ADMIN, 1), graph("us-east-1", ADMIN, 1) .. "\n", "", "graph",
    }
    local got = botocore.first([[
import json, re, sys
samples = json.load(sys.stdin)
print(json.dumps([re.match(r"^arn:aws[-\w]{0,10}?:detective:[-\w]{2,20}?:\d{12}?:graph:[abcdef\d]{32}?$", s)
                  is not None and not s.endswith("\n") for s in samples]))
]], cjson.encode(samples))
    if not got then return pending("no python3") end
    local sim_rule = require("invite.sim.detective").is_graph_arn
    local spec = require("invite.model").service("detective").ops.accept_invitation.input[1]
    for i, s in ipairs(samples) do
      assert.are.equal(got[i], spec.matches(s), s)
      assert.are.equal(got[i], sim_rule(s), s)
    end
  end)

  it("every error code of the model classifies as botocore's standard mode does", function()
    local want = {
      { 400, "ValidationException", nil }, { 404, "ResourceNotFoundException", nil },
      { 409, "ConflictException", nil }, { 403, "AccessDeniedException", nil },
      { 500, "InternalServerException", "transient" }, { 402, "ServiceQuotaExceededException", nil },
      { 429, "TooManyRequestsException", "throttling" }, { 400, "TooManyRequestsException", "throttling" },
      { 503, "ServiceUnavailableException", "transient" },
    }
    for _, w in ipairs(want) do
      assert.are.equal(w[3], retry.classify_response(w[1], w[2], "detective"), w[2] .. " " .. w[1])
    end
  end)
end)

---------------------------------------------------------------------------------------------------
-- The request on the wire (dry run: the signed request, unsent)
---------------------------------------------------------------------------------------------------

describe("detective requests", function()
  local invite = require "invite"
  local function dry()
    return invite.detective.client{ region = "eu-west-1", dry_run = true, env = e.vars,
                                    credentials = creds(MEMBER_KEY) }
  end
  local function header(req, name)
    for _, h in ipairs(req.headers) do if h[1]:lower() == name then return h[2] end end
  end

  it("every operation: method, path, JSON body, signed for detective in the region", function()
    local arn = graph("eu-west-1", ADMIN, 7)
    local cases = {
      { "list_invitations", { MaxResults = 50, NextToken = "tok" }, "POST", "/invitations/list",
        { MaxResults = 50, NextToken = "tok" } },
      { "list_invitations", {}, "POST", "/invitations/list", {} },
      { "accept_invitation", { GraphArn = arn }, "PUT", "/invitation", { GraphArn = arn } },
      { "reject_invitation", { GraphArn = arn }, "POST", "/invitation/removal", { GraphArn = arn } },
      { "disassociate_membership", { GraphArn = arn }, "POST", "/membership/removal", { GraphArn = arn } },
    }
    for _, c in ipairs(cases) do
      local req = assert(dry()[c[1]](dry(), c[2]))
      assert.are.same({ c[3], "https://api.detective.eu-west-1.amazonaws.com" .. c[4], "application/json" },
        { req.method, req.url, header(req, "content-type") }, c[1])
      assert.are.same(c[5], cjson.decode(req.body), c[1])
      assert.truthy(header(req, "authorization"):find("/eu-west-1/detective/aws4_request", 1, true), c[1])
      assert.are.equal("api.detective.eu-west-1.amazonaws.com", header(req, "host"))
    end
    local req = assert(dry():list_invitations{ MaxResults = 50 })
    assert.are.equal('{"MaxResults":50}', req.body)
  end)

  it("bad input is a ValidationError naming the field and the rule, nothing built", function()
    local c = dry()
    local cases = {
      { "accept_invitation", {}, "GraphArn: missing required parameter" },
      { "reject_invitation", { GraphArn = "arn:aws:detective:us-east-1:1:graph:x" }, "GraphArn: must be a behavior "
        .. "graph ARN, arn:aws:detective:<region>:<12-digit account>:graph:<32 of 0-9a-f> (the pattern ^arn:aws" },
      { "disassociate_membership", { GraphArn = 42 }, "GraphArn: must be a string" },
      { "list_invitations", { MaxResults = 0 }, "MaxResults: must be an integer between 1 and 200, got 0" },
      { "list_invitations", { MaxResults = 201 }, "MaxResults: must be an integer between 1 and 200, got 201" },
      { "list_invitations", { NextToken = "" }, "NextToken: must be at least 1 characters long" },
      { "list_invitations", { NextToken = ("t"):rep(1025) }, "NextToken: must be at most 1024 characters long" },
      { "list_invitations", { MaxResult = 5 }, 'did you mean "MaxResults"' },
      { "list_all_invitations", { MaxResults = 201 }, "MaxResults" },
    }
    for _, case in ipairs(cases) do
      local res, err = c[case[1]](c, case[2])
      assert.is_nil(res, case[1])
      assert.are.equal("ValidationError", err.code, case[1])
      assert.truthy(tostring(err):find(case[3], 1, true), tostring(err))
    end
  end)
end)

---------------------------------------------------------------------------------------------------
-- The client against the simulator
---------------------------------------------------------------------------------------------------

local invite = require "invite"

local R = "us-east-1"
local G = {
  admin = graph(R, ADMIN, 1),           -- ENABLED: the org's admin graph, accepted
  org = graph(R, "444444444444", 2),    -- ENABLED, ORGANIZATION membership
  disabled = graph(R, "444444444444", 3), -- ACCEPTED_BUT_DISABLED
  verifying = graph(R, "555555555555", 4), -- VERIFICATION_IN_PROGRESS: never sent, not listed
}
-- 8 INVITED ones: inviters 9000000000(01..04), two graphs each
local PENDING = {}
for i = 1, 8 do
  local inviter = ("9000000000%02d"):format(math.floor((i + 1) / 2))
  PENDING[i] = graph(R, inviter, 0x100 + i)
end

local function fixture()
  local inv = {
    { service = "detective", region = R, account = MEMBER, inviter = ADMIN, id = G.admin, status = "ENABLED",
      invited_at = "2026-01-02T03:04:05Z", email = "prod@example.com" },
    { service = "detective", region = R, account = MEMBER, inviter = "444444444444", id = G.org, status = "ENABLED",
      invited_at = "now-3d", invitation_type = "ORGANIZATION" },
    { service = "detective", region = R, account = MEMBER, inviter = "444444444444", id = G.disabled,
      status = "ACCEPTED_BUT_DISABLED", invited_at = "now-4d" },
    { service = "detective", region = R, account = MEMBER, inviter = "555555555555", id = G.verifying,
      status = "VERIFICATION_IN_PROGRESS", invited_at = "now-1d" },
    { service = "detective", region = "eu-west-1", account = MEMBER, inviter = ADMIN, id = graph("eu-west-1", ADMIN, 9),
      invited_at = "now-1d" },
    { service = "detective", region = R, account = OTHER, inviter = ADMIN, id = graph(R, ADMIN, 10),
      invited_at = "now" },
  }
  for i, arn in ipairs(PENDING) do
    inv[#inv + 1] = { service = "detective", region = R, account = MEMBER, inviter = arn:match(":(%d+):graph:"),
                      id = arn, invited_at = "now-" .. i .. "d" }
  end
  return {
    accounts = {
      { id = ADMIN, name = "org-admin", access_keys = { ADMIN_KEY } },
      { id = MEMBER, name = "prod", access_keys = { MEMBER_KEY } },
      { id = OTHER, name = "staging" },
    },
    invitations = inv,
  }
end

-- what the member lists in us-east-1, in the simulator's order (inviter, then GraphArn)
local LISTED = { G.admin, G.org, G.disabled }
for _, arn in ipairs(PENDING) do LISTED[#LISTED + 1] = arn end

local function arns(list) return sim.pluck(list, "GraphArn") end

describe("detective client against invite sim", function()
  local s
  local function client(o)
    return invite.detective.client(sim.with({ endpoint = s.endpoint, region = R, credentials = creds(MEMBER_KEY),
                                               env = e.vars, sleep = function() end }, o))
  end
  setup(function() s = sim.start{ fixtures = fixture() } end)
  teardown(function() s:stop() end)
  before_each(function() s:fresh() end)

  it("list_invitations: every MemberDetail member parsed (maps included), INVITED and accepted ones only", function()
    local page = assert(client():list_invitations{})
    assert.are.same(LISTED, arns(page.Invitations))
    assert.is_nil(page.NextToken)
    local m = page.Invitations[1]
    assert.are.same({
      AccountId = MEMBER, AdministratorId = ADMIN, MasterId = ADMIN, GraphArn = G.admin,
      EmailAddress = "prod@example.com", Status = "ENABLED", InvitationType = "INVITATION",
      InvitedTime = "2026-01-02T03:04:05.000Z", UpdatedTime = "2026-01-02T03:04:05.000Z",
      VolumeUsageByDatasourcePackage = { DETECTIVE_CORE = { VolumeUsageInBytes = 0,
                                                            VolumeUsageUpdateTime = "2026-01-02T03:04:05.000Z" } },
      DatasourcePackageIngestStates = { DETECTIVE_CORE = "STARTED" },
    }, m)
    assert.are.equal(math.type and "integer" or "number",
      math.type and math.type(m.VolumeUsageByDatasourcePackage.DETECTIVE_CORE.VolumeUsageInBytes) or "number")
    assert.are.same({ "ORGANIZATION", "ACCEPTED_BUT_DISABLED", "VOLUME_UNKNOWN" },
      { page.Invitations[2].InvitationType, page.Invitations[3].Status, page.Invitations[3].DisabledReason })
    local p = page.Invitations[4]
    assert.are.same({ "INVITED", MEMBER .. "@accounts.sim.invalid", "900000000001" },
      { p.Status, p.EmailAddress, p.AdministratorId })
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", p.InvitedTime)
    assert.is_nil(p.VolumeUsageByDatasourcePackage)
    -- another region, another account
    assert.are.same({ graph("eu-west-1", ADMIN, 9) }, arns(assert(client{ region = "eu-west-1" }:list_invitations{})
      .Invitations))
    local r = s:requests()
    assert.are.same({ "POST", "/invitations/list", "detective", R, MEMBER, 200 },
      { r[1].method, r[1].path, r[1].service, r[1].region, r[1].account, r[1].status })
    assert.are.equal("ListInvitations", r[1].operation)
  end)

  it("pages at MaxResults 3: 4 requests; list_all_invitations and each_invitation follow NextToken", function()
    local c = client()
    local pages = {}
    for page, err in c:paginate("list_invitations", { MaxResults = 3 }) do
      assert.is_truthy(page, tostring(err))
      pages[#pages + 1] = #page.Invitations
    end
    assert.are.same({ 3, 3, 3, 2 }, pages)
    assert.are.same(LISTED, arns(assert(c:list_all_invitations{ MaxResults = 3 })))
    local n = 0
    for inv, err in c:each_invitation{ MaxResults = 5 } do
      assert.is_truthy(inv, tostring(err))
      n = n + 1
    end
    assert.are.equal(11, n)
    assert.are.equal(4 + 4 + 3, s:count("ListInvitations"))
  end)

  it("paging is stable under rejects between pages: nothing repeated, nothing skipped", function()
    local c = client()
    local p1 = assert(c:list_invitations{ MaxResults = 4 })
    assert.are.same({ G.admin, G.org, G.disabled, PENDING[1] }, arns(p1.Invitations))
    -- reject the last one seen and the next one unseen
    assert(c:reject_invitation{ GraphArn = PENDING[1] })
    assert(c:reject_invitation{ GraphArn = PENDING[2] })
    local rest = {}
    local tok = p1.NextToken
    while tok do
      local p = assert(c:list_invitations{ MaxResults = 4, NextToken = tok })
      for _, m in ipairs(p.Invitations) do rest[#rest + 1] = m.GraphArn end
      tok = p.NextToken
    end
    assert.are.same({ PENDING[3], PENDING[4], PENDING[5], PENDING[6], PENDING[7], PENDING[8] }, rest)
    -- a token is bound to its caller and region
    local _, err = client{ region = "eu-west-1" }:list_invitations{ NextToken = p1.NextToken }
    assert.are.same({ "ValidationException", 400 }, { err.code, err.status })
  end)

  it("accept_invitation: INVITED -> ENABLED; accepting again is ConflictException (409, not retried)", function()
    local c = client()
    local res = assert(c:accept_invitation{ GraphArn = PENDING[3] })
    assert.are.equal(200, res.ResponseMetadata.HTTPStatusCode)
    local all = assert(c:list_all_invitations{})
    assert.are.equal("ENABLED", all[6].Status)
    assert.are.equal(PENDING[3], all[6].GraphArn)
    assert.is_string(all[6].DatasourcePackageIngestStates.DETECTIVE_CORE)
    local _, err = c:accept_invitation{ GraphArn = PENDING[3] }
    assert.are.same({ "ConflictException", 409, false }, { err.code, err.status, err.retryable })
    assert.truthy(err.message:find("must be INVITED", 1, true))
    _, err = c:accept_invitation{ GraphArn = G.disabled }
    assert.are.equal("ConflictException", err.code)
    assert.are.equal(3, s:count("AcceptInvitation"))
    assert.are.same({ "900000000002" }, s:requests()[1].account_ids)
  end)

  it("reject_invitation removes it: not listed, a second reject is ResourceNotFoundException", function()
    local c = client()
    assert(c:reject_invitation{ GraphArn = PENDING[8] })
    local all = arns(assert(c:list_all_invitations{}))
    assert.are.equal(10, #all)
    for _, a in ipairs(all) do assert.are_not.equal(PENDING[8], a) end
    local _, err = c:reject_invitation{ GraphArn = PENDING[8] }
    assert.are.same({ "ResourceNotFoundException", 404, false }, { err.code, err.status, err.retryable })
    assert.are.equal("The request refers to a nonexistent resource.", err.message)
    -- an accepted one, an organization membership: ConflictException; never sent: not found
    _, err = c:reject_invitation{ GraphArn = G.admin }
    assert.are.equal("ConflictException", err.code)
    _, err = c:reject_invitation{ GraphArn = G.org }
    assert.are.equal("ConflictException", err.code)
    _, err = c:reject_invitation{ GraphArn = G.verifying }
    assert.are.equal("ResourceNotFoundException", err.code)
    -- another account's invitation is not this account's to reject
    _, err = c:reject_invitation{ GraphArn = graph(R, ADMIN, 10) }
    assert.are.equal("ResourceNotFoundException", err.code)
    assert.are.same({}, assert(client{ credentials = creds(ADMIN_KEY) }:list_all_invitations{}))
  end)

  it("disassociate_membership on ENABLED removes the membership; on INVITED or ORGANIZATION it conflicts", function()
    local c = client()
    assert(c:disassociate_membership{ GraphArn = G.admin })
    local all = arns(assert(c:list_all_invitations{}))
    assert.are.equal(10, #all)
    assert.are_not.equal(G.admin, all[1])
    local _, err = c:disassociate_membership{ GraphArn = G.admin }
    assert.are.equal("ResourceNotFoundException", err.code)
    _, err = c:disassociate_membership{ GraphArn = PENDING[1] }
    assert.are.same({ "ConflictException", 409 }, { err.code, err.status })
    assert.truthy(err.message:find("must be ENABLED", 1, true))
    _, err = c:disassociate_membership{ GraphArn = G.org }
    assert.are.equal("ConflictException", err.code)
    -- accept, then leave
    assert(c:accept_invitation{ GraphArn = PENDING[1] })
    assert(c:disassociate_membership{ GraphArn = PENDING[1] })
    assert.are.equal(9, #assert(c:list_all_invitations{}))
  end)

  it("bad input sends nothing", function()
    local c = client()
    for _, call in ipairs{
      function() return c:accept_invitation{ GraphArn = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:xyz" } end,
      function() return c:reject_invitation{} end,
      function() return c:list_invitations{ MaxResults = 500 } end,
      function() return c:list_all_invitations{ NextToken = "" } end,
    } do
      local res, err = call()
      assert.is_nil(res)
      assert.are.equal("ValidationError", err.code)
    end
    assert.are.same({}, s:requests())
  end)

  it("the service's own check: a GraphArn off the pattern is a ValidationException (INVALID_GRAPH_ARN), nothing "
    .. "changes", function()
    local before = s:state().version
    local body = cjson.encode{ GraphArn = "arn:aws:detective:us-east-1:" .. ADMIN .. ":graph:NOPE" }
    local calls = { { "PUT", "/invitation" }, { "POST", "/invitation/removal" }, { "POST", "/membership/removal" } }
    for _, c in ipairs(calls) do
      local res = assert(s:call{ service = "detective", method = c[1], path = c[2], body = body,
                                 creds = creds(MEMBER_KEY) })
      assert.are.same({ 400, "ValidationException", "INVALID_GRAPH_ARN" },
        { res.status, res.headers["x-amzn-errortype"], res.json.ErrorCode }, c[2])
      assert.truthy(res.json.Message:find("'graphArn' failed to satisfy constraint", 1, true))
      assert.is_string(res.headers["x-amzn-requestid"])
    end
    local res = assert(s:call{ service = "detective", method = "POST", path = "/invitations/list",
                               body = '{"MaxResults": 201}', creds = creds(MEMBER_KEY) })
    assert.are.same({ 400, "ValidationException", "INVALID_REQUEST_BODY" },
      { res.status, res.headers["x-amzn-errortype"], res.json.ErrorCode })
    res = assert(s:call{ service = "detective", method = "POST", path = "/invitation/removal", body = "{nope",
                         creds = creds(MEMBER_KEY) })
    assert.are.same({ 400, "INVALID_REQUEST_BODY" }, { res.status, res.json.ErrorCode })
    res = assert(s:call{ service = "detective", method = "GET", path = "/graphs", creds = creds(MEMBER_KEY) })
    assert.are.same({ 404, "UnknownOperationException" }, { res.status, res.headers["x-amzn-errortype"] })
    assert.are.equal(before, s:state().version)
    assert.are.equal(#LISTED, #assert(client():list_all_invitations{}))
  end)

  it("where Detective has no endpoint (cn-north-1, us-east-7) the simulator answers 404 UnknownEndpoint", function()
    for _, region in ipairs{ "cn-north-1", "us-east-7" } do
      local _, err = client{ region = region }:list_invitations{}
      assert.are.same({ "UnknownEndpoint", 404, false }, { err.code, err.status, err.retryable }, region)
      assert.truthy(err.message:find("detective does not exist in " .. region, 1, true), err.message)
    end
    assert.are.equal(2, s:count("ListInvitations"))
  end)

  it("TooManyRequestsException (429) is retried as throttling, InternalServerException (500) as transient", function()
    s:set_faults("first 2 detective:ListInvitations throttle")
    local retried = 0
    local c = client{ on_retry = function() retried = retried + 1 end }
    assert.are.equal(#LISTED, #assert(c:list_all_invitations{}))
    assert.are.same({ 3, 2 }, { s:count("ListInvitations"), retried })
    local r = s:requests()[1]
    assert.are.same({ 429, "TooManyRequestsException" }, { r.status, r.error })
    s:set_faults("first 1 detective:RejectInvitation 500")
    assert(client():reject_invitation{ GraphArn = PENDING[1] })
    assert.are.equal(2, s:count("RejectInvitation"))
    s:set_faults("detective throttle")
    local _, err = client{ max_attempts = 2 }:accept_invitation{ GraphArn = PENDING[2] }
    assert.are.same({ "TooManyRequestsException", 429, true, true },
      { err.code, err.status, err.retryable, err.throttle })
    assert.are.equal(2, s:count("AcceptInvitation"))
    s:set_faults("detective 503")
    _, err = client{ max_attempts = 1 }:list_invitations{}
    assert.are.same({ "ServiceUnavailableException", 503, true }, { err.code, err.status, err.retryable })
  end)

  it("the list faults: bigpage over 200 is refused, endless pages stop at max_pages, a malformed entry is kept",
    function()
    s:set_faults("detective:ListInvitations bigpage=150")
    local all = assert(client():list_all_invitations{})
    assert.are.equal(150, #all)
    assert.are.same({ "900000000001", MEMBER, graph(R, "900000000001", 1) },
      { all[1].AdministratorId, all[1].AccountId, all[1].GraphArn })
    s:set_faults("detective:ListInvitations bigpage=201")
    local _, err = client():list_all_invitations{}
    assert.are.equal("PaginationError", err.code)
    assert.truthy(err.message:find("at most 200", 1, true), err.message)
    s:set_faults("detective:ListInvitations endless-pages")
    s:clear_requests()
    _, err = client{ max_pages = 5 }:list_all_invitations{}
    assert.are.equal("PaginationError", err.code)
    assert.are.equal(5, s:count("ListInvitations"))
    s:set_faults("detective:ListInvitations malformed-invitation")
    all = assert(client():list_all_invitations{})
    assert.are.equal(#LISTED + 1, #all)
    assert.are.same({ "sim-malformed-invitation", nil, nil },
      { all[1].GraphArn, all[1].AccountId, all[1].AdministratorId })
    s:set_faults("detective:ListInvitations escape")
    all = assert(client():list_all_invitations{})
    assert.truthy(all[1].GraphArn:find("\27", 1, true))
  end)
end)
