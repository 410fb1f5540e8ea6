-- invite sim against clients nobody here wrote: Debian's AWS CLI v2 (/usr/bin/aws) and boto3
-- (/usr/bin/python3). Both list, count, decline, delete and accept invitations on each of the
-- three services and get AWS-shaped answers; the same request with one hex digit of its
-- signature changed is rejected. (The drivers are support.compat's.)
local cjson = require "cjson"
local sim = require "support.sim"

local PROD, STAGING, ADMIN = "222222222222", "333333333333", "111111111111"
local compat = require "support.compat"
local boto3, aws, q = compat.boto3, compat.aws, sim.shell_quote

local function find(list, pred)
  for _, v in ipairs(list) do if pred(v) then return v end end
end

-- the n-th invitation in a listing that is not from the organisation's admin account
local function stranger(items, n)
  n = n or 1
  for _, it in ipairs(items) do
    local id = it.AccountId or it.accountId
    if id ~= ADMIN then
      n = n - 1
      if n == 0 then return id end
    end
  end
end

local function fixture_invitation(s, service, account, inviter, region)
  return find(s:state().invitations, function(inv)
    return inv.service == service and inv.account == account and inv.inviter == inviter
      and inv.region == (region or "us-east-1")
  end)
end

teardown(function() compat.cleanup() end)

describe("AWS CLI v2 against invite sim", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)
  before_each(function() s:fresh() end)

  it("guardduty: detectors, count, paginated list, decline, delete, accept, administrator, disassociate", function()
    local det = assert(aws(s, "prod", nil, "guardduty list-detectors")).DetectorIds[1]
    assert.truthy(det:find("^%x+$"))
    assert.equal(65, assert(aws(s, "prod", nil, "guardduty get-invitations-count")).InvitationsCount)
    local list = assert(aws(s, "prod", nil, "guardduty list-invitations --page-size 20"))
    assert.equal(65, #list.Invitations)
    assert.equal(4, s:count("ListInvitations", "guardduty"))
    local other = stranger(list.Invitations, 3)
    local r = assert(aws(s, "prod", nil, "guardduty decline-invitations --account-ids " .. other
      .. " 123456789012"))
    assert.equal(1, #r.UnprocessedAccounts)
    assert.equal("123456789012", r.UnprocessedAccounts[1].AccountId)
    assert.truthy(r.UnprocessedAccounts[1].Result:find("^The request is rejected"))
    r = assert(aws(s, "prod", nil, "guardduty delete-invitations --account-ids " .. other))
    assert.same({}, r.UnprocessedAccounts)
    assert.equal(64, assert(aws(s, "prod", nil, "guardduty get-invitations-count")).InvitationsCount)
    local inv = fixture_invitation(s, "guardduty", PROD, ADMIN)
    assert(aws(s, "prod", nil, "guardduty accept-administrator-invitation --detector-id " .. det
      .. " --administrator-id " .. ADMIN .. " --invitation-id " .. inv.id))
    local admin = assert(aws(s, "prod", nil, "guardduty get-administrator-account --detector-id " .. det))
    assert.same({ ADMIN, inv.id, "Enabled" }, { admin.Administrator.AccountId, admin.Administrator.InvitationId,
                                                admin.Administrator.RelationshipStatus })
    assert(aws(s, "prod", nil, "guardduty disassociate-from-administrator-account --detector-id " .. det))
    assert.same({}, assert(aws(s, "prod", nil, "guardduty get-administrator-account --detector-id " .. det)))
    local ok, err = aws(s, "prod", nil, "guardduty get-administrator-account --detector-id not-my-detector")
    assert.is_nil(ok)
    assert.truthy(err:find("(BadRequestException)", 1, true), err)
  end)

  it("macie2: count, paginated list, decline, delete, accept, administrator, disassociate", function()
    assert.equal(62, assert(aws(s, "prod", nil, "macie2 get-invitations-count")).invitationsCount)
    local list = assert(aws(s, "prod", nil, "macie2 list-invitations --page-size 25"))
    assert.equal(62, #list.invitations)
    assert.equal(3, s:count("ListInvitations", "macie2"))
    local other = stranger(list.invitations, 2)
    local r = assert(aws(s, "prod", nil, "macie2 decline-invitations --account-ids " .. other .. " 123456789012"))
    assert.same({ { accountId = "123456789012", errorCode = "ClientError",
                    errorMessage = r.unprocessedAccounts[1].errorMessage } }, r.unprocessedAccounts)
    r = assert(aws(s, "prod", nil, "macie2 delete-invitations --account-ids " .. other))
    assert.same({}, r.unprocessedAccounts)
    local inv = fixture_invitation(s, "macie2", PROD, ADMIN)
    assert(aws(s, "prod", nil, "macie2 accept-invitation --administrator-account-id " .. ADMIN
      .. " --invitation-id " .. inv.id))
    local admin = assert(aws(s, "prod", nil, "macie2 get-administrator-account")).administrator
    assert.same({ ADMIN, "Enabled" }, { admin.accountId, admin.relationshipStatus })
    assert(aws(s, "prod", nil, "macie2 disassociate-from-administrator-account"))
    local ok, err = aws(s, "prod", nil, "macie2 accept-invitation --administrator-account-id " .. ADMIN
      .. " --invitation-id wrong")
    assert.is_nil(ok)
    assert.truthy(err:find("(ResourceNotFoundException)", 1, true), err)
  end)

  it("securityhub: count, paginated list, decline, delete, accept, administrator, disassociate", function()
    assert.equal(55, assert(aws(s, "prod", nil, "securityhub get-invitations-count")).InvitationsCount)
    local list = assert(aws(s, "prod", nil, "securityhub list-invitations --page-size 25"))
    assert.equal(55, #list.Invitations)
    assert.equal(3, s:count("ListInvitations", "securityhub"))
    local other = stranger(list.Invitations, 2)
    local r = assert(aws(s, "prod", nil, "securityhub decline-invitations --account-ids " .. other
      .. " 123456789012"))
    assert.equal("123456789012", r.UnprocessedAccounts[1].AccountId)
    assert.truthy(r.UnprocessedAccounts[1].ProcessingResult)
    r = assert(aws(s, "prod", nil, "securityhub delete-invitations --account-ids " .. other))
    assert.same({}, r.UnprocessedAccounts)
    local inv = fixture_invitation(s, "securityhub", PROD, ADMIN)
    assert(aws(s, "prod", nil, "securityhub accept-administrator-invitation --administrator-id " .. ADMIN
      .. " --invitation-id " .. inv.id))
    local admin = assert(aws(s, "prod", nil, "securityhub get-administrator-account")).Administrator
    assert.same({ ADMIN, inv.id, "Enabled" }, { admin.AccountId, admin.InvitationId, admin.MemberStatus })
    assert(aws(s, "prod", nil, "securityhub disassociate-from-administrator-account"))
    local ok, err = aws(s, "dev", "ap-southeast-2", "securityhub list-invitations")
    assert.is_nil(ok)
    assert.truthy(err:find("(InvalidAccessException)", 1, true), err)
  end)

  it("sts: get-caller-identity and assume-role, then the role's keys work", function()
    local who = assert(aws(s, "staging", nil, "sts get-caller-identity"))
    assert.same({ STAGING, "arn:aws:iam::" .. STAGING .. ":user/staging-automation" }, { who.Account, who.Arn })
    local r = assert(aws(s, "org-admin", nil, "sts assume-role --role-arn arn:aws:iam::" .. PROD
      .. ":role/InviteManager --role-session-name cli"))
    local c = r.Credentials
    assert.truthy(c.AccessKeyId:find("^ASIA"))
    local creds = { access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey }
    local ok, err = aws(s, creds, nil, "sts get-caller-identity", "AWS_SESSION_TOKEN=" .. q(c.SessionToken))
    assert.equal("arn:aws:sts::" .. PROD .. ":assumed-role/InviteManager/cli", ok and ok.Arn, err)
  end)

  it("a wrong secret and expired session credentials are rejected", function()
    local ok, err = aws(s, { access_key_id = "AKIASIMPROD000000001", secret_access_key = "not-the-secret" }, nil,
      "guardduty get-invitations-count")
    assert.is_nil(ok)
    assert.truthy(err:find("(InvalidSignatureException)", 1, true), err)
    local exp = sim.sessions.expired
    ok, err = aws(s, exp, nil, "macie2 get-invitations-count", "AWS_SESSION_TOKEN=" .. q(exp.session_token))
    assert.is_nil(ok)
    assert.truthy(err:find("(ExpiredTokenException)", 1, true), err)
  end)

  it("retries injected throttling and 503s like it would at AWS", function()
    s:set_faults("first 2 guardduty:GetInvitationsCount throttle; first 1 securityhub 503")
    local retry = "AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=4"
    assert.equal(65, assert(aws(s, "prod", nil, "guardduty get-invitations-count", retry)).InvitationsCount)
    assert.equal(3, s:count("GetInvitationsCount", "guardduty"))
    assert.equal(55, assert(aws(s, "prod", nil, "securityhub get-invitations-count", retry)).InvitationsCount)
    assert.equal(2, s:count("GetInvitationsCount", "securityhub"))
    s:set_faults("first 5 macie2 throttle=1")
    local ok, err = aws(s, "prod", nil, "macie2 get-invitations-count", "AWS_MAX_ATTEMPTS=1")
    assert.is_nil(ok)
    assert.truthy(err:find("(ThrottlingException)", 1, true), err)
  end)
end)

describe("boto3 against invite sim", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)
  before_each(function() s:reset() end)

  it("lists (paginated), counts, declines, deletes and accepts on all three services", function()
    local gd_det = boto3(s, "prod", nil, { { service = "guardduty", op = "list_detectors" } })[1].result.DetectorIds[1]
    local inv = {}
    for _, svc in ipairs{ "macie2", "securityhub", "guardduty" } do
      inv[svc] = fixture_invitation(s, svc, PROD, ADMIN)
    end
    local res = boto3(s, "prod", nil, {
      { service = "macie2", op = "get_invitations_count" },
      { service = "macie2", op = "list_invitations", paginate = true, page_size = 25 },
      { service = "macie2", op = "decline_invitations", params = { accountIds = { "123456789012" } } },
      { service = "macie2", op = "delete_invitations", params = { accountIds = { "123456789012" } } },
      { service = "macie2", op = "accept_invitation",
        params = { administratorAccountId = ADMIN, invitationId = inv.macie2.id } },
      { service = "macie2", op = "get_administrator_account" },
      { service = "securityhub", op = "get_invitations_count" },
      { service = "securityhub", op = "list_invitations", paginate = true, page_size = 25 },
      { service = "securityhub", op = "decline_invitations", params = { AccountIds = { "123456789012" } } },
      { service = "securityhub", op = "delete_invitations", params = { AccountIds = { "123456789012" } } },
      { service = "securityhub", op = "accept_administrator_invitation",
        params = { AdministratorId = ADMIN, InvitationId = inv.securityhub.id } },
      { service = "securityhub", op = "get_administrator_account" },
      { service = "guardduty", op = "get_invitations_count" },
      { service = "guardduty", op = "list_invitations", paginate = true, page_size = 25 },
      { service = "guardduty", op = "decline_invitations", params = { AccountIds = { "123456789012" } } },
      { service = "guardduty", op = "delete_invitations", params = { AccountIds = { "123456789012" } } },
      { service = "guardduty", op = "accept_administrator_invitation",
        params = { DetectorId = gd_det, AdministratorId = ADMIN, InvitationId = inv.guardduty.id } },
      { service = "guardduty", op = "get_administrator_account", params = { DetectorId = gd_det } },
      { service = "guardduty", op = "disassociate_from_administrator_account", params = { DetectorId = gd_det } },
    })
    for i, r in ipairs(res) do assert.equal(200, r.status, "call " .. i .. ": " .. cjson.encode(r)) end
    -- macie2
    assert.equal(62, res[1].result.invitationsCount)
    assert.equal(3, #res[2].result)
    local n = 0
    for _, page in ipairs(res[2].result) do n = n + #page.invitations end
    assert.equal(62, n)
    assert.same({ { accountId = "123456789012", errorCode = "ClientError",
                    errorMessage = res[3].result.unprocessedAccounts[1].errorMessage } },
      res[3].result.unprocessedAccounts)
    assert.equal(ADMIN, res[6].result.administrator.accountId)
    assert.truthy(res[6].result.administrator.invitedAt:find("^%d%d%d%d%-%d%d%-%d%dT"))
    -- securityhub
    assert.equal(55, res[7].result.InvitationsCount)
    n = 0
    for _, page in ipairs(res[8].result) do n = n + #page.Invitations end
    assert.equal(55, n)
    assert.equal("123456789012", res[9].result.UnprocessedAccounts[1].AccountId)
    assert.same({ ADMIN, "Enabled" }, { res[12].result.Administrator.AccountId,
                                        res[12].result.Administrator.MemberStatus })
    -- guardduty
    assert.equal(65, res[13].result.InvitationsCount)
    n = 0
    for _, page in ipairs(res[14].result) do n = n + #page.Invitations end
    assert.equal(65, n)
    assert.equal(3, #res[14].result)
    assert.is_string(res[15].result.UnprocessedAccounts[1].Result)
    assert.equal(inv.guardduty.id, res[18].result.Administrator.InvitationId)
    local st = s:state()
    assert.is_nil(find(st.administrators, function(a)
      return a.service == "guardduty" and a.account == PROD
    end))
    assert.truthy(find(st.administrators, function(a)
      return a.service == "macie2" and a.account == PROD and a.administrator == ADMIN
    end))
  end)

  it("gets errors with the service's code from boto3's parser", function()
    local res = boto3(s, "prod", nil, {
      { service = "guardduty", op = "get_administrator_account", params = { DetectorId = "not-my-detector" } },
      { service = "macie2", op = "accept_invitation", params = { invitationId = "nope" } },
      { service = "securityhub", op = "accept_administrator_invitation",
        params = { AdministratorId = ADMIN, InvitationId = "nope" } },
      { service = "sts", op = "assume_role", params = { RoleArn = "arn:aws:iam::444444444444:role/InviteManager",
                                                         RoleSessionName = "x1" } },
    })
    assert.same({ 400, "BadRequestException" }, { res[1].status, res[1].code })
    assert.same({ 404, "ResourceNotFoundException" }, { res[2].status, res[2].code })
    assert.same({ 404, "ResourceNotFoundException" }, { res[3].status, res[3].code })
    assert.truthy(res[3].message)
    assert.same({ 403, "AccessDenied" }, { res[4].status, res[4].code })
  end)

  it("rejects each request whose signature had one hex digit changed after botocore signed it", function()
    local calls = {
      { service = "macie2", op = "get_invitations_count" },
      { service = "securityhub", op = "get_invitations_count" },
      { service = "guardduty", op = "decline_invitations", params = { AccountIds = { ADMIN } } },
      { service = "sts", op = "get_caller_identity" },
    }
    local good = boto3(s, "prod", nil, calls)
    for _, c in ipairs(calls) do c.tamper = "signature" end
    local bad = boto3(s, "prod", nil, calls)
    for i = 1, 3 do
      assert.equal(200, good[i].status)
      assert.same({ 403, "InvalidSignatureException" }, { bad[i].status, bad[i].code })
    end
    assert.equal(200, good[4].status)
    assert.same({ 403, "SignatureDoesNotMatch" }, { bad[4].status, bad[4].code })
    -- the tampered decline changed nothing
    assert.equal("Resigned", fixture_invitation(s, "guardduty", PROD, ADMIN).status) -- from the good call
    s:reset()
    boto3(s, "prod", nil, { calls[3] })
    assert.equal("Invited", fixture_invitation(s, "guardduty", PROD, ADMIN).status)
  end)

  it("rejects a request signed by botocore and sent with urllib once one hex digit is flipped", function()
    local body = cjson.encode({ accountIds = { "123456789012" } })
    local res = boto3(s, "staging", nil, {
      { raw = true, service = "guardduty", method = "POST", path = "/invitation/decline", body = body },
      { raw = true, service = "guardduty", method = "POST", path = "/invitation/decline", body = body, flip = true },
      { raw = true, service = "macie2", method = "GET", path = "/invitations", query = "maxResults=5" },
      { raw = true, service = "macie2", method = "GET", path = "/invitations", query = "maxResults=5", flip = true },
    })
    assert.equal(200, res[1].status, res[1].body)
    assert.equal(403, res[2].status)
    assert.equal("InvalidSignatureException", res[2].headers["x-amzn-ErrorType"])
    assert.truthy(res[2].body:find("signature we calculated does not match", 1, true))
    assert.equal(200, res[3].status, res[3].body)
    assert.equal(403, res[4].status)
  end)

  it("uses credentials from AssumeRole and AssumeRoleWithWebIdentity", function()
    local r = boto3(s, "audit", nil, {
      { service = "sts", op = "assume_role", params = { RoleArn = "arn:aws:iam::" .. STAGING .. ":role/InviteManager",
                                                         RoleSessionName = "boto3", DurationSeconds = 900 } },
    })[1]
    assert.equal(200, r.status)
    local c = r.result.Credentials
    assert.truthy(c.Expiration:find("^%d%d%d%d%-"))
    local creds = { access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey,
                    session_token = c.SessionToken }
    local res = boto3(s, creds, nil, {
      { service = "guardduty", op = "get_invitations_count" },
      { service = "sts", op = "get_caller_identity" },
    })
    assert.equal(2, res[1].result.InvitationsCount)
    assert.equal("arn:aws:sts::" .. STAGING .. ":assumed-role/InviteManager/boto3", res[2].result.Arn)
    res = boto3(s, "audit", nil, {
      { service = "sts", op = "assume_role_with_web_identity", params = {
        RoleArn = "arn:aws:iam::666666666666:role/GitHubActionsInvite", RoleSessionName = "gha",
        WebIdentityToken = "sim-web-identity-token-ci" } },
      { service = "sts", op = "assume_role_with_web_identity", params = {
        RoleArn = "arn:aws:iam::666666666666:role/GitHubActionsInvite", RoleSessionName = "gha",
        WebIdentityToken = "forged" } },
    })
    assert.equal(200, res[1].status)
    assert.equal("repo:example-corp/security:ref:refs/heads/main", res[1].result.SubjectFromWebIdentityToken)
    assert.same({ 400, "InvalidIdentityToken" }, { res[2].status, res[2].code })
    local log = s:requests()
    assert.equal("none", log[#log].auth)
  end)
end)
