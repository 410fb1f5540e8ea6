-- Every operation of every service, called through invite's clients against the simulator,
-- in the order a user would: count, list, decline, delete, accept, read the administrator,
-- disassociate (and the deprecated "master" twins). Checks the answers in boto3's names,
-- the simulator's state changes, and its request log (operation, status, signed account).
local sim = require "support.sim"
local invite = require "invite"

local REGION = "eu-west-1"
local ME = "111122223333"
local KEY = { id = "AKIASERVICESSPEC0001", secret = "services/spec/secret/0123456789abcdefghij" }
local DETECTOR = "0cb2a4c6e8f0a2c4e6a8c0e2a4c6e8f0"
local INVITERS = { "210987654321", "333344445555", "444455556666", "555566667777", "666677778888" }

-- boto3's names per service, so one scenario serves all three.
local N = {
  macie2 = { ids = "accountIds", un = "unprocessedAccounts", un_id = "accountId", list = "invitations",
    acc = "accountId", inv = "invitationId", at = "invitedAt", st = "relationshipStatus", count = "invitationsCount",
    admin = "administrator", master = "master", token = "nextToken", max = "maxResults" },
  securityhub = { ids = "AccountIds", un = "UnprocessedAccounts", un_id = "AccountId", list = "Invitations",
    acc = "AccountId", inv = "InvitationId", at = "InvitedAt", st = "MemberStatus", count = "InvitationsCount",
    admin = "Administrator", master = "Master", token = "NextToken", max = "MaxResults" },
  guardduty = { ids = "AccountIds", un = "UnprocessedAccounts", un_id = "AccountId", list = "Invitations",
    acc = "AccountId", inv = "InvitationId", at = "InvitedAt", st = "RelationshipStatus", count = "InvitationsCount",
    admin = "Administrator", master = "Master", token = "NextToken", max = "MaxResults" },
}

local function fixture()
  local invitations = {}
  for _, svc in ipairs{ "macie2", "securityhub", "guardduty" } do
    for i, inviter in ipairs(INVITERS) do
      invitations[#invitations + 1] = { service = svc, region = REGION, account = ME, inviter = inviter,
        id = svc .. "-" .. i, invited_at = string.format("2026-02-%02dT08:30:00Z", i) }
    end
  end
  return {
    accounts = { { id = ME, name = "member", access_keys = { KEY } } },
    detectors = { { account = ME, region = REGION, id = DETECTOR } },
    invitations = invitations,
  }
end

local function by_account(list, key)
  local out = {}
  for _, e in ipairs(list or {}) do out[e[key]] = e end
  return out
end

