-- invite sim's Amazon Detective against clients nobody here wrote: each AWS CLI here (python3's,
-- botocore 1.43, and Debian's v2 /usr/bin/aws, 2.9.19) lists the example fixture's behavior-graph
-- invitations (a page at a time with --max-results / --next-token: the CLI has no paginator for
-- it), rejects, accepts and leaves them, and gets Detective's errors by code in one request each;
-- python3's boto3 (botocore 1.43) reads the MemberDetail, its ISO-8601 millisecond timestamps and
-- the ValidationException's ErrorCode.
local sim = require "support.sim"
local compat = require "support.compat"

local R = "us-east-1"
local ADMIN_GRAPH = "arn:aws:detective:us-east-1:111111111111:graph:0a9e3c7b15d24f6e8b1c4d7a2e9f6b30"
local STRANGER_GRAPH = "arn:aws:detective:us-east-1:731509842266:graph:5f2c9a81e04b4d7e9c3a6b1f8d027e44"
local EU_GRAPH = "arn:aws:detective:eu-west-1:918273645501:graph:c4b8e2f60d1a4937a5e6f0b2d8c1e7a9"

local function arns(r) return sim.pluck(r.Invitations, "GraphArn") end

teardown(function() compat.cleanup() end)

for _, cli in ipairs(compat.AWS_CLIS()) do
  describe("AWS CLI " .. cli.version .. " (" .. cli.path .. ") against invite sim's Detective", function()
    local s
    local function aws(who, region, args, env) return compat.aws(s, who, region, args, env, cli.path) end
    setup(function() s = sim.start{} end)
    teardown(function() s:stop() end)
    before_each(function() s:fresh() end)

    it("list-invitations: the example's INVITED graphs, one page at a time with --max-results/--next-token",
      function()
      local r = assert(aws("prod", R, "detective list-invitations"))
      assert.same({ ADMIN_GRAPH, STRANGER_GRAPH }, arns(r))
      local m = r.Invitations[1]
      assert.same({ "222222222222", "111111111111", "111111111111", "prod@example.com", "INVITED", "INVITATION" },
        { m.AccountId, m.AdministratorId, m.MasterId, m.EmailAddress, m.Status, m.InvitationType })
      assert.truthy(tostring(m.InvitedTime):find("^%d%d%d%d%-%d%d%-%d%dT"), tostring(m.InvitedTime))
      local p1 = assert(aws("prod", R, "detective list-invitations --max-results 1"))
      assert.same({ ADMIN_GRAPH }, arns(p1))
      assert.is_string(p1.NextToken)
      local p2 = assert(aws("prod", R, "detective list-invitations --max-results 1 --next-token "
        .. sim.shell_quote(p1.NextToken)))
      assert.same({ STRANGER_GRAPH }, arns(p2))
      assert.is_nil(p2.NextToken)
      assert.same({ EU_GRAPH }, arns(assert(aws("prod", "eu-west-1", "detective list-invitations"))))
      -- staging is a member (ENABLED), dev an organization account: both listed
      local st = assert(aws("staging", R, "detective list-invitations"))
      assert.same({ "ENABLED", "INVITATION" }, { st.Invitations[1].Status, st.Invitations[1].InvitationType })
      local dev = assert(aws("dev", R, "detective list-invitations"))
      assert.same({ "ENABLED", "ORGANIZATION" }, { dev.Invitations[1].Status, dev.Invitations[1].InvitationType })
      assert.equal(6, s:count("ListInvitations", "detective"))
    end)

    it("reject-invitation removes it; a second reject is ResourceNotFoundException, in one request", function()
      assert.same({}, assert(aws("prod", R, "detective reject-invitation --graph-arn " .. STRANGER_GRAPH)))
      assert.same({ ADMIN_GRAPH }, arns(assert(aws("prod", R, "detective list-invitations"))))
      local ok, err = aws("prod", R, "detective reject-invitation --graph-arn " .. STRANGER_GRAPH, "AWS_MAX_ATTEMPTS=3")
      assert.is_nil(ok)
      assert.truthy(err:find("(ResourceNotFoundException)", 1, true), err)
      assert.equal(2, s:count("RejectInvitation", "detective"))
    end)

    it("accept-invitation makes prod a member; accepting again is ConflictException; disassociate-membership "
      .. "leaves", function()
      assert.same({}, assert(aws("prod", R, "detective accept-invitation --graph-arn " .. ADMIN_GRAPH)))
      local r = assert(aws("prod", R, "detective list-invitations"))
      assert.same({ ADMIN_GRAPH, "ENABLED" }, { r.Invitations[1].GraphArn, r.Invitations[1].Status })
      local ok, err = aws("prod", R, "detective accept-invitation --graph-arn " .. ADMIN_GRAPH, "AWS_MAX_ATTEMPTS=3")
      assert.is_nil(ok)
      assert.truthy(err:find("(ConflictException)", 1, true), err)
      assert.equal(2, s:count("AcceptInvitation", "detective"))
      assert.same({}, assert(aws("prod", R, "detective disassociate-membership --graph-arn " .. ADMIN_GRAPH)))
      assert.same({ STRANGER_GRAPH }, arns(assert(aws("prod", R, "detective list-invitations"))))
      -- an organization account cannot leave; an INVITED one is not a member
      ok, err = aws("dev", R, "detective disassociate-membership --graph-arn " .. ADMIN_GRAPH)
      assert.is_nil(ok)
      assert.truthy(err:find("(ConflictException)", 1, true), err)
      ok, err = aws("prod", R, "detective disassociate-membership --graph-arn " .. STRANGER_GRAPH)
      assert.is_nil(ok)
      assert.truthy(err:find("(ConflictException)", 1, true), err)
    end)

    it("a GraphArn off the model's pattern is the service's ValidationException; nothing changes", function()
      local before = s:state().version
      local ok, err = aws("prod", R, "detective reject-invitation --graph-arn arn:aws:detective:us-east-1:1:graph:x")
      assert.is_nil(ok)
      assert.truthy(err:find("(ValidationException)", 1, true), err)
      assert.truthy(err:find("graphArn", 1, true), err)
      assert.equal(before, s:state().version)
      ok, err = aws("prod", R, "detective list-invitations --max-results 201")
      assert.is_nil(ok)
      -- botocore's validator checks an integer's min only: the service refuses it
      assert.truthy(err:find("(ValidationException)", 1, true), err)
      assert.truthy(err:find("'maxResults'", 1, true), err)
      assert.equal(1, s:count("ListInvitations", "detective"))
    end)

    it("a wrong secret is refused (InvalidSignatureException)", function()
      local ok, err = compat.aws(s, { access_key_id = "AKIASIMPROD000000001", secret_access_key = "not-the-secret" },
        R, "detective list-invitations", nil, cli.path)
      assert.is_nil(ok)
      assert.truthy(err:find("(InvalidSignatureException)", 1, true), err)
    end)
  end)
