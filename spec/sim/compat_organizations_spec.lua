-- invite sim's AWS Organizations against clients nobody here wrote: Debian's boto3 (/usr/bin/python3,
-- botocore 1.29) and AWS CLI v2 (/usr/bin/aws, 2.9.19) list the example organisation's accounts
-- (paginated, through the empty first page), roots, children and the accounts of an OU, describe the
-- organisation and an account, get the service's errors by code (a member account's
-- AccessDeniedException, InvalidInputException for a MaxResults their validators let through), and
-- have a request whose signature had one hex digit changed refused; and the AWS CLIs here (python3's,
-- botocore 1.43, and Debian's v2) list, describe, accept and decline the example's handshakes.
local sim = require "support.sim"
local compat = require "support.compat"
local boto3, aws = compat.boto3, compat.aws

local ADMIN, PROD = "111111111111", "222222222222"
local ALL = { "111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666" }

local function ids(list) return sim.pluck(list, "Id") end

teardown(function() compat.cleanup() end)

describe("boto3 (Debian) against invite sim's Organizations", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)
  before_each(function() s:clear_requests() end)

  it("list_accounts paginated (the empty first page followed), list_roots, list_children, "
    .. "list_accounts_for_parent, describe_organization, describe_account", function()
    local res = boto3(s, "org-admin", "eu-west-1", {
      { service = "organizations", op = "list_accounts", paginate = true, page_size = 2 },
      { service = "organizations", op = "list_roots" },
      { service = "organizations", op = "list_children", paginate = true,
        params = { ParentId = "r-ex12", ChildType = "ORGANIZATIONAL_UNIT" } },
      { service = "organizations", op = "list_accounts_for_parent", paginate = true,
        params = { ParentId = "ou-ex12-sandboxes" } },
      { service = "organizations", op = "describe_organization" },
      { service = "organizations", op = "describe_account", params = { AccountId = "555555555555" } },
    })
    for i, r in ipairs(res) do assert.equal(200, r.status, "call " .. i .. ": " .. tostring(r.code)) end
    local pages = res[1].result
    assert.equal(4, #pages)
    assert.same({}, pages[1].Accounts)
    assert.is_string(pages[1].NextToken)
    local accounts = {}
    for _, p in ipairs(pages) do
      for _, a in ipairs(p.Accounts) do accounts[#accounts + 1] = a end
    end
    assert.same(ALL, ids(accounts))
    assert.same({ "org-admin", "org-admin@example.com", "ACTIVE", "INVITED" },
      { accounts[1].Name, accounts[1].Email, accounts[1].Status, accounts[1].JoinedMethod })
    assert.truthy(accounts[1].JoinedTimestamp:find("^%d%d%d%d%-%d%d%-%d%dT"), "a datetime to botocore")
    assert.equal(4, s:count("ListAccounts", "organizations"))
    assert.same({ { Id = "r-ex12", Name = "Root",
                    Arn = "arn:aws:organizations::111111111111:root/o-exampleorg1/r-ex12", PolicyTypes = {} } },
      res[2].result.Roots)
    local ous = {}
    for _, p in ipairs(res[3].result) do
      for _, c in ipairs(p.Children) do ous[#ous + 1] = c.Id .. " " .. c.Type end
    end
    assert.same({ "ou-ex12-security ORGANIZATIONAL_UNIT", "ou-ex12-workload ORGANIZATIONAL_UNIT" }, ous)
    local in_ou = {}
    for _, p in ipairs(res[4].result) do
      for _, a in ipairs(p.Accounts) do in_ou[#in_ou + 1] = a.Id .. " " .. a.Status end
    end
    assert.same({ "444444444444 ACTIVE", "555555555555 SUSPENDED" }, in_ou)
    local o = res[5].result.Organization
    assert.same({ "o-exampleorg1", ADMIN, "ALL", "org-admin@example.com" },
      { o.Id, o.MasterAccountId, o.FeatureSet, o.MasterAccountEmail })
    assert.same({ "555555555555", "sandbox", "SUSPENDED" },
      { res[6].result.Account.Id, res[6].result.Account.Name, res[6].result.Account.Status })
  end)

  it("gets the service's errors by code", function()
    local res = boto3(s, "prod", nil, {
      { service = "organizations", op = "list_accounts" },
      { service = "organizations", op = "describe_organization" },
    })
    assert.same({ 400, "AccessDeniedException", "You don't have permissions to access this resource." },
      { res[1].status, res[1].code, res[1].message })
    assert.equal(200, res[2].status)
    res = boto3(s, "org-admin", nil, {
      { service = "organizations", op = "list_accounts", params = { MaxResults = 21 } },
      { service = "organizations", op = "list_children", params = { ParentId = "r-EX12", ChildType = "ACCOUNT" } },
      { service = "organizations", op = "list_accounts_for_parent", params = { ParentId = "ou-ex12-nowhere1" } },
      { service = "organizations", op = "describe_account", params = { AccountId = "123456789012" } },
    })
    assert.same({ 400, "InvalidInputException" }, { res[1].status, res[1].code })
    assert.truthy(res[1].message:find("MaxResults", 1, true))
    assert.same({ 400, "InvalidInputException" }, { res[2].status, res[2].code })
    assert.truthy(res[2].message:find("^You provided a value that does not match the required pattern%."))
    assert.same({ 400, "ParentNotFoundException" }, { res[3].status, res[3].code })
    assert.same({ 400, "AccountNotFoundException" }, { res[4].status, res[4].code })
  end)

  it("refuses a request whose signature had one hex digit changed after botocore signed it", function()
    local calls = { { service = "organizations", op = "describe_organization" },
                    { service = "organizations", op = "list_roots" } }
    local good = boto3(s, "org-admin", nil, calls)
    for _, c in ipairs(calls) do c.tamper = "signature" end
    local bad = boto3(s, "org-admin", nil, calls)
    for i = 1, 2 do
      assert.equal(200, good[i].status)
      -- the front door's namespaced __type, read by botocore's parser
      assert.same({ 403, "InvalidSignatureException" }, { bad[i].status, bad[i].code })
    end
  end)
end)

describe("AWS CLI v2 against invite sim's Organizations", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)
  before_each(function() s:clear_requests() end)

  it("list-accounts (paginated), list-roots, list-children, list-accounts-for-parent, describe-organization", function()
    local r = assert(aws(s, "org-admin", nil, "organizations list-accounts --page-size 2"))
    assert.same(ALL, ids(r.Accounts))
    assert.equal(4, s:count("ListAccounts", "organizations"))
    r = assert(aws(s, "org-admin", "eu-west-1", "organizations list-roots"))
    assert.same({ "r-ex12" }, ids(r.Roots))
    r = assert(aws(s, "org-admin", nil, "organizations list-children --parent-id r-ex12 "
      .. "--child-type ORGANIZATIONAL_UNIT"))
    assert.same({ "ou-ex12-security", "ou-ex12-workload" }, ids(r.Children))
    r = assert(aws(s, "org-admin", nil, "organizations list-children --parent-id r-ex12 --child-type ACCOUNT"))
    assert.same({ ADMIN }, ids(r.Children))
    r = assert(aws(s, "org-admin", nil, "organizations list-accounts-for-parent --parent-id ou-ex12-workload"))
    assert.same({ PROD, "333333333333" }, ids(r.Accounts))
    r = assert(aws(s, "org-admin", nil, "organizations describe-organization"))
    assert.same({ "o-exampleorg1", ADMIN }, { r.Organization.Id, r.Organization.MasterAccountId })
    -- a member may describe its organisation, not list its accounts
    assert.equal(ADMIN, assert(aws(s, "prod", nil, "organizations describe-organization")).Organization.MasterAccountId)
    local ok, err = aws(s, "prod", nil, "organizations list-accounts", "AWS_MAX_ATTEMPTS=3")
    assert.is_nil(ok)
    assert.truthy(err:find("(AccessDeniedException)", 1, true), err)
    assert.equal(1, s:count("ListAccounts", "organizations") - 4)
  end)

  it("a wrong secret is refused (InvalidSignatureException)", function()
    local ok, err = aws(s, { access_key_id = "AKIASIMORGADMIN00001", secret_access_key = "not-the-secret" }, nil,
      "organizations describe-organization")
    assert.is_nil(ok)
    assert.truthy(err:find("(InvalidSignatureException)", 1, true), err)
  end)
end)

describe("the AWS CLIs against invite sim's Organizations handshakes", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)
  before_each(function() s:fresh() end)

  for _, cli in ipairs(compat.AWS_CLIS()) do
    local function run(who, args, env)
      return aws(s, who, nil, args, env, cli.path ~= "/usr/bin/aws" and cli.path or nil)
    end

    it(cli.path .. " (" .. cli.version .. "): list-handshakes-for-account through the empty first page, "
      .. "with a filter; describe-handshake with the nested resources", function()
      local r = assert(run("prod", "organizations list-handshakes-for-account"))
      assert.same({ "h-7kq2m9x4w1zp3r8t", "h-q4n8v2c6x0b3m7d1" }, ids(r.Handshakes))
      assert.same({ "OPEN", "DECLINED" }, { r.Handshakes[1].State, r.Handshakes[2].State })
      assert.equal(2, s:count("ListHandshakesForAccount", "organizations"))
      r = assert(run("dev", "organizations list-handshakes-for-account --filter ActionType=ENABLE_ALL_FEATURES"))
      assert.same({ "h-ex12enableall001" }, ids(r.Handshakes))
      assert.equal("REQUESTED", r.Handshakes[1].State)
      r = assert(run("staging", "organizations list-handshakes-for-account --filter ActionType=ENABLE_ALL_FEATURES"))
      assert.same({}, r.Handshakes)
      local h = assert(run("prod", "organizations describe-handshake --handshake-id h-7kq2m9x4w1zp3r8t")).Handshake
      assert.same({ "INVITE", "arn:aws:organizations::493817260514:handshake/o-k7q2m9x4w1/invite/h-7kq2m9x4w1zp3r8t" },
        { h.Action, h.Arn })
      assert.same({ { Id = "o-k7q2m9x4w1", Type = "ORGANIZATION" }, { Id = PROD, Type = "ACCOUNT" } }, h.Parties)
      assert.same({ { Type = "MASTER_EMAIL", Value = "it-admin@unknown-holdings.example" },
        { Type = "MASTER_NAME", Value = "Unknown Holdings" }, { Type = "ORGANIZATION_FEATURE_SET", Value = "ALL" } },
        h.Resources[1].Resources)
      assert.is_not_nil(h.RequestedTimestamp)
    end)

    it(cli.path .. " (" .. cli.version .. "): accept-handshake and decline-handshake, and the service's refusals",
      function()
      -- prod is in Example Corp's organisation: it cannot join another
      local ok, err = run("prod", "organizations accept-handshake --handshake-id h-7kq2m9x4w1zp3r8t",
        "AWS_MAX_ATTEMPTS=3")
      assert.is_nil(ok)
      assert.truthy(err:find("(HandshakeConstraintViolationException)", 1, true), err)
      assert.equal(1, s:count("AcceptHandshake", "organizations"))
      local h = assert(run("prod", "organizations decline-handshake --handshake-id h-7kq2m9x4w1zp3r8t")).Handshake
      assert.same({ "h-7kq2m9x4w1zp3r8t", "DECLINED" }, { h.Id, h.State })
      ok, err = run("prod", "organizations decline-handshake --handshake-id h-7kq2m9x4w1zp3r8t")
      assert.is_nil(ok)
      assert.truthy(err:find("(HandshakeAlreadyInStateException)", 1, true), err)
      ok, err = run("prod", "organizations accept-handshake --handshake-id h-q4n8v2c6x0b3m7d1")
      assert.is_nil(ok)
      assert.truthy(err:find("(InvalidHandshakeTransitionException)", 1, true), err)
      -- staging accepts its own organisation's invitation
      h = assert(run("staging", "organizations accept-handshake --handshake-id h-ex12invite000001")).Handshake
      assert.same({ "ACCEPTED",
        "arn:aws:organizations::111111111111:handshake/o-exampleorg1/invite/h-ex12invite000001" },
        { h.State, h.Arn })
      -- someone else's, a bad ID
      ok, err = run("dev", "organizations describe-handshake --handshake-id h-ex12invite000001")
      assert.is_nil(ok)
      assert.truthy(err:find("(HandshakeNotFoundException)", 1, true), err)
      ok, err = run("dev", "organizations decline-handshake --handshake-id h-NOPE")
      assert.is_nil(ok)
      assert.truthy(err:find("(InvalidInputException)", 1, true), err)
    end)
  end
end)
