-- The clients' behaviour against the simulator, proven from its request log: pagination over
-- three or more pages, batching of more than 50 IDs, each service's error style, retries on
-- injected throttling / 5xx / resets / garbled answers (and none on a 4xx), and bad input that
-- never reaches the wire.
local sim = require "support.sim"
local invite = require "invite"

local REGION = "us-west-2"
local ME = "111122223333"
local KEY = { id = "AKIACLIENTSIMSPEC001", secret = "client/sim/spec/secret/0123456789abcdefg" }
local DETECTOR = "2e4a6c8e0a2c4e6a8c0e2a4c6e8a0c2e"
local MANY = 120 -- invitations per service

local function inviter(i) return string.format("5%011d", i) end

local function fixture()
  local invitations = {}
  for _, svc in ipairs{ "macie2", "securityhub", "guardduty" } do
    for i = 1, MANY do
      invitations[#invitations + 1] = { service = svc, region = REGION, account = ME, inviter = inviter(i),
        id = svc .. "-inv-" .. i, invited_at = "2026-03-01T00:00:00Z" }
    end
  end
  return {
    accounts = { { id = ME, name = "member", access_keys = { KEY } } },
    detectors = { { account = ME, region = REGION, id = DETECTOR } },
    invitations = invitations,
  }
end

local IDS = { macie2 = "accountIds", securityhub = "AccountIds", guardduty = "AccountIds" }
local UN = { macie2 = "unprocessedAccounts", securityhub = "UnprocessedAccounts", guardduty = "UnprocessedAccounts" }
local UN_ID = { macie2 = "accountId", securityhub = "AccountId", guardduty = "AccountId" }
local MAX = { macie2 = "maxResults", securityhub = "MaxResults", guardduty = "MaxResults" }
local ACC = { macie2 = "accountId", securityhub = "AccountId", guardduty = "AccountId" }