end

describe("python3's boto3 against invite sim's Detective", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)

  it("reads MemberDetail (timestamps with milliseconds as datetimes) and ValidationException's ErrorCode", function()
    local python = compat.python_with("detective", "list_invitations")
    if not python then return pending("no boto3 with Detective") end
    local res = compat.boto3(s, "staging", R, {
      { service = "detective", op = "list_invitations", params = { MaxResults = 5 } },
      { service = "detective", op = "reject_invitation", params = { GraphArn = "arn:aws:detective:x" } },
      { raw = true, service = "detective", method = "POST", path = "/invitation/removal",
        body = '{"GraphArn": "arn:aws:detective:us-east-1:111111111111:graph:nope"}' },
    }, python)
    assert.equal(200, res[1].status)
    local m = res[1].result.Invitations[1]
    assert.same({ ADMIN_GRAPH, "ENABLED", "333333333333", "staging@example.com" },
      { m.GraphArn, m.Status, m.AccountId, m.EmailAddress })
    assert.truthy(m.InvitedTime:find("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d+Z$"), m.InvitedTime)
    assert.same({ DETECTIVE_CORE = "STARTED" }, m.DatasourcePackageIngestStates)
    assert.same({ 400, "ValidationException" }, { res[2].status, res[2].code })
    assert.equal(400, res[3].status)
    local body = require("cjson").decode(res[3].body)
    assert.same({ "INVALID_GRAPH_ARN", "ValidationException" }, { body.ErrorCode, res[3].headers["x-amzn-ErrorType"] })
  end)
end)