for _, service in ipairs{ "macie2", "securityhub", "guardduty" } do
  local n = N[service]
  describe(service .. " against the simulator", function()
    local s, c, mark

    -- request-log entries since the last mark
    local function logged()
      local all = s:requests()
      local out = {}
      for _, e in ipairs(all) do
        if e.seq and e.seq > mark then out[#out + 1] = e end
      end
      if #all > 0 then mark = all[#all].seq or mark end
      return out
    end

    local function p(t) -- add DetectorId for guardduty's detector-scoped calls
      t = t or {}
      if service == "guardduty" then t.DetectorId = DETECTOR end
      return t
    end

    setup(function()
      s = sim.start{ fixtures = fixture(), seed = 3 }
      c = invite[service].client{ region = REGION, endpoint = s.endpoint,
        credentials = { access_key_id = KEY.id, secret_access_key = KEY.secret } }
      mark = 0
    end)
    teardown(function() s:stop() end)

    it("get_invitations_count", function()
      local res, err = c:get_invitations_count{}
      assert.is_nil(err)
      assert.are.equal(#INVITERS, res[n.count])
      assert.are.equal(200, res.ResponseMetadata.HTTPStatusCode)
      assert.is_string(res.ResponseMetadata.RequestId)
      local log = logged()
      assert.are.equal(1, #log)
      assert.are.equal(service, log[1].service)
      assert.are.equal("GetInvitationsCount", log[1].operation)
      assert.are.equal(ME, log[1].account)
      assert.are.equal(REGION, log[1].region)
      assert.are.equal(res.ResponseMetadata.RequestId, log[1].id)
    end)

    it("list_invitations", function()
      local res = assert(c:list_invitations{ [n.max] = 10 })
      local got = by_account(res[n.list], n.acc)
      for i, inviter in ipairs(INVITERS) do
        local inv = got[inviter]
        assert.is_table(inv, inviter)
        assert.are.equal(service .. "-" .. i, inv[n.inv])
        assert.matches("^2026%-02%-0" .. i .. "T08:30:00", inv[n.at])
        assert.is_string(inv[n.st])
      end
      assert.is_nil(res[n.token])
      assert.are.equal("ListInvitations", logged()[1].operation)
    end)

    if service == "guardduty" then
      it("list_detectors", function()
        local res = assert(c:list_detectors{})
        assert.are.same({ DETECTOR }, res.DetectorIds)
        local all = assert(c:list_all_detectors{})
        assert.are.same({ DETECTOR }, all)
        assert.are.equal("ListDetectors", logged()[1].operation)
      end)
    end

    it("decline_invitations (an unknown inviter comes back unprocessed)", function()
      local res = assert(c:decline_invitations{ [n.ids] = { INVITERS[1], "999988887777" } })
      local un = by_account(res[n.un], n.un_id)
      assert.is_nil(un[INVITERS[1]])
      assert.is_table(un["999988887777"])
      local log = logged()
      assert.are.equal("DeclineInvitations", log[1].operation)
      assert.are.equal(200, log[1].status)
    end)

    it("delete_invitations removes the declined invitation", function()
      local res = assert(c:delete_invitations{ [n.ids] = { INVITERS[1] } })
      assert.are.same({}, res[n.un] or {})
      local list = assert(c:list_all_invitations{})
      assert.is_nil(by_account(list, n.acc)[INVITERS[1]])
      assert.are.equal(#INVITERS - 1, #list)
      assert.are.equal("DeleteInvitations", logged()[1].operation)
    end)

    local accept_op = service == "macie2" and "accept_invitation" or "accept_administrator_invitation"
    it(accept_op .. " makes the inviter the administrator", function()
      local params
      if service == "macie2" then
        params = { administratorAccountId = INVITERS[2], invitationId = "macie2-2" }
      else
        params = p{ AdministratorId = INVITERS[2], InvitationId = service .. "-2" }
      end
      local res, err = c[accept_op](c, params)
      assert.is_nil(err)
      assert.are.equal(200, res.ResponseMetadata.HTTPStatusCode)
      assert.are.equal(service == "macie2" and "AcceptInvitation" or "AcceptAdministratorInvitation",
        logged()[1].operation)
    end)

    it("get_administrator_account and get_master_account show it", function()
      local res = assert(c:get_administrator_account(p()))
      assert.are.equal(INVITERS[2], res[n.admin][n.acc])
      assert.are.equal(service .. "-2", res[n.admin][n.inv])
      local m = assert(c:get_master_account(p()))
      assert.are.equal(INVITERS[2], m[n.master][n.acc])
      local log = logged()
      assert.are.equal("GetAdministratorAccount", log[1].operation)
      assert.are.equal("GetMasterAccount", log[2].operation)
    end)

    it("disassociate_from_administrator_account ends it", function()
      assert(c:disassociate_from_administrator_account(p()))
      local res = assert(c:get_administrator_account(p()))
      local admin = res[n.admin]
      assert.is_true(admin == nil or admin[n.acc] ~= INVITERS[2] or admin[n.st] ~= "Enabled",
        "still associated after disassociate")
      assert.are.equal("DisassociateFromAdministratorAccount", logged()[1].operation)
    end)

    if service ~= "macie2" then
      it("accept_invitation (deprecated twin) and disassociate_from_master_account", function()
        local res, err = c:accept_invitation(p{ MasterId = INVITERS[3], InvitationId = service .. "-3" })
        assert.is_nil(err)
        assert.are.equal(200, res.ResponseMetadata.HTTPStatusCode)
        local a = assert(c:get_administrator_account(p()))
        assert.are.equal(INVITERS[3], a[n.admin][n.acc])
        assert(c:disassociate_from_master_account(p()))
        local log = logged()
        assert.are.equal("AcceptInvitation", log[1].operation)
        assert.are.equal("DisassociateFromMasterAccount", log[3].operation)
        assert.are.equal(200, log[3].status)
      end)
    else
      it("disassociate_from_master_account (older twin)", function()
        assert(c:accept_invitation{ administratorAccountId = INVITERS[3], invitationId = "macie2-3" })
        assert(c:disassociate_from_master_account{})
        local log = logged()
        assert.are.equal("DisassociateFromMasterAccount", log[2].operation)
        assert.are.equal(200, log[2].status)
      end)
    end

    it("module-level calls work with a configured default client", function()
      invite[service].configure{ region = REGION, endpoint = s.endpoint,
        credentials = { access_key_id = KEY.id, secret_access_key = KEY.secret } }
      local res, err = invite[service].get_invitations_count{}
      assert.is_nil(err)
      assert.is_number(res[n.count])
      invite[service].configure{}
    end)
  end)
end