describe("clients against the simulator", function()
  local s, mark
  local slept

  local function client(service, opts)
    local o = { region = REGION, endpoint = s.endpoint,
      credentials = { access_key_id = KEY.id, secret_access_key = KEY.secret },
      sleep = function(sec) slept[#slept + 1] = sec end, random = function() return 0.25 end }
    for k, v in pairs(opts or {}) do o[k] = v end
    return invite[service].client(o)
  end

  -- request-log entries since the last call of logged()
  local function logged()
    local all = s:requests()
    local out = {}
    for _, e in ipairs(all) do
      if e.seq > mark then out[#out + 1] = e end
    end
    if #all > 0 then mark = all[#all].seq end
    return out
  end

  setup(function()
    s = sim.start{ fixtures = fixture(), seed = 11 }
    mark = 0
  end)
  teardown(function() s:stop() end)
  before_each(function()
    slept = {}
    s:set_faults("")
    logged()
  end)

  describe("pagination", function()
    for _, service in ipairs{ "macie2", "securityhub", "guardduty" } do
      it(service .. ": all " .. MANY .. " invitations over >= 3 pages", function()
        local c = client(service)
        local pages = 0
        local seen = {}
        for page, err in c:paginate("list_invitations", { [MAX[service]] = 25 }) do
          assert.is_truthy(page, tostring(err))
          pages = pages + 1
        end
        assert.is_true(pages >= 3)
        local all = assert(c:list_all_invitations{ [MAX[service]] = 25 })
        assert.are.equal(MANY, #all)
        for _, inv in ipairs(all) do
          assert.is_nil(seen[inv[ACC[service]]], "listed twice")
          seen[inv[ACC[service]]] = true
        end
        local n = 0
        for inv in c:each_invitation{ [MAX[service]] = 25 } do
          assert.is_table(inv)
          n = n + 1
        end
        assert.are.equal(MANY, n)
        local log = logged()
        assert.are.equal(pages * 3, #log)
        for _, e in ipairs(log) do
          assert.are.equal("ListInvitations", e.operation)
          assert.are.equal(200, e.status)
        end
      end)
    end
  end)

  describe("batching", function()
    for _, service in ipairs{ "macie2", "securityhub", "guardduty" } do
      it(service .. ": 110 IDs with duplicates go out as 3 calls of <= 50, answers merged", function()
        local c = client(service)
        local ids = {}
        for i = 1, 105 do ids[#ids + 1] = inviter(i) end
        for i = 1, 5 do ids[#ids + 1] = string.format("9%011d", i) end -- no invitation from these
        ids[#ids + 1] = inviter(1)
        ids[#ids + 1] = inviter(60)
        local res, err = c:decline_invitations{ [IDS[service]] = ids }
        assert.is_nil(err)
        local log = logged()
        assert.are.equal(3, #log)
        local sent, seen = 0, {}
        for _, e in ipairs(log) do
          assert.are.equal("DeclineInvitations", e.operation)
          assert.are.equal(200, e.status)
          assert.is_true(#e.account_ids <= 50)
          for _, id in ipairs(e.account_ids) do
            assert.is_nil(seen[id], "sent twice: " .. id)
            seen[id] = true
            sent = sent + 1
          end
        end
        assert.are.equal(110, sent)
        local un = {}
        for _, u in ipairs(res[UN[service]]) do un[#un + 1] = u[UN_ID[service]] end
        table.sort(un)
        assert.are.same({ "900000000001", "900000000002", "900000000003", "900000000004", "900000000005" }, un)
        assert.are.equal(3, res.ResponseMetadata.Batches)
        assert.are.equal(3, #res.ResponseMetadata.RequestIds)
      end)
    end
  end)

  describe("errors in each service's style", function()
    it("guardduty: x-amzn-ErrorType BadRequestException (body __type InvalidInputException)", function()
      local c = client("guardduty")
      local res, err = c:get_administrator_account{ DetectorId = "00000000000000000000000000000000" }
      assert.is_nil(res)
      assert.are.equal("BadRequestException", err.code)
      assert.are.equal(400, err.status)
      assert.is_string(err.request_id)
      assert.is_string(err.message)
      assert.are.equal("guardduty", err.service)
      assert.are.equal("GetAdministratorAccount", err.operation)
      assert.is_false(err.retryable)
      local log = logged()
      assert.are.equal(1, #log, "a 4xx is not retried")
      assert.are.equal(err.request_id, log[1].id)
    end)

    it("securityhub: service error with Code/Message", function()
      local c = client("securityhub")
      local _, err = c:accept_administrator_invitation{ AdministratorId = "777777777777", InvitationId = "nope" }
      assert.is_string(err.code)
      assert.is_true(err.status >= 400 and err.status < 500)
      assert.is_true(#err.message > 0)
      assert.is_false(err.retryable)
      assert.are.equal(1, #logged())
    end)

    it("macie2: service error", function()
      local c = client("macie2")
      local _, err = c:accept_invitation{ administratorAccountId = "777777777777", invitationId = "nope" }
      assert.is_string(err.code)
      assert.is_true(err.status >= 400 and err.status < 500)
      assert.is_false(err.retryable)
      assert.are.equal(1, #logged())
    end)

    for _, service in ipairs{ "macie2", "securityhub", "guardduty" } do
      it(service .. ": front-door auth errors (unknown key, bad signature) are not retried", function()
        local c = client(service, { credentials = { access_key_id = "AKIAUNKNOWNKEY000001", secret_access_key = "x" } })
        local _, err = c:get_invitations_count{}
        assert.are.equal("UnrecognizedClientException", err.code)
        assert.are.equal(403, err.status)
        local c2 = client(service, { credentials = { access_key_id = KEY.id, secret_access_key = "wrong-secret" } })
        local _, err2 = c2:get_invitations_count{}
        assert.are.equal("InvalidSignatureException", err2.code)
        assert.is_nil(tostring(err2):find("wrong-secret", 1, true))
        assert.are.equal(2, #logged())
      end)
    end
  end)

  describe("retries", function()
    for _, case in ipairs{
      { "throttle", "guardduty", "TooManyRequestsException" },
      { "throttle", "securityhub", nil },
      { "throttle", "macie2", nil },
      { "500", "guardduty", nil },
      { "503", "macie2", nil },
      { "reset", "securityhub", nil },
      { "truncate", "guardduty", nil },
      { "badjson", "macie2", nil },
    } do
      local fault, service, code = case[1], case[2], case[3]
      it(service .. ": retries an injected " .. fault .. " and succeeds", function()
        s:set_faults("first 2 " .. service .. ":GetInvitationsCount " .. fault)
        local c = client(service)
        local res, err = c:get_invitations_count{}
        assert.is_nil(err)
        if fault == "reset" then
          -- libcurl itself re-sends once when a *reused* keep-alive connection dies before any
          -- response, so one of the two resets may never reach invite's retry loop
          local n = res.ResponseMetadata.RetryAttempts
          assert.is_true(n == 1 or n == 2, "RetryAttempts " .. tostring(n))
        else
          assert.are.equal(2, res.ResponseMetadata.RetryAttempts)
          assert.are.same({ 0.25, 0.5 }, slept)
        end
        local log = logged()
        assert.are.equal(3, #log)
        assert.are.equal(fault, log[1].fault)
        assert.are.equal(200, log[3].status)
        if code then assert.are.equal(code, log[1].error) end
      end)
    end

    it("honours Retry-After from a throttled answer", function()
      s:set_faults("first 1 macie2:ListInvitations throttle=2")
      local c = client("macie2")
      assert(c:list_invitations{})
      assert.are.same({ 2 }, slept)
    end)

    it("gives up after max_attempts, with the service's throttling code", function()
      s:set_faults("securityhub:GetInvitationsCount throttle")
      local c = client("securityhub", { max_attempts = 2 })
      local _, err = c:get_invitations_count{}
      assert.is_true(err.retryable)
      assert.are.equal(429, err.status)
      assert.are.equal(2, err.attempts)
      assert.are.equal(2, #logged())
    end)

    it("AWS_MAX_ATTEMPTS sets the attempts when the client does not", function()
      s:set_faults("guardduty:ListDetectors 500")
      local c = client("guardduty", { env = { AWS_MAX_ATTEMPTS = "4" } })
      local _, err = c:list_detectors{}
      assert.are.equal(500, err.status)
      assert.are.equal(4, #logged())
    end)

    it("does not retry a 4xx validation error from the service", function()
      local c = client("guardduty")
      local _, err = c:accept_administrator_invitation{ DetectorId = DETECTOR, AdministratorId = "777777777777",
        InvitationId = "not-an-invitation" }
      assert.are.equal(400, err.status)
      assert.is_false(err.retryable)
      assert.are.equal(1, #logged())
      assert.are.same({}, slept)
    end)
  end)

  describe("defaults from the environment", function()
    it("region, endpoint and credentials come from invite.config / invite.credentials at the first call", function()
      local env = {
        AWS_ACCESS_KEY_ID = KEY.id, AWS_SECRET_ACCESS_KEY = KEY.secret, AWS_REGION = REGION,
        AWS_ENDPOINT_URL_GUARDDUTY = s.endpoint, AWS_EC2_METADATA_DISABLED = "true",
        AWS_CONFIG_FILE = "/nonexistent/invite-spec/config",
        AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/invite-spec/credentials",
      }
      invite.guardduty.configure{ env = env, home = "/nonexistent/invite-spec" }
      local res, err = invite.guardduty.list_detectors{}
      assert.is_nil(err)
      assert.are.same({ DETECTOR }, res.DetectorIds)
      local c = invite.guardduty.default_client()
      assert.are.equal(REGION, c.region)
      local log = logged()
      assert.are.equal(1, #log)
      assert.are.equal(REGION, log[1].region)
      assert.are.equal(ME, log[1].account)
      -- no region anywhere: a clear local error, nothing sent
      invite.guardduty.configure{ env = { AWS_ACCESS_KEY_ID = KEY.id, AWS_SECRET_ACCESS_KEY = KEY.secret,
        AWS_CONFIG_FILE = "/nonexistent/invite-spec/config" }, home = "/nonexistent/invite-spec" }
      local _, rerr = invite.guardduty.list_detectors{}
      assert.are.equal("NoRegionError", rerr.code)
      assert.are.equal("ListDetectors", rerr.operation)
      assert.are.same({}, logged())
      invite.guardduty.configure{}
    end)
  end)

  describe("inside invite.scheduler tasks", function()
    it("calls of several clients overlap (4 calls with 300 ms latency take about 300 ms, not 1200)", function()
      local scheduler = require "invite.scheduler"
      local core = require "invite.core"
      s:set_faults("guardduty:ListDetectors latency=300")
      local tasks, results = {}, {}
      for i = 1, 4 do
        local c = client("guardduty")
        tasks[i] = function()
          local res, err = c:list_detectors{}
          results[i] = res or err
        end
      end
      local t0 = core.monotime()
      scheduler.run(tasks, { concurrency = 4 })
      local elapsed = core.monotime() - t0
      for i = 1, 4 do assert.are.same({ DETECTOR }, results[i].DetectorIds, tostring(results[i])) end
      assert.is_true(elapsed < 0.9, "took " .. elapsed .. " s")
      assert.are.equal(4, #logged())
    end)
  end)

  describe("bad input is never sent", function()
    local cases = {
      { "macie2", "decline_invitations", { accountIds = {} }, "non%-empty" },
      { "macie2", "decline_invitations", { accountId = { "111111111111" } }, 'did you mean "accountIds"' },
      { "macie2", "delete_invitations", { accountIds = { "12345" } }, "12%-digit" },
      { "macie2", "list_invitations", { maxResults = 26 }, "between 1 and 25" },
      { "macie2", "accept_invitation", { administratorAccountId = "111111111111" }, "invitationId: missing required" },
      { "securityhub", "decline_invitations", { AccountIds = { 111111111111 } }, "as a string" },
      { "securityhub", "delete_invitations", { AccountIDs = { "111111111111" } }, 'did you mean "AccountIds"' },
      { "securityhub", "list_invitations", { MaxResults = 0 }, "between 1 and 50" },
      { "securityhub", "accept_administrator_invitation", { AdministratorId = "111111111111", InvitationId = " " },
        "blank" },
      { "guardduty", "decline_invitations", { AccountIds = "111111111111" }, "must be a list" },
      { "guardduty", "accept_administrator_invitation", { AdministratorId = "111111111111", InvitationId = "x" },
        "DetectorId: missing required" },
      { "guardduty", "get_administrator_account", { DetectorId = "" }, "at least 1 characters" },
      { "guardduty", "list_detectors", { MaxResults = 10.5 }, "integer" },
      { "guardduty", "list_invitations", { maxResults = 5 }, 'did you mean "MaxResults"' },
    }
    for _, case in ipairs(cases) do
      local service, op, params, rule = case[1], case[2], case[3], case[4]
      it(service .. "." .. op .. ": " .. rule:gsub("%%", ""), function()
        local c = client(service)
        local res, err = c[op](c, params)
        assert.is_nil(res)
        assert.are.equal("ValidationError", err.code)
        assert.are.equal(service, err.service)
        assert.matches(service .. "%." .. op, err.message)
        assert.matches(rule, err.message)
        assert.is_false(err.retryable)
        assert.are.same({}, logged(), "nothing reached the simulator")
      end)
    end
  end)
end)
