-- AWS Organizations (lua/invite/services/organizations.lua) on the one pipeline: the declaration
-- against botocore's model, its endpoint per partition (config.resolve's partition_endpoints), and
-- the client against the simulator (invite.sim.organizations): every operation, pagination with
-- the empty first page Organizations sometimes sends, bad input refused with nothing sent, a
-- member account's AccessDeniedException (not retried); the handshakes an account received
-- (ListHandshakesForAccount, DescribeHandshake, AcceptHandshake, DeclineHandshake): the wire, the
-- nested resources, the Filter, the state changes and their refusals, retries.
local envh = require "support.env"
local botocore = require "support.botocore"
local sim = require "support.sim"
local config = require "invite.config"
local model = require "invite.model"

local DEF = require "invite.services.organizations"

local e
before_each(function() e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" } end)
after_each(function() envh.cleanup() end)

local function resolve(o)
  return config.resolve(DEF, sim.with({ env = e.vars }, o))
end

describe("organizations endpoint: one per partition", function()
  it("any aws region goes to organizations.us-east-1.amazonaws.com, signed for us-east-1", function()
    for _, r in ipairs{ "eu-west-1", "us-east-1", "ap-southeast-2", "me-central-1" } do
      local c = assert(resolve{ region = r })
      assert.are.same({ r, "https://organizations.us-east-1.amazonaws.com", "us-east-1" },
        { c.region, c.endpoint_url, c.signing_region })
      assert.are.equal("organizations.us-east-1.amazonaws.com", c.endpoint.authority)
    end
  end)

  it("China, GovCloud and the ISO partitions go to their own host, signed for its region", function()
    local want = {
      ["cn-north-1"] = { "organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1" },
      ["cn-northwest-1"] = { "organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1" },
      ["us-gov-east-1"] = { "organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1" },
      ["us-iso-west-1"] = { "organizations.us-iso-east-1.c2s.ic.gov", "us-iso-east-1" },
      ["us-isob-east-1"] = { "organizations.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1" },
    }
    for r, w in pairs(want) do
      local c = assert(resolve{ region = r })
      assert.are.same({ "https://" .. w[1], w[2] }, { c.endpoint_url, c.signing_region }, r)
    end
    -- a partition the declaration does not list: the regional name, signed for the region
    local c = assert(resolve{ region = "eusc-de-east-1" })
    assert.are.same({ "https://organizations.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1" },
      { c.endpoint_url, c.signing_region })
  end)

  it("a client without a region uses the aws partition's endpoint and region", function()
    local c = assert(resolve{})
    assert.are.same({ "us-east-1", "https://organizations.us-east-1.amazonaws.com", "us-east-1" },
      { c.region, c.endpoint_url, c.signing_region })
  end)

  it("an explicit endpoint wins (the option or AWS_ENDPOINT_URL_ORGANIZATIONS), signed for the region", function()
    local c = assert(resolve{ region = "eu-west-1", endpoint = "http://127.0.0.1:4566" })
    assert.are.same({ "http://127.0.0.1:4566", "eu-west-1" }, { c.endpoint_url, c.signing_region })
    e:set("AWS_ENDPOINT_URL_ORGANIZATIONS", "https://orgs.example")
    c = assert(resolve{ region = "cn-north-1" })
    assert.are.same({ "https://orgs.example", "cn-north-1" }, { c.endpoint_url, c.signing_region })
  end)

  it("FIPS: aws's own FIPS host, GovCloud's plain one; dual-stack: the regional name", function()
    local c = assert(resolve{ region = "eu-west-1", use_fips_endpoint = true })
    assert.are.same({ "https://organizations-fips.us-east-1.amazonaws.com", "us-east-1" },
      { c.endpoint_url, c.signing_region })
    c = assert(resolve{ region = "us-gov-east-1", use_fips_endpoint = true })
    assert.are.same({ "https://organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1" },
      { c.endpoint_url, c.signing_region })
    c = assert(resolve{ region = "eu-west-1", use_dualstack_endpoint = true })
    assert.are.same({ "https://organizations.eu-west-1.api.aws", "eu-west-1" }, { c.endpoint_url, c.signing_region })
  end)

  it("a client signs for the partition's region: the request is the host's and the scope us-east-1", function()
    local sent
    local c = require("invite").organizations.client{
      region = "eu-west-1", env = e.vars,
      credentials = { access_key_id = "AKIDORGSPEC", secret_access_key = "secret" },
      transport = function(req)
        sent = req
        return { status = 200, headers = { { "x-amzn-RequestId", "rid" } }, body = "{}" }
      end,
    }
    assert(c:describe_organization())
    assert.are.equal("https://organizations.us-east-1.amazonaws.com/", sent.url)
    local auth
    for _, h in ipairs(sent.headers) do if h[1]:lower() == "authorization" then auth = h[2] end end
    assert.truthy(auth:find("/us-east-1/organizations/aws4_request", 1, true), auth)
  end)
end)

describe("invite.paginate over empty pages that carry a NextToken", function()
  local paginate = require "invite.paginate"
  local PAG = DEF.paginators.list_accounts
  -- pages: {} + token, {} + token, 2 accounts + token, {} without a token
  local function scripted()
    local answers = {
      { Accounts = {}, NextToken = "t1" }, { Accounts = {}, NextToken = "t2" },
      { Accounts = { { Id = "1" }, { Id = "2" } }, NextToken = "t3" }, { Accounts = {} },
    }
    local sent = {}
    return function(params)
      sent[#sent + 1] = params.NextToken or "-"
      return answers[#sent]
    end, sent
  end

  it("pages, items and all follow every token; a page without one ends the walk", function()
    local call, sent = scripted()
    local n = 0
    for page in paginate.pages(call, PAG, {}) do n = n + 1; assert.is_table(page.Accounts) end
    assert.are.same({ 4, { "-", "t1", "t2", "t3" } }, { n, sent })
    call, sent = scripted()
    local got = {}
    for a in paginate.items(paginate.pages(call, PAG, {}), PAG) do got[#got + 1] = a.Id end
    assert.are.same({ "1", "2" }, got)
    assert.are.equal(4, #sent)
    call = scripted()
    assert.are.same({ { Id = "1" }, { Id = "2" } }, paginate.all(paginate.pages(call, PAG, {}), PAG))
  end)
end)

---------------------------------------------------------------------------------------------------
-- The declaration against botocore's model (the newest botocore a python3 here has: 1.43)
---------------------------------------------------------------------------------------------------

-- Beyond botocore.compare's checks: enums, and account IDs where the model's pattern is one.
-- Handshake IDs: the model's pattern, checked by the client (`matches`); a Handshake's members:
-- enums (what the service may send) and sensitive members as the model has them.
local CHECKS = {
  member = function(w, m, s, input)
    if not input then
      if w:find("output.Handshake", 1, true) then
        if s.enum then assert.same(s.enum, m.enum, w .. ": enum") end
        assert.equal(s.sensitive == true, m.sensitive == true, w .. ": sensitive")
      end
      return
    end
    if s.enum then assert.same(s.enum, m.enum, w .. ": enum") end
    if s.pattern == "^\\d{12}$" then assert.is_true(m.account_id, w .. ": an account ID") end
    if s.pattern == "^h-[0-9a-z]{8,32}$" then
      assert.same({ s.pattern, "function" }, { m.pattern, type(m.matches) }, w .. ": the handshake ID pattern")
    end
  end,
}

describe("services/organizations.lua against botocore's model", function()
  it("has the model's metadata: json 1.1, the target prefix, signing name and endpoint prefix", function()
    local b = botocore.model("organizations")
    if not b then return pending("no python3 with botocore") end
    local md = b.model.metadata
    assert.same({ md.protocol, md.jsonVersion, md.targetPrefix, md.endpointPrefix, md.signingName or md.endpointPrefix,
      md.serviceId, md.apiVersion }, { DEF.protocol, DEF.json_version, DEF.target_prefix, DEF.endpoint_prefix,
      DEF.signing_name, DEF.service_id, DEF.api_version })
    assert.same({ true, "list_handshakes_for_account" }, { DEF.invitations.global, DEF.invitations.list_operation },
      "an invitation service: the handshakes")
  end)

  for _, key in ipairs{ "list_accounts", "list_accounts_for_parent", "list_children", "list_roots",
                        "describe_organization", "describe_account", "list_handshakes_for_account",
                        "describe_handshake", "accept_handshake", "decline_handshake" } do
    it(key .. ": method, URI, every input and output member, the paginator", function()
      local b = botocore.model("organizations")
      if not b then return pending("no python3 with botocore") end
      local op = model.service("organizations").ops[key]
      botocore.operation(b, op, CHECKS)
      local p = b.paginators[op.name]
      if p then
        assert.same({ p.input_token, p.output_token, p.limit_key, p.result_key },
          { op.paginator.input_token, op.paginator.output_token, op.paginator.limit_key, op.paginator.result_key })
        assert.is_string(op.paginator.all)
        assert.is_string(op.paginator.each)
      else
        assert.is_nil(op.paginator)
      end
    end)
  end

  it("the HandshakeId rule in Lua (`matches`, with max 34) is the model's regex, case by case (Python's re)", function()
    local b = botocore.model("organizations")
    if not b then return pending("no python3 with botocore") end
    local spec = model.service("organizations").ops.describe_handshake.by_name.HandshakeId
    local cases = { "h-12345678", "h-1234567", "h-" .. ("a"):rep(32), "h-" .. ("a"):rep(33), "h-abcdefgH",
      "H-abcdefgh", "h_abcdefgh", "h-abcdefgh\n", " h-abcdefgh", "h-abcd-efgh", "h-", "", "h-0123456789abcdefz",
      "xh-abcdefgh", "h-abcdefgh ", "h-abcdéfgh" }
    -- fullmatch: the whole string, as the service matches it (re.search's $ would let a final
    -- newline through)
    local want = botocore.json(b.python, "import json, re, sys; c = json.load(sys.stdin); "
      .. "print(json.dumps([re.fullmatch(c['p'], v) is not None and len(v) <= 34 for v in c['v']]))",
      require("cjson").encode{ p = spec.pattern, v = cases })
    assert.is_table(want)
    for i, v in ipairs(cases) do
      assert.equal(want[i], spec.matches(v) and #v <= spec.max, ("%q"):format(v))
    end
  end)

  it("Handshake.Resources nests three levels; the deepest names the recursion it leaves off", function()
    local out = model.service("organizations").ops.describe_handshake.output[1].members
    local r, depth = out[#out], 0
    while r do
      depth = depth + 1
      assert.same({ "Resources", "list", "structure" }, { r.name, r.type, r.member.type })
      local last = r.member.members[#r.member.members]
      if last.name ~= "Resources" then
        assert.same({ "Resources" }, r.member.recursion)
        last = nil
      end
      r = last
    end
    assert.equal(3, depth)
  end)

  it("has endpoints.json's partition endpoints (host and credential scope) for every partition it lists", function()
    local b = botocore.model("organizations")
    if not b then return pending("no python3 with botocore") end
    local n = 0
    for partition, pe in pairs(DEF.partition_endpoints) do
      local svc = b.endpoints[partition]
      assert.is_table(svc, partition)
      assert.is_false(svc.isRegionalized, partition)
      local ep = svc.endpoints[svc.partitionEndpoint]
      assert.same({ ep.hostname, ep.credentialScope.region }, { pe.host, pe.signing_region }, partition)
      n = n + 1
    end
    assert.is_true(n >= 3)
  end)
end)

---------------------------------------------------------------------------------------------------
-- The client against the simulator
---------------------------------------------------------------------------------------------------

local invite = require "invite"

local ADMIN, STRANGER = "111111111111", "999999999999"
local ADMIN_KEY = { id = "AKIASIMORGSPECADMIN1", secret = "org-spec-admin-secret-FAKE" }
local MEMBER_KEY = { id = "AKIASIMORGSPECMEMB01", secret = "org-spec-member-secret-FAKE" }
local STRANGER_KEY = { id = "AKIASIMORGSPECSTRAN1", secret = "org-spec-stranger-secret-FAKE" }
local OU_A, OU_B, OU_C = "ou-sim1-aaaaaaaa", "ou-sim1-bbbbbbbb", "ou-sim1-cccccccc"

local function creds(key) return { access_key_id = key.id, secret_access_key = key.secret } end

-- 44 members and the admin: 45 accounts; members 1-10 in OU A, 11-15 in OU C (under A), 3 and 12
-- suspended, the rest in the root
local function org_fixture(extra)
  local members = {}
  for i = 1, 44 do members[i] = ("2000000000%02d"):format(i) end
  local parents = {}
  for i = 1, 10 do parents[members[i]] = OU_A end
  for i = 11, 15 do parents[members[i]] = OU_C end
  local fx = sim.org_fixture{ admin = ADMIN, key = ADMIN_KEY, inviter = STRANGER, members = members,
    services = {}, regions = {}, organization = extra or true, parents = parents,
    suspended = { members[3], members[12] },
    units = { { id = OU_A, name = "A" }, { id = OU_B, name = "B" }, { id = OU_C, name = "C", parent = OU_A } } }
  fx.accounts[2].access_keys = { MEMBER_KEY }
  fx.accounts[#fx.accounts].access_keys = { STRANGER_KEY }
  return fx, members
end

local function requests_of(s, op)
  local out = {}
  for _, r in ipairs(s:requests()) do
    if r.operation == op then out[#out + 1] = r end
  end
  return out
end

describe("organizations client against invite sim", function()
  local s, members
  local function client(o)
    return invite.organizations.client(sim.with({ endpoint = s.endpoint, region = "eu-west-1",
                                                   credentials = creds(ADMIN_KEY), env = e.vars,
                                                   sleep = function() end }, o))
  end
  setup(function()
    local fx
    fx, members = org_fixture()
    s = sim.start{ fixtures = fx }
  end)
  teardown(function() s:stop() end)
  before_each(function()
    s:set_faults("")
    s:clear_requests()
  end)

  it("list_all_accounts: 45 accounts at MaxResults 20 in 4 requests, the first page empty with a NextToken", function()
    local c = client()
    local pages = {}
    for page, err in c:paginate("list_accounts", { MaxResults = 20 }) do
      assert.is_truthy(page, tostring(err))
      pages[#pages + 1] = page
    end
    assert.are.same({ 0, 20, 20, 5 }, { #pages[1].Accounts, #pages[2].Accounts, #pages[3].Accounts,
                                          #pages[4].Accounts })
    assert.is_string(pages[1].NextToken)
    assert.is_nil(pages[4].NextToken)
    local all = assert(c:list_all_accounts{ MaxResults = 20 })
    assert.are.equal(45, #all)
    assert.are.equal(ADMIN, all[1].Id)
    for i = 2, 45 do assert.is_true(all[i - 1].Id < all[i].Id) end
    local n = 0
    for a, err in c:each_account{ MaxResults = 20 } do
      assert.is_truthy(a, tostring(err))
      n = n + 1
    end
    assert.are.equal(45, n)
    assert.are.equal(12, #requests_of(s, "ListAccounts"))
    -- the wire: awsJson 1.1, signed for us-east-1 would be AWS's; with an endpoint, the client's region
    for _, r in ipairs(requests_of(s, "ListAccounts")) do
      assert.same({ "POST", "/", "organizations", "eu-west-1", ADMIN }, { r.method, r.path, r.service, r.region,
                                                                       r.account })
    end
  end)

  it("an account: Id, Arn, Email, Name, Status and State, JoinedMethod, JoinedTimestamp", function()
    local all = assert(client():list_all_accounts{})
    local m3
    for _, a in ipairs(all) do if a.Id == members[3] then m3 = a end end
    assert.are.same({ members[3], "arn:aws:organizations::" .. ADMIN .. ":account/o-simspecorg1/" .. members[3],
      members[3] .. "@accounts.sim.invalid", members[3], "SUSPENDED", "SUSPENDED", "CREATED" },
      { m3.Id, m3.Arn, m3.Email, m3.Name, m3.Status, m3.State, m3.JoinedMethod })
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", m3.JoinedTimestamp)
    assert.are.equal("INVITED", all[1].JoinedMethod)
    local d = assert(client():describe_account{ AccountId = members[12] })
    assert.are.same({ members[12], "SUSPENDED", "SUSPENDED" }, { d.Account.Id, d.Account.Status, d.Account.State })
  end)

  it("list_roots, describe_organization", function()
    local roots = assert(client():list_all_roots{})
    assert.are.same({ { Id = "r-sim1", Arn = "arn:aws:organizations::" .. ADMIN .. ":root/o-simspecorg1/r-sim1",
                        Name = "Root", PolicyTypes = {} } }, roots)
    assert.are.equal(1, #requests_of(s, "ListRoots"))
    local o = assert(client():describe_organization()).Organization
    assert.are.same({ Id = "o-simspecorg1", Arn = "arn:aws:organizations::" .. ADMIN .. ":organization/o-simspecorg1",
      FeatureSet = "ALL", MasterAccountId = ADMIN,
      MasterAccountArn = "arn:aws:organizations::" .. ADMIN .. ":account/o-simspecorg1/" .. ADMIN,
      MasterAccountEmail = ADMIN .. "@accounts.sim.invalid", AvailablePolicyTypes = {} }, o)
  end)

  it("list_children and list_accounts_for_parent: OUs and accounts under a parent, first page empty", function()
    local c = client()
    local ous = assert(c:list_all_children{ ParentId = "r-sim1", ChildType = "ORGANIZATIONAL_UNIT" })
    assert.are.same({ { Id = OU_A, Type = "ORGANIZATIONAL_UNIT" }, { Id = OU_B, Type = "ORGANIZATIONAL_UNIT" } }, ous)
    assert.are.same({ { Id = OU_C, Type = "ORGANIZATIONAL_UNIT" } },
      assert(c:list_all_children{ ParentId = OU_A, ChildType = "ORGANIZATIONAL_UNIT" }))
    local in_a = assert(c:list_all_children{ ParentId = OU_A, ChildType = "ACCOUNT", MaxResults = 4 })
    assert.are.equal(10, #in_a)
    assert.are.same({ Id = members[1], Type = "ACCOUNT" }, in_a[1])
    -- root: the admin and members 16-44
    assert.are.equal(30, #assert(c:list_all_children{ ParentId = "r-sim1", ChildType = "ACCOUNT" }))
    local in_c = assert(c:list_all_accounts_for_parent{ ParentId = OU_C })
    assert.are.equal(5, #in_c)
    assert.are.equal(members[11], in_c[1].Id)
    assert.are.same({}, assert(c:list_all_accounts_for_parent{ ParentId = OU_B }))
    -- empty first page each walk: 1 + ceil(10 / 4) = 4 ListChildren for OU A's accounts
    local page = assert(c:list_accounts_for_parent{ ParentId = OU_C })
    assert.are.same({}, page.Accounts)
    assert.is_string(page.NextToken)
  end)

  it("organization.empty_first_page = false: the walk starts with accounts", function()
    local fx = org_fixture{ empty_first_page = false }
    local s2 = sim.start{ fixtures = fx }
    local c = invite.organizations.client{ endpoint = s2.endpoint, credentials = creds(ADMIN_KEY), env = e.vars }
    local page = assert(c:list_accounts{ MaxResults = 20 })
    assert.are.equal(20, #page.Accounts)
    assert.are.equal(45, #assert(c:list_all_accounts{ MaxResults = 20 }))
    assert.are.equal(1 + 3, s2:count("ListAccounts"))
    s2:stop()
  end)

  it("bad input is refused with nothing sent: MaxResults 21, ChildType, AccountId, ParentId missing", function()
    local c = client()
    local cases = {
      { "list_accounts", { MaxResults = 21 }, "MaxResults: must be an integer between 1 and 20, got 21" },
      { "list_accounts", { MaxResults = 0 }, "MaxResults: must be an integer between 1 and 20, got 0" },
      { "list_children", { ParentId = "r-sim1", ChildType = "USER" }, "ChildType: must be one of ACCOUNT, "
        .. "ORGANIZATIONAL_UNIT" },
      { "list_children", { ChildType = "ACCOUNT" }, "ParentId" },
      { "describe_account", { AccountId = "12345" }, "AccountId: must be a 12-digit account ID" },
      { "list_all_accounts", { MaxResults = 21 }, "MaxResults" },
    }
    for _, case in ipairs(cases) do
      local res, err = c[case[1]](c, case[2])
      assert.is_nil(res, case[1])
      assert.are.equal("ValidationError", err.code)
      assert.truthy(tostring(err):find(case[3], 1, true), tostring(err))
    end
    assert.are.same({}, s:requests())
  end)

  it("the service's own checks: a ParentId off the pattern, an unknown parent or account, a foreign token", function()
    local c = client()
    local _, err = c:list_children{ ParentId = "r-NOPE", ChildType = "ACCOUNT" }
    assert.are.same({ "InvalidInputException", 400, false }, { err.code, err.status, err.retryable })
    assert.truthy(err.message:find("You provided a value that does not match the required pattern. (ParentId", 1, true))
    _, err = c:list_accounts_for_parent{ ParentId = "ou-sim1-zzzzzzzz" }
    assert.are.equal("ParentNotFoundException", err.code)
    _, err = c:describe_account{ AccountId = STRANGER }
    assert.are.equal("AccountNotFoundException", err.code)
    local page = assert(c:list_accounts{})
    _, err = c:list_accounts_for_parent{ ParentId = OU_A, NextToken = page.NextToken }
    assert.are.equal("InvalidInputException", err.code)
    assert.truthy(err.message:find("nextToken", 1, true))
  end)

  it("a member account gets AccessDeniedException, not retried: one request", function()
    local c = client{ credentials = creds(MEMBER_KEY), max_attempts = 3 }
    local res, err = c:list_all_accounts{}
    assert.is_nil(res)
    assert.are.same({ "AccessDeniedException", 400, false }, { err.code, err.status, err.retryable })
    assert.are.equal("You don't have permissions to access this resource.", err.message)
    assert.are.equal(1, s:count("ListAccounts"))
    -- any member may describe its organisation
    assert.are.equal(ADMIN, assert(c:describe_organization()).Organization.MasterAccountId)
    res, err = c:describe_account{ AccountId = members[1] }
    assert.is_nil(res)
    assert.are.equal("AccessDeniedException", err.code)
  end)

  it("an account outside the organisation gets AWSOrganizationsNotInUseException", function()
    local _, err = client{ credentials = creds(STRANGER_KEY) }:describe_organization()
    assert.are.equal("AWSOrganizationsNotInUseException", err.code)
    assert.are.equal(1, s:count("DescribeOrganization"))
  end)

  it("TooManyRequestsException is retried as throttling", function()
    s:set_faults("first 2 organizations:ListRoots throttle")
    local retried = 0
    local c = client{ on_retry = function() retried = retried + 1 end }
    assert.are.equal(1, #assert(c:list_all_roots{}))
    assert.are.equal(3, s:count("ListRoots"))
    assert.are.equal(2, retried)
    s:set_faults("first 5 organizations throttle")
    local _, err = client{ max_attempts = 2 }:describe_organization()
    assert.are.same({ "TooManyRequestsException", true }, { err.code, err.throttle })
  end)

  it("the wire: POST / with X-Amz-Target, answers and errors in awsJson 1.1", function()
    local res = assert(s:call{ service = "organizations", method = "POST", path = "/", creds = creds(ADMIN_KEY),
      content_type = "application/x-amz-json-1.1", body = '{"MaxResults": 2}',
      headers = { { "X-Amz-Target", "AWSOrganizationsV20161128.ListRoots" } } })
    assert.are.same({ 200, "application/x-amz-json-1.1" }, { res.status, res.headers["content-type"] })
    assert.is_string(res.headers["x-amzn-requestid"])
    assert.are.equal("r-sim1", res.json.Roots[1].Id)
    res = assert(s:call{ service = "organizations", method = "POST", path = "/", creds = creds(ADMIN_KEY),
      content_type = "application/x-amz-json-1.1", body = '{"MaxResults": 21}',
      headers = { { "X-Amz-Target", "AWSOrganizationsV20161128.ListAccounts" } } })
    assert.are.same({ 400, "InvalidInputException", "MAX_VALUE_EXCEEDED" },
      { res.status, res.json.__type, res.json.Reason })
    assert.truthy(res.json.Message:find("MaxResults", 1, true))
    res = assert(s:call{ service = "organizations", method = "POST", path = "/", creds = creds(ADMIN_KEY),
      content_type = "application/x-amz-json-1.1", body = "{}",
      headers = { { "X-Amz-Target", "AWSOrganizationsV20161128.CreateAccount" } } })
    assert.are.same({ 400, "UnknownOperationException" }, { res.status, res.json.__type })
    -- unsigned (Authorization taken off): the front door's error, in this service's style
    local function unsigned(method, path, query, headers, body)
      local kept = {}
      for _, h in ipairs(headers) do
        if h[1]:lower() ~= "authorization" then kept[#kept + 1] = h end
      end
      return method, path, query, kept, body
    end
    res = assert(s:call{ service = "organizations", method = "POST", path = "/", tamper = unsigned,
      content_type = "application/x-amz-json-1.1", body = "{}", creds = creds(ADMIN_KEY),
      headers = { { "X-Amz-Target", "AWSOrganizationsV20161128.ListRoots" } } })
    assert.are.same({ 403, "com.amazon.coral.service#MissingAuthenticationTokenException" },
      { res.status, res.json.__type })
  end)
end)

---------------------------------------------------------------------------------------------------
-- Handshakes: the client against the simulator
---------------------------------------------------------------------------------------------------

local UNKNOWN_MGMT, OTHER_MGMT = "888888888888", "777777777777"
local H_UNKNOWN, H_ENABLE, H_DECLINED = "h-unknownorg000001", "h-enableall0000001", "h-declined00000001"
local H_OWN, H_OWN_ACCEPTED = "h-ownorginvite0001", "h-ownaccepted00001"
local H_PARENT = "h-enableallparent1"
local function members_first() return "200000000001" end

-- members[1] (MEMBER_KEY) received: an INVITE from an unknown organisation (with notes), a child
-- ENABLE_ALL_FEATURES from its own, a DECLINED INVITE, its own organisation's accepted INVITE and
-- 21 more INVITEs (h-bulk...); the stranger (outside the organisation) an INVITE from the admin's
-- organisation and one from the unknown one.
local function handshake_fixture(extra)
  local fx, ms = org_fixture(extra)
  local function add(entry) fx.invitations[#fx.invitations + 1] = entry end
  add{ service = "organizations", account = ms[1], inviter = UNKNOWN_MGMT, id = H_UNKNOWN, invited_at = "now-2d",
       organization_id = "o-unknownorg1", master_email = "boss@unknown.example", master_name = "Unknown Corp",
       feature_set = "CONSOLIDATED_BILLING", notes = "join us" }
  add{ service = "organizations", account = ms[1], inviter = ADMIN, id = H_ENABLE, invited_at = "now-1d",
       action = "ENABLE_ALL_FEATURES", parent_handshake = H_PARENT, status = "REQUESTED" }
  add{ service = "organizations", account = ms[1], inviter = OTHER_MGMT, id = H_DECLINED, invited_at = "now-20d",
       status = "DECLINED", organization_id = "o-otherorg001" }
  add{ service = "organizations", account = ms[1], inviter = ADMIN, id = H_OWN_ACCEPTED, invited_at = "now-40d",
       status = "ACCEPTED" }
  for i = 1, 21 do
    add{ service = "organizations", account = ms[1], inviter = OTHER_MGMT, id = ("h-bulk%06d"):format(i),
         invited_at = "now-3d", organization_id = "o-otherorg001" }
  end
  add{ service = "organizations", account = STRANGER, inviter = ADMIN, id = H_OWN, invited_at = "now-1d" }
  add{ service = "organizations", account = STRANGER, inviter = UNKNOWN_MGMT, id = "h-strangerunk0001",
       invited_at = "now-1d", organization_id = "o-unknownorg1" }
  return fx, ms
end

local function target_call(s, key, op, body)
  return assert(s:call{ service = "organizations", method = "POST", path = "/", creds = creds(key),
    content_type = "application/x-amz-json-1.1", body = body,
    headers = { { "X-Amz-Target", "AWSOrganizationsV20161128." .. op } } })
end

describe("organizations handshakes against invite sim", function()
  local s
  local function client(o)
    return invite.organizations.client(sim.with({ endpoint = s.endpoint, region = "us-east-1",
                                                   credentials = creds(MEMBER_KEY), env = e.vars,
                                                   sleep = function() end }, o))
  end
  setup(function() s = sim.start{ fixtures = (handshake_fixture()) } end)
  teardown(function() s:stop() end)
  before_each(function() s:fresh() end)

  it("list_all_handshakes_for_account: 25 handshakes in 3 requests at 20 a page, the empty first page followed",
    function()
    local c = client()
    local pages = {}
    for page, err in c:paginate("list_handshakes_for_account", {}) do
      assert.is_truthy(page, tostring(err))
      pages[#pages + 1] = page
    end
    assert.same({ 0, 20, 5 }, { #pages[1].Handshakes, #pages[2].Handshakes, #pages[3].Handshakes })
    assert.is_string(pages[1].NextToken)
    local all = assert(c:list_all_handshakes_for_account{})
    assert.equal(25, #all)
    for i = 2, #all do assert.is_true(all[i - 1].Id < all[i].Id) end
    local n = 0
    for h, err in c:each_handshake_for_account{ MaxResults = 10 } do
      assert.is_truthy(h, tostring(err))
      n = n + 1
    end
    assert.equal(25, n)
    assert.equal(3 + 3 + 4, s:count("ListHandshakesForAccount"))
    -- the wire: POST / with the X-Amz-Target, awsJson 1.1, the Filter as sent
    local r = s:requests()[1]
    assert.same({ "POST", "/", "organizations", "ListHandshakesForAccount", members_first() },
      { r.method, r.path, r.service, r.operation, r.account })
  end)

  it("an INVITE: Arn, Parties, State, timestamps, Action and the ORGANIZATION resource's nested ones", function()
    local h = assert(client():describe_handshake{ HandshakeId = H_UNKNOWN }).Handshake
    assert.same({ H_UNKNOWN,
      "arn:aws:organizations::" .. UNKNOWN_MGMT .. ":handshake/o-unknownorg1/invite/" .. H_UNKNOWN,
      "OPEN", "INVITE" }, { h.Id, h.Arn, h.State, h.Action })
    assert.same({ { Id = "o-unknownorg1", Type = "ORGANIZATION" }, { Id = members_first(), Type = "ACCOUNT" } },
      h.Parties)
    assert.same({
      { Type = "ORGANIZATION", Value = "o-unknownorg1", Resources = {
        { Type = "MASTER_EMAIL", Value = "boss@unknown.example" },
        { Type = "MASTER_NAME", Value = "Unknown Corp" },
        { Type = "ORGANIZATION_FEATURE_SET", Value = "CONSOLIDATED_BILLING" } } },
      { Type = "ACCOUNT", Value = members_first() },
      { Type = "NOTES", Value = "join us" },
    }, h.Resources)
    local t = require "invite.time"
    local requested = assert(t.parse_iso8601(h.RequestedTimestamp))
    local expires = assert(t.parse_iso8601(h.ExpirationTimestamp))
    assert.equal(15 * 86400, expires - requested)
    -- the own organisation's: the fixture organisation's ID, management email and name, feature set
    local own = assert(client{ credentials = creds(STRANGER_KEY) }:describe_handshake{ HandshakeId = H_OWN }).Handshake
    assert.equal("arn:aws:organizations::" .. ADMIN .. ":handshake/o-simspecorg1/invite/" .. H_OWN, own.Arn)
    assert.same({ { Type = "MASTER_EMAIL", Value = ADMIN .. "@accounts.sim.invalid" },
      { Type = "MASTER_NAME", Value = "admin" }, { Type = "ORGANIZATION_FEATURE_SET", Value = "ALL" } },
      own.Resources[1].Resources)
  end)

  it("an ENABLE_ALL_FEATURES child: its Arn, the ORGANIZATION and PARENT_HANDSHAKE resources", function()
    local h = assert(client():describe_handshake{ HandshakeId = H_ENABLE }).Handshake
    assert.same({ "arn:aws:organizations::" .. ADMIN .. ":handshake/o-simspecorg1/enable_all_features/" .. H_ENABLE,
      "REQUESTED", "ENABLE_ALL_FEATURES" }, { h.Arn, h.State, h.Action })
    assert.same({ { Type = "ORGANIZATION", Value = "o-simspecorg1" }, { Type = "PARENT_HANDSHAKE", Value = H_PARENT } },
      h.Resources)
  end)

  it("the Filter: by ActionType, by ParentHandshakeId; not both (InvalidInputException, nothing changes)", function()
    local c = client()
    local inv = assert(c:list_all_handshakes_for_account{ Filter = { ActionType = "INVITE" } })
    assert.equal(24, #inv)
    local eaf = assert(c:list_all_handshakes_for_account{ Filter = { ActionType = "ENABLE_ALL_FEATURES" } })
    assert.same({ H_ENABLE }, { eaf[1].Id, eaf[2] })
    local kids = assert(c:list_all_handshakes_for_account{ Filter = { ParentHandshakeId = H_PARENT } })
    assert.same({ H_ENABLE }, { kids[1].Id, kids[2] })
    assert.same({}, assert(c:list_all_handshakes_for_account{ Filter = { ActionType = "TRANSFER_RESPONSIBILITY" } }))
    local _, err = c:list_handshakes_for_account{ Filter = { ActionType = "INVITE", ParentHandshakeId = H_PARENT } }
    assert.same({ "InvalidInputException", 400, false }, { err.code, err.status, err.retryable })
    -- a token is bound to its filter
    local page = assert(c:list_handshakes_for_account{ Filter = { ActionType = "INVITE" } })
    _, err = c:list_handshakes_for_account{ NextToken = page.NextToken }
    assert.equal("InvalidInputException", err.code)
    assert.truthy(err.message:find("nextToken", 1, true))
  end)

  it("accept: OPEN -> ACCEPTED, still listed; again: HandshakeAlreadyInStateException; decline then: "
    .. "InvalidHandshakeTransitionException", function()
    local c = client{ credentials = creds(STRANGER_KEY) }
    local h = assert(c:accept_handshake{ HandshakeId = H_OWN }).Handshake
    assert.same({ H_OWN, "ACCEPTED", "INVITE" }, { h.Id, h.State, h.Action })
    local listed = assert(c:list_all_handshakes_for_account{})
    assert.same({ H_OWN, "ACCEPTED" }, { listed[1].Id, listed[1].State })
    local _, err = c:accept_handshake{ HandshakeId = H_OWN }
    assert.same({ "HandshakeAlreadyInStateException", 400, false }, { err.code, err.status, err.retryable })
    _, err = c:decline_handshake{ HandshakeId = H_OWN }
    assert.same({ "InvalidHandshakeTransitionException", 400, false }, { err.code, err.status, err.retryable })
    assert.equal("ACCEPTED", assert(c:describe_handshake{ HandshakeId = H_OWN }).Handshake.State)
    -- /__sim/state shows it too
    local st = s:state()
    local seen
    for _, inv in ipairs(st.invitations) do
      if inv.id == H_OWN then seen = inv end
    end
    assert.same({ "organizations", "global", STRANGER, ADMIN, "ACCEPTED" },
      { seen.service, seen.region, seen.account, seen.inviter, seen.status })
  end)

  it("decline: OPEN -> DECLINED, still listed; again: HandshakeAlreadyInStateException; accept then: "
    .. "InvalidHandshakeTransitionException", function()
    local c = client()
    local h = assert(c:decline_handshake{ HandshakeId = H_UNKNOWN }).Handshake
    assert.same({ H_UNKNOWN, "DECLINED" }, { h.Id, h.State })
    local _, err = c:decline_handshake{ HandshakeId = H_UNKNOWN }
    assert.equal("HandshakeAlreadyInStateException", err.code)
    _, err = c:accept_handshake{ HandshakeId = H_DECLINED }
    assert.equal("InvalidHandshakeTransitionException", err.code)
    _, err = c:decline_handshake{ HandshakeId = H_OWN_ACCEPTED }
    assert.equal("InvalidHandshakeTransitionException", err.code)
    local states = {}
    for _, x in ipairs(assert(c:list_all_handshakes_for_account{})) do states[x.Id] = x.State end
    assert.same({ "DECLINED", "DECLINED", "ACCEPTED", "REQUESTED" },
      { states[H_UNKNOWN], states[H_DECLINED], states[H_OWN_ACCEPTED], states[H_ENABLE] })
    -- a child ENABLE_ALL_FEATURES is accepted by the member
    assert.equal("ACCEPTED", assert(c:accept_handshake{ HandshakeId = H_ENABLE }).Handshake.State)
  end)

  it("a member of another organisation cannot accept an INVITE: HandshakeConstraintViolationException "
    .. "ALREADY_IN_AN_ORGANIZATION, the handshake stays OPEN", function()
    local _, err = client():accept_handshake{ HandshakeId = H_UNKNOWN }
    assert.same({ "HandshakeConstraintViolationException", 400, false }, { err.code, err.status, err.retryable })
    local res = target_call(s, MEMBER_KEY, "AcceptHandshake", '{"HandshakeId": "' .. H_UNKNOWN .. '"}')
    assert.same({ 400, "HandshakeConstraintViolationException", "ALREADY_IN_AN_ORGANIZATION" },
      { res.status, res.json.__type, res.json.Reason })
    assert.equal("OPEN", assert(client():describe_handshake{ HandshakeId = H_UNKNOWN }).Handshake.State)
    -- an account outside any organisation may
    assert.equal("ACCEPTED", assert(client{ credentials = creds(STRANGER_KEY) }:accept_handshake{
      HandshakeId = "h-strangerunk0001" }).Handshake.State)
  end)

  it("another account's handshake, an unknown one: HandshakeNotFoundException", function()
    for _, key in ipairs{ ADMIN_KEY, STRANGER_KEY } do
      local c = client{ credentials = creds(key) }
      for _, op in ipairs{ "describe_handshake", "accept_handshake", "decline_handshake" } do
        local _, err = c[op](c, { HandshakeId = H_UNKNOWN })
        assert.same({ "HandshakeNotFoundException", 400, false }, { err.code, err.status, err.retryable }, op)
        assert.equal("We can't find a handshake with the HandshakeId that you specified.", err.message)
      end
    end
    local _, err = client():describe_handshake{ HandshakeId = "h-nosuchhandshake" }
    assert.equal("HandshakeNotFoundException", err.code)
    -- the admin lists only what it received: nothing
    assert.same({}, assert(client{ credentials = creds(ADMIN_KEY) }:list_all_handshakes_for_account{}))
    assert.equal("OPEN", assert(client():describe_handshake{ HandshakeId = H_UNKNOWN }).Handshake.State)
  end)

  it("bad input is refused by the client with nothing sent, naming the field and the rule", function()
    local c = client()
    local cases = {
      { "describe_handshake", {}, "HandshakeId: missing required" },
      { "accept_handshake", { HandshakeId = "h-SHOUTING1" }, "HandshakeId: must be a handshake ID, h- followed by 8 "
        .. "to 32 lowercase letters or digits (the pattern ^h-[0-9a-z]{8,32}$), got \"h-SHOUTING1\"" },
      { "decline_handshake", { HandshakeId = "h-1234567" }, "HandshakeId: must be a handshake ID" },
      { "decline_handshake", { HandshakeId = "h-" .. ("a"):rep(33) }, "HandshakeId: must be at most 34 characters" },
      { "decline_handshake", { HandshakeId = 12345678 }, "HandshakeId: must be a string" },
      { "list_handshakes_for_account", { Filter = { ActionType = "JOIN" } }, "Filter.ActionType: must be one of "
        .. "INVITE, ENABLE_ALL_FEATURES, APPROVE_ALL_FEATURES, ADD_ORGANIZATIONS_SERVICE_LINKED_ROLE, "
        .. "TRANSFER_RESPONSIBILITY, got \"JOIN\"" },
      { "list_handshakes_for_account", { Filter = { ParentHandshakeId = "parent" } }, "Filter.ParentHandshakeId: "
        .. "must be a handshake ID" },
      { "list_handshakes_for_account", { Filter = { Action = "INVITE" } }, "Filter: unknown member \"Action\"" },
      { "list_handshakes_for_account", { MaxResults = 21 }, "MaxResults: must be an integer between 1 and 20" },
      { "list_all_handshakes_for_account", { MaxResults = 0 }, "MaxResults" },
    }
    for _, case in ipairs(cases) do
      local res, err = c[case[1]](c, case[2])
      assert.is_nil(res, case[1])
      assert.equal("ValidationError", err.code)
      assert.truthy(tostring(err):find(case[3], 1, true), tostring(err))
    end
    assert.same({}, s:requests())
  end)

  it("the service's own checks on the wire: INVALID_PATTERN, INPUT_REQUIRED, INVALID_ENUM; nothing changes", function()
    local res = target_call(s, MEMBER_KEY, "DeclineHandshake", '{"HandshakeId": "h-NOPE"}')
    assert.same({ 400, "InvalidInputException", "INVALID_PATTERN" }, { res.status, res.json.__type, res.json.Reason })
    assert.truthy(res.json.Message:find("HandshakeId", 1, true))
    res = target_call(s, MEMBER_KEY, "AcceptHandshake", "{}")
    assert.same({ "InvalidInputException", "INPUT_REQUIRED" }, { res.json.__type, res.json.Reason })
    res = target_call(s, MEMBER_KEY, "ListHandshakesForAccount", '{"Filter": {"ActionType": "JOIN"}}')
    assert.same({ "InvalidInputException", "INVALID_ENUM" }, { res.json.__type, res.json.Reason })
    res = target_call(s, MEMBER_KEY, "ListHandshakesForAccount", '{"Filter": {"ParentHandshakeId": "x"}}')
    assert.same({ "InvalidInputException", "INVALID_PATTERN" }, { res.json.__type, res.json.Reason })
    assert.equal(0, s:state().version)
    -- the answer's wire form: awsJson 1.1, timestamps as epoch seconds, the nested resources
    res = target_call(s, MEMBER_KEY, "DescribeHandshake", '{"HandshakeId": "' .. H_UNKNOWN .. '"}')
    assert.same({ 200, "application/x-amz-json-1.1" }, { res.status, res.headers["content-type"] })
    assert.is_number(res.json.Handshake.RequestedTimestamp)
    assert.equal("MASTER_EMAIL", res.json.Handshake.Resources[1].Resources[1].Type)
    local r = s:requests()
    r = r[#r]
    assert.same({ "DescribeHandshake", { H_UNKNOWN } }, { r.operation, r.account_ids })
  end)

  it("TooManyRequestsException and ServiceException are retried; ConcurrentModificationException is not", function()
    s:set_faults("first 2 organizations:AcceptHandshake throttle")
    local retried = 0
    local c = client{ credentials = creds(STRANGER_KEY), on_retry = function() retried = retried + 1 end }
    assert.equal("ACCEPTED", assert(c:accept_handshake{ HandshakeId = H_OWN }).Handshake.State)
    assert.same({ 3, 2 }, { s:count("AcceptHandshake"), retried })
    s:set_faults("first 1 organizations:ListHandshakesForAccount 500")
    assert.equal(25, #assert(client():list_all_handshakes_for_account{}))
    assert.equal(1 + 3, s:count("ListHandshakesForAccount"))
    -- the classification of every error the four operations may answer (botocore standard mode)
    local retry = require "invite.retry"
    local want = {
      TooManyRequestsException = "throttling", ServiceException = "transient",
      ConcurrentModificationException = false, HandshakeConstraintViolationException = false,
      HandshakeNotFoundException = false, InvalidHandshakeTransitionException = false,
      HandshakeAlreadyInStateException = false, AccessDeniedForDependencyException = false,
      AccessDeniedException = false, AWSOrganizationsNotInUseException = false, InvalidInputException = false,
      ConstraintViolationException = false, MasterCannotLeaveOrganizationException = false,
    }
    for code, verdict in pairs(want) do
      local status = code == "ServiceException" and 500 or 400
      assert.equal(verdict or nil, retry.classify_response(status, code, "organizations"), code)
    end
    local b = botocore.model("organizations")
    if b then
      local codes = {}
      for _, op in ipairs{ "ListHandshakesForAccount", "DescribeHandshake", "AcceptHandshake", "DeclineHandshake" } do
        for _, ref in ipairs(b.model.operations[op].errors) do codes[ref.shape] = true end
      end
      for code in pairs(codes) do assert.is_not_nil(want[code], code .. " classified above") end
    end
    -- a scripted ConcurrentModificationException: one attempt
    local n = 0
    local sc = invite.organizations.client{ region = "us-east-1", env = e.vars, max_attempts = 3,
      credentials = creds(MEMBER_KEY), sleep = function() end,
      transport = function()
        n = n + 1
        return { status = 400, headers = { { "x-amzn-RequestId", "rid" } },
                 body = '{"__type": "ConcurrentModificationException", "Message": "busy"}' }
      end }
    local _, err = sc:decline_handshake{ HandshakeId = H_UNKNOWN }
    assert.same({ "ConcurrentModificationException", false, 1 }, { err.code, err.retryable, n })
  end)

  it("the request on the wire: POST / with X-Amz-Target, awsJson 1.1, the Filter and HandshakeId as members", function()
    local sent = {}
    local sc = invite.organizations.client{ region = "eu-west-1", env = e.vars, credentials = creds(MEMBER_KEY),
      transport = function(req)
        sent[#sent + 1] = req
        return { status = 200, headers = { { "x-amzn-RequestId", "rid" } }, body = "{}" }
      end }
    assert(sc:list_handshakes_for_account{ Filter = { ActionType = "INVITE" }, MaxResults = 5 })
    assert(sc:accept_handshake{ HandshakeId = H_OWN })
    local function header(req, name)
      for _, h in ipairs(req.headers) do if h[1]:lower() == name then return h[2] end end
    end
    local cjson = require "cjson"
    assert.same({ "POST", "https://organizations.us-east-1.amazonaws.com/",
      "AWSOrganizationsV20161128.ListHandshakesForAccount",
      "application/x-amz-json-1.1", { Filter = { ActionType = "INVITE" }, MaxResults = 5 } },
      { sent[1].method, sent[1].url, header(sent[1], "x-amz-target"), header(sent[1], "content-type"),
        cjson.decode(sent[1].body) })
    assert.same({ "AWSOrganizationsV20161128.AcceptHandshake", { HandshakeId = H_OWN } },
      { header(sent[2], "x-amz-target"), cjson.decode(sent[2].body) })
  end)

  it("empty_first_page = false: the first page holds handshakes", function()
    local s2 = sim.start{ fixtures = (handshake_fixture{ empty_first_page = false }) }
    local c = invite.organizations.client{ endpoint = s2.endpoint, credentials = creds(MEMBER_KEY), env = e.vars }
    assert.equal(20, #assert(c:list_handshakes_for_account{}).Handshakes)
    assert.equal(25, #assert(c:list_all_handshakes_for_account{}))
    assert.equal(1 + 2, s2:count("ListHandshakesForAccount"))
    s2:stop()
  end)
end)
