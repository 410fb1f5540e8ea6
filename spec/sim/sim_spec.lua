-- invite sim: every operation of every service, pagination, the invitation lifecycle, each
-- authentication failure, limits, faults (deterministic by seed, scripts), the request log, the
-- control endpoints, the HTTP layer and bad fixture files. The simulator runs as a real process
-- (spec/support/sim.lua); requests are signed with invite.sigv4.
local interp = require "support.interp"
local cjson = require "cjson.safe"
local socket = require "socket"
local sim = require "support.sim"
local util = require "invite.sim.util"
local percent_encode = require("invite.util").percent_encode
local fixtures = require "invite.sim.fixtures"
local faults = require "invite.sim.faults"
local state_mod = require "invite.sim.state"

local PROD, STAGING, DEV, ADMIN = "222222222222", "333333333333", "444444444444", "111111111111"

local function json(t) return assert(cjson.encode(t)) end

-- REST helpers: call(s, service, method, path, body_table_or_nil, extra opts)
local function call(s, service, method, path, body, o)
  o = o or {}
  o.service, o.method, o.path = service, method, path
  if body ~= nil then o.body = type(body) == "string" and body or json(body) end
  local res, err = s:call(o)
  assert(res, "request failed: " .. tostring(err))
  return res
end

local function form(t)
  local parts = {}
  for _, kv in ipairs(t) do parts[#parts + 1] = percent_encode(kv[1]) .. "=" .. percent_encode(kv[2]) end
  return table.concat(parts, "&")
end

local function sts_call(s, params, o)
  o = o or {}
  o.service, o.method, o.path = "sts", "POST", "/"
  o.body = form(params)
  o.content_type = "application/x-www-form-urlencoded; charset=utf-8"
  local res, err = s:call(o)
  assert(res, "request failed: " .. tostring(err))
  return res
end

local function xml_value(body, tag)
  return body:match("<" .. tag .. ">(.-)</" .. tag .. ">")
end

local function error_code(res)
  return (res.headers["x-amzn-errortype"] or ""):match("^[^:]*")
end

-- the n-th invitation in a listing that is not from the organisation's admin account
local function stranger(items, n)
  n = n or 1
  for _, it in ipairs(items) do
    if (it.accountId or it.AccountId) ~= ADMIN then
      n = n - 1
      if n == 0 then return it end
    end
  end
end

local function detector(s, creds, region)
  local r = call(s, "guardduty", "GET", "/detector", nil, { creds = creds, region = region })
  assert.equal(200, r.status)
  return r.json.detectorIds[1]
end

-- every page of ListInvitations; returns all items and the number of pages
local function list_all(s, service, creds, region, page_size)
  local path = ({ macie2 = "/invitations", securityhub = "/invitations", guardduty = "/invitation" })[service]
  local max_name = service == "securityhub" and "MaxResults" or "maxResults"
  local tok_name = service == "securityhub" and "NextToken" or "nextToken"
  local items_name = service == "securityhub" and "Invitations" or "invitations"
  local items, pages, token = {}, 0, nil
  repeat
    local q = max_name .. "=" .. page_size
    if token then q = q .. "&" .. tok_name .. "=" .. percent_encode(token) end
    local r = call(s, service, "GET", path, nil, { creds = creds, region = region, query = q })
    assert.equal(200, r.status, r.body)
    pages = pages + 1
    for _, it in ipairs(r.json[items_name]) do items[#items + 1] = it end
    assert.is_true(#r.json[items_name] <= page_size)
    token = r.json[tok_name]
    assert.is_true(pages < 100)
  until not token
  return items, pages
end

---------------------------------------------------------------------------------------------------

describe("invite sim: fixtures", function()
  it("loads the example organisation", function()
    local fx = assert(fixtures.load(sim.FIXTURE))
    assert.equal(6, #fx.account_list)
    local count = {}
    for _, v in ipairs(fx.invitations) do
      local k = v.service .. "/" .. v.region .. "/" .. v.account
      count[k] = (count[k] or 0) + 1
    end
    assert.is_true(count["guardduty/us-east-1/" .. PROD] >= 60)
    assert.is_true(count["macie2/us-east-1/" .. PROD] >= 60)
    assert.is_true(count["securityhub/us-east-1/" .. PROD] >= 51)
    -- old (more than 30 days) and recent (less than 30 days) invitations, all three services
    local now, old, recent, services = os.time(), 0, 0, {}
    for _, v in ipairs(fx.invitations) do
      if now - v.invited_at > 30 * 86400 then old = old + 1 else recent = recent + 1 end
      services[v.service] = true
    end
    assert.is_true(old > 10 and recent > 10)
    assert.is_true(services.macie2 and services.securityhub and services.guardduty)
    -- and the invitation kinds' entries (AWS RAM's: pending, accepted, expired)
    assert.is_true(services.ram)
  end)

  it("resolves relative times against the load time", function()
    local fx = assert(fixtures.validate({
      accounts = { { id = PROD, access_keys = { { id = "AKIATESTTESTTEST0001", secret = "s" } } } },
      invitations = { { service = "macie2", region = "us-east-1", account = PROD, inviter = ADMIN, id = "i",
                        invited_at = "now-3d" } },
    }, "t", { now = 1000000 }))
    assert.equal(1000000 - 3 * 86400, fx.invitations[1].invited_at)
  end)

  local function problems(t)
    local fx, err = fixtures.validate(t, "f.json")
    assert.is_nil(fx)
    return err
  end

  it("reports each problem with its field path and rule", function()
    local err = problems({
      accounts = {
        { id = "12345", access_keys = { { id = "AKIA1", secret = "" } } },
        { id = PROD, name = "p", access_keys = { { id = "BKIATESTTESTTEST0001", secret = "x" } },
          roles = { { name = "R", trusted_accounts = { "x" }, max_session_duration = 10 } } },
      },
      detectors = { { account = "999999999999", region = "moon", id = "d" } },
      invitations = {
        { service = "s3", region = "us-east-1", account = PROD, inviter = PROD, id = "", invited_at = "yesterday",
          status = "Pending", extra = 1 },
      },
      surprise = true,
    })
    for _, want in ipairs{
      "f.json: surprise: unknown field",
      "f.json: accounts[0].id: must be a 12-digit account ID string",
      "f.json: accounts[0].access_keys[0].id: must be 16 to 128 characters long",
      "f.json: accounts[0].access_keys[0].secret: must be a non-empty string",
      "f.json: accounts[1].access_keys[0].id: must start with AKIA",
      "f.json: accounts[1].roles[0].trusted_accounts[0]: must be a 12-digit account ID string",
      "f.json: accounts[1].roles[0].max_session_duration: must be an integer from 3600 to 43200",
      "f.json: detectors[0].account: is not an account of this fixture",
      "f.json: detectors[0].region: must be a region name like us-east-1",
      "f.json: invitations[0].extra: unknown field",
      "f.json: invitations[0].service: must be one of macie2, securityhub, guardduty",
      "f.json: invitations[0].inviter: an account cannot invite itself",
      "f.json: invitations[0].id: must be a non-empty string",
      "f.json: invitations[0].invited_at: must be an ISO-8601 UTC time",
      "f.json: invitations[0].status: must be one of Invited, Enabled, Resigned, Removed",
    } do
      assert.truthy(err:find(want, 1, true), "missing: " .. want .. "\nin:\n" .. err)
    end
  end)

  it("rejects duplicates and inconsistent relationships", function()
    local key = { id = "AKIATESTTESTTEST0001", secret = "s" }
    local inv = { service = "guardduty", region = "us-east-1", account = PROD, inviter = ADMIN, id = "a",
                  invited_at = "2026-01-01T00:00:00Z", status = "Enabled" }
    local inv2 = util.copy(inv); inv2.inviter = "999999999999"
    local err = problems({
      accounts = { { id = PROD, access_keys = { key } }, { id = PROD, access_keys = { key } } },
      detectors = { { account = PROD, region = "us-east-1", id = "d1" }, { account = PROD, region = "us-east-1",
                                                                           id = "d2" } },
      invitations = { inv, util.copy(inv), inv2 },
    })
    assert.truthy(err:find("accounts[1].id: duplicate account " .. PROD, 1, true), err)
    assert.truthy(err:find("accounts[1].access_keys[0].id: duplicate access key", 1, true), err)
    assert.truthy(err:find("detectors[1]: account " .. PROD .. " already has a detector", 1, true), err)
    assert.truthy(err:find("invitations[1]: duplicate invitation", 1, true), err)
    assert.truthy(err:find("invitations[2].status: only one Enabled", 1, true), err)
  end)

  it("rejects a file that is not JSON or not an object, and a missing file", function()
    local fx, err = fixtures.decode("{ nope", "x.json")
    assert.is_nil(fx)
    assert.truthy(err:find("^x.json: invalid JSON"))
    fx, err = fixtures.decode("[1,2]", "y.json")
    assert.is_nil(fx)
    assert.truthy(err:find("y.json: accounts", 1, true) or err:find("must be an object", 1, true), err)
    fx, err = fixtures.load("/nonexistent/fixture.json")
    assert.is_nil(fx)
    assert.truthy(err:find("cannot read fixture file", 1, true))
  end)

  it("makes `invite sim` exit 2 with the problems on stderr", function()
    local bad = os.tmpname()
    local f = assert(io.open(bad, "w"))
    f:write('{"accounts": [{"id": "1"}]}')
    f:close()
    local p = io.popen("env -u LD_PRELOAD " .. interp.LUA .. " " .. sim.ROOT .. "/bin/invite sim --fixtures " .. bad
      .. " 2>&1; echo rc=$?")
    local out = p:read("*a")
    p:close()
    os.remove(bad)
    assert.truthy(out:find("accounts[0].id: must be a 12-digit account ID string", 1, true), out)
    assert.truthy(out:find("rc=2", 1, true), out)
    assert.is_nil(out:find("listening", 1, true))
  end)

  it("makes `invite sim` exit 2 on a bad fault spec, a missing --fixtures or a non-loopback host", function()
    for _, args in ipairs{
      "--fixtures " .. sim.FIXTURE .. " --faults 'first x throttle'",
      "",
      "--fixtures " .. sim.FIXTURE .. " --host 0.0.0.0",
    } do
      local p = io.popen("env -u LD_PRELOAD " .. interp.LUA .. " " .. sim.ROOT .. "/bin/invite sim " .. args
        .. " 2>&1; echo rc=$?")
      local out = p:read("*a")
      p:close()
      assert.truthy(out:find("rc=2", 1, true), args .. ": " .. out)
    end
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: state lifecycle (unit)", function()
  local function world()
    return state_mod.new(assert(fixtures.validate({
      accounts = { { id = PROD, access_keys = { { id = "AKIATESTTESTTEST0001", secret = "s" } } } },
      invitations = {
        { service = "macie2", region = "us-east-1", account = PROD, inviter = ADMIN, id = "a1",
          invited_at = "2026-01-01T00:00:00Z" },
        { service = "macie2", region = "us-east-1", account = PROD, inviter = "999999999999", id = "s1",
          invited_at = "2025-01-01T00:00:00Z" },
      },
    })))
  end

  it("decline keeps the invitation listed as Resigned, delete removes it", function()
    local st = world()
    assert.equal(2, st:count("macie2", "us-east-1", PROD))
    assert.is_true(st:decline("macie2", "us-east-1", PROD, "999999999999"))
    assert.equal("Resigned", st:find("macie2", "us-east-1", PROD, "999999999999").status)
    assert.equal(2, st:count("macie2", "us-east-1", PROD))
    assert.is_true(st:delete("macie2", "us-east-1", PROD, "999999999999"))
    assert.is_nil(st:find("macie2", "us-east-1", PROD, "999999999999"))
    assert.same({ nil, "not_found" }, { st:delete("macie2", "us-east-1", PROD, "999999999999") })
  end)

  it("accept makes the administrator, which cannot be declined or deleted until disassociated", function()
    local st = world()
    assert.same({ nil, "wrong_id" }, { st:accept("macie2", "us-east-1", PROD, ADMIN, "nope") })
    assert.truthy(st:accept("macie2", "us-east-1", PROD, nil, "a1"))
    assert.equal(ADMIN, st:administrator("macie2", "us-east-1", PROD).inviter)
    assert.equal(1, st:count("macie2", "us-east-1", PROD))
    assert.same({ nil, "associated" }, { st:decline("macie2", "us-east-1", PROD, ADMIN) })
    assert.same({ nil, "associated" }, { st:delete("macie2", "us-east-1", PROD, ADMIN) })
    assert.same({ nil, "already_associated" }, { st:accept("macie2", "us-east-1", PROD, "999999999999", "s1") })
    assert.is_true(st:disassociate("macie2", "us-east-1", PROD))
    assert.is_nil(st:administrator("macie2", "us-east-1", PROD))
    assert.equal("Resigned", st:find("macie2", "us-east-1", PROD, ADMIN).status)
    assert.same({ nil, "not_associated" }, { st:disassociate("macie2", "us-east-1", PROD) })
    st:reset()
    assert.equal("Invited", st:find("macie2", "us-east-1", PROD, ADMIN).status)
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: faults (unit)", function()
  it("parses rules and reports the rule number and problem", function()
    local rules = assert(faults.parse("first 3 guardduty:DeclineInvitations throttle=2; 25% macie2 503\n"
      .. "always latency=10-20 # comment\n0.5 region=eu-west-1 account=222222222222 reset"))
    assert.equal(4, #rules)
    assert.same({ 3, "guardduty", "DeclineInvitations", "throttle", 2 },
      { rules[1].first, rules[1].service, rules[1].operation, rules[1].fault.kind, rules[1].fault.retry_after })
    assert.equal(0.25, rules[2].p)
    assert.same({ 10, 20 }, { rules[3].fault.min_ms, rules[3].fault.max_ms })
    assert.same({ "eu-west-1", "222222222222", "reset" }, { rules[4].region, rules[4].account, rules[4].fault.kind })
    for spec, want in pairs{
      ["throttle; first x 500"] = "rule 2 ('first x 500'): 'first' needs a whole number",
      ["s3 throttle"] = "unknown word 's3'",
      ["guardduty"] = "no fault",
      ["throttle 500"] = "more than one fault",
      ["2 throttle"] = "unknown word '2'",
      ["150% 503"] = "probability must be between 0 and 1",
      ["latency"] = "latency needs milliseconds",
      ["throttle=x"] = "Retry-After must be whole seconds",
      ["region=mars throttle"] = "bad region",
    } do
      local r, err = faults.parse(spec)
      assert.is_nil(r)
      assert.truthy(err:find(want, 1, true), spec .. " -> " .. tostring(err))
    end
  end)

  local function run(seed, spec, n)
    local e = faults.new(assert(faults.parse(spec)), seed)
    local out = {}
    for i = 1, n do
      local d = e:decide{ service = "guardduty", operation = "ListInvitations", region = "us-east-1", account = PROD }
      out[i] = d and d.fault and d.fault.kind or "-"
    end
    return table.concat(out)
  end

  it("is deterministic for a seed and differs between seeds", function()
    local a, b, c = run(42, "30% 503", 200), run(42, "30% 503", 200), run(43, "30% 503", 200)
    assert.equal(a, b)
    assert.not_equal(a, c)
    local fired = select(2, a:gsub("503", ""))
    assert.is_true(fired > 30 and fired < 90, "fired " .. fired .. " of 200 at 30%")
  end)

  it("fires scripted rules on the first N matching requests only", function()
    local e = faults.new(assert(faults.parse("first 2 guardduty:DeclineInvitations 500")), 1)
    local function kind(op)
      local d = e:decide{ service = "guardduty", operation = op }
      return d and d.fault and d.fault.kind or "-"
    end
    assert.equal("-", kind("ListInvitations"))
    assert.equal("500", kind("DeclineInvitations"))
    assert.equal("-", kind("ListInvitations"))
    assert.equal("500", kind("DeclineInvitations"))
    assert.equal("-", kind("DeclineInvitations"))
    assert.same({ { rule = "first 2 guardduty:DeclineInvitations 500", matched = 3, fired = 2 } },
      e:describe().rules)
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: util (unit)", function()
  it("formats and parses times", function()
    assert.equal(1440938160, util.parse_amz_date("20150830T123600Z"))
    assert.equal("20150830T123600Z", util.amz_date(1440938160))
    assert.equal(1440938160.25, util.parse_iso8601("2015-08-30T12:36:00.25Z"))
    assert.equal(1440938160, util.parse_iso8601("2015-08-30T14:36:00+02:00"))
    assert.equal("2015-08-30T12:36:00.250Z", util.iso8601(1440938160.25, true))
    assert.equal("Sun, 30 Aug 2015 12:36:00 GMT", util.http_date(1440938160))
    assert.is_nil(util.parse_iso8601("2015-02-30T00:00:00Z"))
    assert.equal(951782400, util.parse_iso8601("2000-02-29T00:00:00Z"))
  end)

  it("encodes JSON with sorted keys and real empty arrays", function()
    assert.equal('{"a":[],"b":{},"c":[1,"x/y"],"d":1.5}',
      util.json_encode({ d = 1.5, c = { 1, "x/y" }, b = {}, a = util.array() }))
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: services", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)
  before_each(function() s:reset() end)

  describe("pagination", function()
    for _, case in ipairs{
      { "macie2", 25, 62 }, { "securityhub", 25, 55 }, { "guardduty", 25, 65 },
      { "macie2", 7, 62 }, { "guardduty", 50, 65 }, { "securityhub", 50, 55 },
    } do
      local service, size, total = case[1], case[2], case[3]
      it(service .. " lists every invitation once over pages of " .. size, function()
        local items, pages = list_all(s, service, "prod", "us-east-1", size)
        assert.equal(total, #items)
        assert.equal(math.ceil(total / size), pages)
        local seen = {}
        for _, it in ipairs(items) do
          local id = it.accountId or it.AccountId
          assert.is_nil(seen[id])
          seen[id] = true
          assert.truthy((it.invitedAt or it.InvitedAt):find("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"))
          assert.truthy(it.invitationId or it.InvitationId)
          assert.truthy(it.relationshipStatus or it.MemberStatus)
        end
      end)
    end

    it("default page size is the service maximum", function()
      assert.equal(25, #call(s, "macie2", "GET", "/invitations").json.invitations)
      assert.equal(50, #call(s, "securityhub", "GET", "/invitations").json.Invitations)
      assert.equal(50, #call(s, "guardduty", "GET", "/invitation").json.invitations)
    end)

    it("keeps pages right when invitations are removed between pages", function()
      local r = call(s, "guardduty", "GET", "/invitation", nil, { query = "maxResults=20" })
      local first = {}
      for i, it in ipairs(r.json.invitations) do first[i] = it.accountId end
      local d = call(s, "guardduty", "POST", "/invitation/delete", { accountIds = first })
      assert.same({}, d.json.unprocessedAccounts)
      local rest_items = {}
      local token = r.json.nextToken
      while token do
        local p = call(s, "guardduty", "GET", "/invitation", nil,
          { query = "maxResults=20&nextToken=" .. percent_encode(token) })
        for _, it in ipairs(p.json.invitations) do rest_items[#rest_items + 1] = it.accountId end
        token = p.json.nextToken
      end
      assert.equal(45, #rest_items)
    end)

    it("rejects maxResults out of range and foreign tokens in each service's style", function()
      local r = call(s, "macie2", "GET", "/invitations", nil, { query = "maxResults=26" })
      assert.equal(400, r.status)
      assert.equal("ValidationException", error_code(r))
      assert.truthy(r.json.message:find("maxResults", 1, true))
      r = call(s, "securityhub", "GET", "/invitations", nil, { query = "MaxResults=0" })
      assert.equal(400, r.status)
      assert.same({ "InvalidInputException", "InvalidInputException" }, { error_code(r), r.json.Code })
      assert.truthy(r.json.Message)
      r = call(s, "guardduty", "GET", "/invitation", nil, { query = "maxResults=51" })
      assert.equal(400, r.status)
      assert.same({ "BadRequestException", "InvalidInputException" }, { error_code(r), r.json.__type })
      r = call(s, "guardduty", "GET", "/invitation", nil, { query = "maxResults=abc" })
      assert.equal(400, r.status)
      -- a token from prod's list is not valid for staging's
      local tok = call(s, "guardduty", "GET", "/invitation", nil, { query = "maxResults=5" }).json.nextToken
      r = call(s, "guardduty", "GET", "/invitation", nil,
        { creds = "staging", query = "nextToken=" .. percent_encode(tok) })
      assert.equal(400, r.status)
      r = call(s, "macie2", "GET", "/invitations", nil, { query = "nextToken=garbage" })
      assert.equal(400, r.status)
      assert.equal("ValidationException", error_code(r))
    end)
  end)

  describe("count, decline, delete", function()
    for _, case in ipairs{
      { "macie2", "/invitations", "accountIds", "unprocessedAccounts", "invitationsCount" },
      { "securityhub", "/invitations", "AccountIds", "UnprocessedAccounts", "InvitationsCount" },
      { "guardduty", "/invitation", "accountIds", "unprocessedAccounts", "invitationsCount" },
    } do
      local service, base, ids, unproc, count = case[1], case[2], case[3], case[4], case[5]
      it(service .. ": decline keeps it listed (Resigned), delete removes it, strangers come back unprocessed",
        function()
          local before = call(s, service, "GET", base .. "/count").json[count]
          local other = stranger(list_all(s, service, "prod", "us-east-1", 25), 2)
          local inviter = other.accountId or other.AccountId
          local r = call(s, service, "POST", base .. "/decline", { [ids] = { inviter, "123456789012" } })
          assert.equal(200, r.status, r.body)
          assert.equal(1, #r.json[unproc])
          local u = r.json[unproc][1]
          assert.equal("123456789012", u.accountId or u.AccountId)
          if service == "macie2" then
            assert.equal("ClientError", u.errorCode)
            assert.truthy(u.errorMessage:find("no invitation", 1, true))
          elseif service == "securityhub" then
            assert.truthy(u.ProcessingResult:find("not found", 1, true))
          else
            assert.truthy(u.result:find("^The request is rejected because"))
          end
          assert.equal(before, call(s, service, "GET", base .. "/count").json[count])
          local st = s:state()
          local found
          for _, inv in ipairs(st.invitations) do
            if inv.service == service and inv.account == PROD and inv.inviter == inviter then found = inv end
          end
          assert.equal("Resigned", found.status)
          r = call(s, service, "POST", base .. "/delete", { [ids] = { inviter } })
          assert.equal(200, r.status)
          assert.same({}, r.json[unproc])
          assert.equal('"' .. unproc .. '":[]', r.body:match('"' .. unproc .. '":%[%]'))
          assert.equal(before - 1, call(s, service, "GET", base .. "/count").json[count])
          r = call(s, service, "POST", base .. "/delete", { [ids] = { inviter } })
          assert.equal(1, #r.json[unproc])
        end)

      it(service .. ": the request log records the account IDs sent", function()
        s:clear_requests()
        call(s, service, "POST", base .. "/decline", { [ids] = { "123456789012", "210987654321" } })
        local log = s:requests()
        assert.equal(1, #log)
        local e = log[1]
        assert.same({ service, "DeclineInvitations", "us-east-1", PROD, 200 },
          { e.service, e.operation, e.region, e.account, e.status })
        assert.same({ "123456789012", "210987654321" }, e.account_ids)
      end)

      it(service .. ": a body that is not JSON is a validation error", function()
        local r = call(s, service, "POST", base .. "/decline", "{not json")
        assert.equal(400, r.status)
        r = call(s, service, "POST", base .. "/decline", {})
        assert.equal(400, r.status)
        r = call(s, service, "POST", base .. "/decline", { [ids] = "123456789012" })
        assert.equal(400, r.status)
      end)
    end

    it("guardduty: 1-50 account IDs of 12 characters, else BadRequestException", function()
      local fifty = {}
      for i = 1, 50 do fifty[i] = string.format("1000000000%02d", i) end
      local r = call(s, "guardduty", "POST", "/invitation/decline", { accountIds = fifty })
      assert.equal(200, r.status)
      assert.equal(50, #r.json.unprocessedAccounts)
      fifty[51] = "100000000051"
      for _, bad in ipairs{ fifty, {}, { "12345678901" }, { "1234567890123" } } do
        r = call(s, "guardduty", "POST", "/invitation/decline", { accountIds = bad })
        assert.equal(400, r.status)
        assert.equal("BadRequestException", r.headers["x-amzn-errortype"])
        assert.equal("InvalidInputException", r.json.__type)
        assert.truthy(r.json.message:find("invalid or out-of-range value", 1, true))
      end
    end)

    it("macie2 and securityhub: invalid IDs come back unprocessed; securityhub refuses blank IDs", function()
      local r = call(s, "macie2", "POST", "/invitations/delete", { accountIds = { "abc" } })
      assert.equal(200, r.status)
      assert.equal("abc", r.json.unprocessedAccounts[1].accountId)
      r = call(s, "securityhub", "POST", "/invitations/delete", { AccountIds = { "abc" } })
      assert.equal("Invalid account ID.", r.json.UnprocessedAccounts[1].ProcessingResult)
      r = call(s, "securityhub", "POST", "/invitations/delete", { AccountIds = { " " } })
      assert.equal(400, r.status)
      assert.equal("InvalidInputException", r.json.Code)
    end)
  end)

  describe("accept, get administrator, disassociate", function()
    local function inv_of(service, account, region, inviter)
      for _, inv in ipairs(s:state().invitations) do
        if inv.service == service and inv.account == account and inv.region == region and inv.inviter == inviter then
          return inv
        end
      end
    end

    it("macie2", function()
      local inv = inv_of("macie2", PROD, "us-east-1", ADMIN)
      assert.same({}, call(s, "macie2", "GET", "/administrator").json)
      local r = call(s, "macie2", "POST", "/invitations/accept", { administratorAccountId = ADMIN,
                                                                   invitationId = "wrong" })
      assert.same({ 404, "ResourceNotFoundException" }, { r.status, error_code(r) })
      assert.equal("ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.macie2/",
        r.headers["x-amzn-errortype"])
      assert.same({ "ResourceNotFoundException" }, { r.json.__type })
      r = call(s, "macie2", "POST", "/invitations/accept", { administratorAccountId = ADMIN })
      assert.same({ 400, "ValidationException" }, { r.status, error_code(r) })
      local before = call(s, "macie2", "GET", "/invitations/count").json.invitationsCount
      r = call(s, "macie2", "POST", "/invitations/accept", { administratorAccountId = ADMIN, invitationId = inv.id })
      assert.equal(200, r.status, r.body)
      assert.equal(before - 1, call(s, "macie2", "GET", "/invitations/count").json.invitationsCount)
      local a = call(s, "macie2", "GET", "/administrator").json.administrator
      assert.same({ ADMIN, inv.id, "Enabled" }, { a.accountId, a.invitationId, a.relationshipStatus })
      assert.same(a, call(s, "macie2", "GET", "/master").json.master)
      r = call(s, "macie2", "POST", "/invitations/decline", { accountIds = { ADMIN } })
      assert.truthy(r.json.unprocessedAccounts[1].errorMessage:find("Disassociate", 1, true))
      local other = stranger(list_all(s, "macie2", "prod", "us-east-1", 25), 2)
      r = call(s, "macie2", "POST", "/invitations/accept", { masterAccount = other.accountId,
                                                             invitationId = other.invitationId })
      assert.same({ 409, "ConflictException" }, { r.status, error_code(r) })
      assert.equal(200, call(s, "macie2", "POST", "/administrator/disassociate").status)
      assert.same({}, call(s, "macie2", "GET", "/administrator").json)
      assert.equal("Resigned", inv_of("macie2", PROD, "us-east-1", ADMIN).status)
      assert.equal(200, call(s, "macie2", "POST", "/master/disassociate").status)
    end)

    it("securityhub (and the deprecated master operations)", function()
      local inv = inv_of("securityhub", PROD, "us-east-1", ADMIN)
      local r = call(s, "securityhub", "POST", "/administrator", { AdministratorId = ADMIN, InvitationId = "x" })
      assert.same({ 404, "ResourceNotFoundException", "ResourceNotFoundException" },
        { r.status, error_code(r), r.json.Code })
      r = call(s, "securityhub", "POST", "/administrator", { InvitationId = inv.id })
      assert.same({ 400, "InvalidInputException" }, { r.status, r.json.Code })
      r = call(s, "securityhub", "POST", "/administrator", { AdministratorId = ADMIN, InvitationId = inv.id })
      assert.equal(200, r.status, r.body)
      local a = call(s, "securityhub", "GET", "/administrator").json.Administrator
      assert.same({ ADMIN, inv.id, "Enabled" }, { a.AccountId, a.InvitationId, a.MemberStatus })
      assert.same(a, call(s, "securityhub", "GET", "/master").json.Master)
      assert.equal(200, call(s, "securityhub", "POST", "/administrator/disassociate").status)
      assert.same({}, call(s, "securityhub", "GET", "/administrator").json)
      -- accepting the declined invitation is refused; the legacy AcceptInvitation works like the new one
      local other = stranger(list_all(s, "securityhub", "prod", "us-east-1", 50), 3)
      r = call(s, "securityhub", "POST", "/master", { MasterId = other.AccountId, InvitationId = other.InvitationId })
      assert.equal(200, r.status, r.body)
      assert.equal(other.AccountId, call(s, "securityhub", "GET", "/master").json.Master.AccountId)
      assert.equal(200, call(s, "securityhub", "POST", "/master/disassociate").status)
      -- an organisation-managed administrator (no invitation)
      a = call(s, "securityhub", "GET", "/administrator", nil, { creds = "sandbox" }).json.Administrator
      assert.same({ ADMIN, "Enabled" }, { a.AccountId, a.MemberStatus })
      assert.is_nil(a.InvitationId)
    end)

    it("guardduty (detector-scoped) and ListDetectors", function()
      local det = detector(s, "prod")
      assert.truthy(det:find("^%x+$"))
      assert.same({}, call(s, "guardduty", "GET", "/detector", nil, { creds = "sandbox" }).json.detectorIds)
      assert.equal('{"detectorIds":[]}', call(s, "guardduty", "GET", "/detector", nil, { creds = "sandbox" }).body)
      local staging_det = detector(s, "staging")
      local r = call(s, "guardduty", "GET", "/detector/" .. staging_det .. "/administrator")
      assert.same({ 400, "BadRequestException" }, { r.status, error_code(r) })
      assert.truthy(r.json.message:find("not owned by the current account", 1, true))
      local a = call(s, "guardduty", "GET", "/detector/" .. staging_det .. "/administrator", nil,
        { creds = "staging" }).json.administrator
      assert.same({ ADMIN, "Enabled", "2025-03-14T09:26:53.589Z" }, { a.accountId, a.relationshipStatus, a.invitedAt })
      local inv = inv_of("guardduty", PROD, "us-east-1", ADMIN)
      r = call(s, "guardduty", "POST", "/detector/" .. det .. "/administrator",
        { administratorId = ADMIN, invitationId = "nope" })
      assert.same({ 400, "BadRequestException" }, { r.status, error_code(r) })
      r = call(s, "guardduty", "POST", "/detector/" .. det .. "/administrator",
        { administratorId = ADMIN, invitationId = inv.id })
      assert.equal(200, r.status, r.body)
      assert.same(call(s, "guardduty", "GET", "/detector/" .. det .. "/administrator").json.administrator,
        call(s, "guardduty", "GET", "/detector/" .. det .. "/master").json.master)
      assert.equal(200, call(s, "guardduty", "POST", "/detector/" .. det .. "/master/disassociate").status)
      assert.same({}, call(s, "guardduty", "GET", "/detector/" .. det .. "/administrator").json)
      local other = stranger(list_all(s, "guardduty", "prod", "us-east-1", 50), 4)
      r = call(s, "guardduty", "POST", "/detector/" .. det .. "/master",
        { masterId = other.accountId, invitationId = other.invitationId })
      assert.equal(200, r.status, r.body)
      assert.equal(200, call(s, "guardduty", "POST", "/detector/" .. det .. "/administrator/disassociate").status)
    end)

    it("services not enabled answer in their own way", function()
      local r = call(s, "macie2", "GET", "/invitations", nil, { creds = "dev", region = "ap-southeast-2" })
      assert.same({ 403, "AccessDeniedException" }, { r.status, error_code(r) })
      r = call(s, "securityhub", "GET", "/invitations", nil, { creds = "dev", region = "ap-southeast-2" })
      assert.same({ 401, "InvalidAccessException" }, { r.status, r.json.Code })
      assert.truthy(r.json.Message:find(DEV .. " is not subscribed to AWS Security Hub", 1, true))
      r = call(s, "guardduty", "GET", "/invitation", nil, { creds = "dev", region = "ap-southeast-2" })
      assert.same({ 200, 0 }, { r.status, #r.json.invitations })
    end)

    it("regions are separate", function()
      local r = call(s, "guardduty", "GET", "/invitation/count", nil, { region = "eu-west-1" })
      assert.equal(3, r.json.invitationsCount)
      r = call(s, "securityhub", "GET", "/invitations/count", nil, { region = "eu-central-1", creds = "dev" })
      assert.equal(3, r.json.InvitationsCount)
      assert.equal(0, call(s, "macie2", "GET", "/invitations/count", nil, { region = "sa-east-1" }).json
        .invitationsCount)
    end)
  end)

  it("answers unknown operations and services", function()
    local r = call(s, "guardduty", "GET", "/findings")
    assert.same({ 404, "UnknownOperationException" }, { r.status, error_code(r) })
    r = call(s, "s3", "GET", "/")
    assert.same({ 404, "UnknownServiceException" }, { r.status, error_code(r) })
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: authentication", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)

  local function flip_signature(method, path, query, headers, body)
    for _, h in ipairs(headers) do
      if h[1]:lower() == "authorization" then
        h[2] = h[2]:gsub("Signature=(%x)", function(c) return "Signature=" .. (c == "0" and "1" or "0") end)
      end
    end
    return method, path, query, headers, body
  end

  local function without(name)
    return function(method, path, query, headers, body)
      local out = {}
      for _, h in ipairs(headers) do
        if h[1]:lower() ~= name then out[#out + 1] = h end
      end
      return method, path, query, out, body
    end
  end

  local function replace_auth(value)
    return function(method, path, query, headers, body)
      for _, h in ipairs(headers) do
        if h[1]:lower() == "authorization" then h[2] = value end
      end
      return method, path, query, headers, body
    end
  end

  local CASES = {
    { "no Authorization", { tamper = without("authorization") },
      403, "MissingAuthenticationTokenException", 403, "MissingAuthenticationToken", "Missing Authentication Token" },
    { "malformed Authorization", { tamper = replace_auth("AWS4-HMAC-SHA256 Credential=AKIASIMPROD000000001") },
      400, "IncompleteSignatureException", 400, "IncompleteSignature", "requires 'Signature' parameter" },
    { "a credential scope without aws4_request",
      { tamper = replace_auth("AWS4-HMAC-SHA256 Credential=AKIASIMPROD000000001/20260101/us-east-1/guardduty, "
        .. "SignedHeaders=host;x-amz-date, Signature=" .. string.rep("0", 64)) },
      400, "IncompleteSignatureException", 400, "IncompleteSignature", "Credential" },
    { "unknown access key", { creds = { access_key_id = "AKIAUNKNOWNKEY000001", secret_access_key = "x" } },
      403, "UnrecognizedClientException", 403, "InvalidClientTokenId",
      "security token included in the request is invalid" },
    { "wrong secret", { creds = { access_key_id = "AKIASIMPROD000000001", secret_access_key = "wrong" } },
      403, "InvalidSignatureException", 403, "SignatureDoesNotMatch", "signature we calculated does not match" },
    { "one hex digit of the signature changed", { tamper = flip_signature },
      403, "InvalidSignatureException", 403, "SignatureDoesNotMatch", "signature we calculated does not match" },
    { "a request 10 minutes old", { time = os.time() - 600 },
      403, "InvalidSignatureException", 403, "SignatureDoesNotMatch", "Signature expired" },
    { "a request 10 minutes in the future", { time = os.time() + 600 },
      403, "InvalidSignatureException", 403, "SignatureDoesNotMatch", "Signature not yet current" },
    { "expired session credentials", { creds = "ASIASIMEXPIRED000001" },
      403, "ExpiredTokenException", 403, "ExpiredToken", "expired" },
    { "a wrong session token", { creds = { access_key_id = "ASIASIMVALID00000001",
        secret_access_key = "sim/valid/session/secret/FAKEFAKEFAKEFAK", session_token = "not-the-token" } },
      403, "UnrecognizedClientException", 403, "InvalidClientTokenId",
      "security token included in the request is invalid" },
    { "no session token with temporary keys", { creds = { access_key_id = "ASIASIMVALID00000001",
        secret_access_key = "sim/valid/session/secret/FAKEFAKEFAKEFAK" } },
      403, "UnrecognizedClientException", 403, "InvalidClientTokenId", "invalid" },
    { "a session token with a long-term key", { creds = { access_key_id = "AKIASIMPROD000000001",
        secret_access_key = "sim/prod/secret/1/FAKEFAKEFAKEFAKEFAKEFA", session_token = "whatever" } },
      403, "UnrecognizedClientException", 403, "InvalidClientTokenId", "invalid" },
  }

  for _, c in ipairs(CASES) do
    local name, opts, status, code, sts_status, sts_code, words = c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    for _, service in ipairs{ "macie2", "securityhub", "guardduty" } do
      it(service .. " rejects " .. name .. " with " .. status .. " " .. code, function()
        local o = util.copy(opts)
        local path = service == "guardduty" and "/invitation/count" or "/invitations/count"
        local r = call(s, service, "GET", path, nil, o)
        assert.equal(status, r.status, r.body)
        assert.equal(code, error_code(r))
        assert.truthy(r.json.message:find(words, 1, true), r.json.message)
        assert.truthy(r.headers["x-amzn-requestid"])
      end)
    end
    it("sts rejects " .. name .. " with " .. sts_status .. " " .. sts_code, function()
      local r = sts_call(s, { { "Action", "GetCallerIdentity" }, { "Version", "2011-06-15" } }, util.copy(opts))
      assert.equal(sts_status, r.status, r.body)
      assert.equal(sts_code, xml_value(r.body, "Code"))
      assert.equal("Sender", xml_value(r.body, "Type"))
      assert.truthy(xml_value(r.body, "Message"):lower():find(words:lower(), 1, true), r.body)
      assert.truthy(r.body:find("^<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011%-06%-15/\">"))
    end)
  end

  it("rejects a body changed after signing", function()
    local r = call(s, "guardduty", "POST", "/invitation/decline", { accountIds = { "123456789012" } }, {
      tamper = function(m, p, q, h, b) return m, p, q, h, b:gsub("123", "124") end })
    assert.same({ 403, "InvalidSignatureException" }, { r.status, error_code(r) })
  end)

  it("rejects a query changed after signing", function()
    local r = call(s, "macie2", "GET", "/invitations", nil, { query = "maxResults=5",
      tamper = function(m, p, _, h, b) return m, p, "maxResults=6", h, b end })
    assert.same({ 403, "InvalidSignatureException" }, { r.status, error_code(r) })
  end)

  it("accepts presigned query authentication and rejects it tampered or expired", function()
    local r = call(s, "macie2", "GET", "/invitations", nil, { query = "maxResults=3", presign = true })
    assert.equal(200, r.status, r.body)
    assert.equal(3, #r.json.invitations)
    r = call(s, "macie2", "GET", "/invitations", nil, { query = "maxResults=3", presign = true,
      tamper = function(m, p, q, h, b) return m, p, q:gsub("maxResults=3", "maxResults=4"), h, b end })
    assert.same({ 403, "InvalidSignatureException" }, { r.status, error_code(r) })
    r = call(s, "macie2", "GET", "/invitations", nil, { query = "maxResults=3", presign = true, expires = 60,
      time = os.time() - 120 })
    assert.same({ 403, "InvalidSignatureException" }, { r.status, error_code(r) })
    assert.truthy(r.json.message:find("expired", 1, true))
    r = call(s, "macie2", "GET", "/invitations", nil, { query = "X-Amz-Algorithm=AWS4-HMAC-SHA256",
      tamper = without("authorization") })
    assert.same({ 400, "IncompleteSignatureException" }, { r.status, error_code(r) })
  end)

  it("accepts session credentials, including ones issued by AssumeRole until they expire", function()
    local r = call(s, "guardduty", "GET", "/invitation/count", nil, { creds = "ASIASIMVALID00000001" })
    assert.equal(200, r.status)
    r = sts_call(s, { { "Action", "AssumeRole" }, { "Version", "2011-06-15" },
      { "RoleArn", "arn:aws:iam::" .. PROD .. ":role/InviteManager" }, { "RoleSessionName", "spec" },
      { "DurationSeconds", "900" } }, { creds = "audit" })
    assert.equal(200, r.status, r.body)
    local creds = { access_key_id = xml_value(r.body, "AccessKeyId"), secret_access_key = xml_value(r.body,
      "SecretAccessKey"), session_token = xml_value(r.body, "SessionToken") }
    assert.truthy(creds.access_key_id:find("^ASIA[A-Z2-7]+$"))
    r = call(s, "macie2", "GET", "/invitations/count", nil, { creds = creds })
    assert.equal(200, r.status)
    assert.equal(62, r.json.invitationsCount)
    local who = sts_call(s, { { "Action", "GetCallerIdentity" } }, { creds = creds })
    assert.equal("arn:aws:sts::" .. PROD .. ":assumed-role/InviteManager/spec", xml_value(who.body, "Arn"))
    assert.equal(PROD, xml_value(who.body, "Account"))
    local st = s:state()
    local listed
    for _, sess in ipairs(st.sessions) do
      if sess.access_key_id == creds.access_key_id then listed = sess end
      assert.is_nil(sess.secret)
      assert.is_nil(sess.session_token)
    end
    assert.same({ PROD, "InviteManager", "spec", "AssumeRole" },
      { listed.account, listed.role, listed.session_name, listed.source })
    s:advance_clock(901)
    r = call(s, "macie2", "GET", "/invitations/count", nil, { creds = creds, time = os.time() + 901 })
    assert.same({ 403, "ExpiredTokenException" }, { r.status, error_code(r) })
    s:advance_clock(-901)
  end)

  it("moves the whole clock with POST /__sim/clock: signing window and session expiry", function()
    local moved = s:advance_clock(600)
    assert.equal(600, moved.offset)
    local r = call(s, "guardduty", "GET", "/invitation/count")
    assert.same({ 403, "InvalidSignatureException" }, { r.status, error_code(r) })
    r = call(s, "guardduty", "GET", "/invitation/count", nil, { time = os.time() + 600 })
    assert.equal(200, r.status)
    r = sts_call(s, { { "Action", "AssumeRole" }, { "RoleArn", "arn:aws:iam::" .. PROD .. ":role/InviteManager" },
      { "RoleSessionName", "clock" } }, { creds = "audit", time = os.time() + 600 })
    local exp = util.parse_iso8601(xml_value(r.body, "Expiration"))
    assert.is_true(math.abs(exp - (os.time() + 600 + 3600)) <= 5)
    s:advance_clock(-600)
  end)

  it("answers a request without any credentials and without a known service with 403", function()
    local raw = s:raw("GET /invitation HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.truthy(raw:find("^HTTP/1.1 403 Forbidden"))
    assert.truthy(raw:find("x-amzn-ErrorType: MissingAuthenticationTokenException", 1, true))
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: sts", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)

  local function assume(creds, arn, name, duration)
    local p = { { "Action", "AssumeRole" }, { "Version", "2011-06-15" }, { "RoleArn", arn },
                { "RoleSessionName", name or "spec" } }
    if duration then p[#p + 1] = { "DurationSeconds", tostring(duration) } end
    return sts_call(s, p, { creds = creds })
  end

  it("GetCallerIdentity names the user", function()
    local r = sts_call(s, { { "Action", "GetCallerIdentity" }, { "Version", "2011-06-15" } }, { creds = "staging" })
    assert.equal(200, r.status)
    assert.equal("text/xml", r.headers["content-type"])
    assert.same({ STAGING, "arn:aws:iam::" .. STAGING .. ":user/staging-automation", "AIDASIMSTAGING000001" },
      { xml_value(r.body, "Account"), xml_value(r.body, "Arn"), xml_value(r.body, "UserId") })
    assert.equal(r.headers["x-amzn-requestid"], xml_value(r.body, "RequestId"))
    -- also as a GET with the parameters in the query string
    r = call(s, "sts", "GET", "/", nil, { query = "Action=GetCallerIdentity&Version=2011-06-15" })
    assert.same({ 200, PROD }, { r.status, xml_value(r.body, "Account") })
  end)

  it("AssumeRole issues temporary credentials with an expiration", function()
    local t0 = os.time()
    local r = assume("org-admin", "arn:aws:iam::" .. DEV .. ":role/InviteManager", "nightly")
    assert.equal(200, r.status, r.body)
    assert.equal("arn:aws:sts::" .. DEV .. ":assumed-role/InviteManager/nightly", xml_value(r.body, "Arn"))
    assert.truthy(xml_value(r.body, "AssumedRoleId"):find("^AROA%w+:nightly$"))
    local exp = util.parse_iso8601(xml_value(r.body, "Expiration"))
    assert.is_true(math.abs(exp - (t0 + 3600)) <= 5)
    assert.is_true(#xml_value(r.body, "SessionToken") > 100)
    assert.equal(40, #xml_value(r.body, "SecretAccessKey"))
    local log = s:requests()
    local e = log[#log]
    assert.same({ "sts", "AssumeRole", ADMIN, { DEV } }, { e.service, e.operation, e.account, e.account_ids })
  end)

  it("refuses untrusted callers, unknown roles and bad parameters", function()
    local r = assume("prod", "arn:aws:iam::" .. DEV .. ":role/InviteManager")
    assert.same({ 403, "AccessDenied" }, { r.status, xml_value(r.body, "Code") })
    assert.truthy(xml_value(r.body, "Message"):find("is not authorized to perform: sts:AssumeRole on resource", 1,
      true))
    r = assume("org-admin", "arn:aws:iam::" .. DEV .. ":role/NoSuchRole")
    assert.same({ 403, "AccessDenied" }, { r.status, xml_value(r.body, "Code") })
    r = assume("org-admin", "not-an-arn-but-long-enough")
    assert.same({ 400, "ValidationError" }, { r.status, xml_value(r.body, "Code") })
    r = assume("org-admin", "arn:aws:iam::" .. DEV .. ":role/InviteManager", "x")
    assert.same({ 400, "ValidationError" }, { r.status, xml_value(r.body, "Code") })
    r = assume("org-admin", "arn:aws:iam::" .. DEV .. ":role/InviteManager", "ok-name", 7200)
    assert.same({ 400, "ValidationError" }, { r.status, xml_value(r.body, "Code") })
    assert.truthy(xml_value(r.body, "Message"):find("MaxSessionDuration", 1, true))
    r = assume("org-admin", "arn:aws:iam::" .. PROD .. ":role/InviteManager", "long", 7200)
    assert.equal(200, r.status)
    r = assume("org-admin", "arn:aws:iam::" .. PROD .. ":role/InviteManager", "short", 899)
    assert.same({ 400, "ValidationError" }, { r.status, xml_value(r.body, "Code") })
    r = sts_call(s, { { "Action", "AssumeRole" } }, { creds = "org-admin" })
    assert.same({ 400, "ValidationError" }, { r.status, xml_value(r.body, "Code") })
  end)

  it("limits role chaining to one hour", function()
    local r = assume("org-admin", "arn:aws:iam::" .. ADMIN .. ":role/InviteManager", "hop1")
    assert.equal(200, r.status, r.body)
    local creds = { access_key_id = xml_value(r.body, "AccessKeyId"), secret_access_key = xml_value(r.body,
      "SecretAccessKey"), session_token = xml_value(r.body, "SessionToken") }
    r = assume(creds, "arn:aws:iam::" .. PROD .. ":role/InviteManager", "hop2", 7200)
    assert.same({ 400, "ValidationError" }, { r.status, xml_value(r.body, "Code") })
    r = assume(creds, "arn:aws:iam::" .. PROD .. ":role/InviteManager", "hop2")
    assert.equal(200, r.status, r.body)
  end)

  it("AssumeRoleWithWebIdentity works unsigned with a token listed in the fixture", function()
    local arn = "arn:aws:iam::666666666666:role/GitHubActionsInvite"
    local params = { { "Action", "AssumeRoleWithWebIdentity" }, { "Version", "2011-06-15" }, { "RoleArn", arn },
      { "RoleSessionName", "gha" }, { "WebIdentityToken", "sim-web-identity-token-ci" } }
    local r = sts_call(s, params, { unsigned = true })
    assert.equal(200, r.status, r.body)
    assert.same({ "repo:example-corp/security:ref:refs/heads/main", "token.actions.githubusercontent.com",
                  "sts.amazonaws.com" },
      { xml_value(r.body, "SubjectFromWebIdentityToken"), xml_value(r.body, "Provider"), xml_value(r.body,
        "Audience") })
    local creds = { access_key_id = xml_value(r.body, "AccessKeyId"), secret_access_key = xml_value(r.body,
      "SecretAccessKey"), session_token = xml_value(r.body, "SessionToken") }
    r = assume(creds, "arn:aws:iam::" .. STAGING .. ":role/InviteManager", "from-ci")
    assert.equal(200, r.status, r.body)
    params[5] = { "WebIdentityToken", "forged-token" }
    r = sts_call(s, params, { unsigned = true })
    assert.same({ 400, "InvalidIdentityToken" }, { r.status, xml_value(r.body, "Code") })
    params[3] = { "RoleArn", "arn:aws:iam::" .. PROD .. ":role/InviteManager" }
    params[5] = { "WebIdentityToken", "sim-web-identity-token-ci" }
    r = sts_call(s, params, { unsigned = true })
    assert.same({ 400, "InvalidIdentityToken" }, { r.status, xml_value(r.body, "Code") })
  end)

  it("answers unknown and missing actions", function()
    local r = sts_call(s, { { "Action", "GetSessionToken" } })
    assert.same({ 400, "InvalidAction" }, { r.status, xml_value(r.body, "Code") })
    r = sts_call(s, { { "Version", "2011-06-15" } })
    assert.same({ 400, "MissingAction" }, { r.status, xml_value(r.body, "Code") })
    r = sts_call(s, { { "Action", "GetCallerIdentity" } }, { unsigned = true })
    assert.same({ 403, "MissingAuthenticationToken" }, { r.status, xml_value(r.body, "Code") })
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: injected faults", function()
  local s
  setup(function() s = sim.start{ seed = 5 } end)
  teardown(function() s:stop() end)
  before_each(function() s:set_faults(""); s:reset() end)

  local COUNT = { macie2 = "/invitations/count", securityhub = "/invitations/count", guardduty = "/invitation/count" }
  local THROTTLE = { macie2 = "ThrottlingException", securityhub = "LimitExceededException",
                     guardduty = "TooManyRequestsException" }

  for service, code in pairs(THROTTLE) do
    it(service .. " throttles with 429 " .. code .. ", with and without Retry-After", function()
      s:set_faults("first 1 " .. service .. " throttle; first 1 " .. service .. ":GetInvitationsCount throttle=3")
      local r = call(s, service, "GET", COUNT[service])
      assert.same({ 429, code }, { r.status, error_code(r) })
      assert.is_nil(r.headers["retry-after"])
      if service == "securityhub" then assert.equal(code, r.json.Code) else assert.truthy(r.json.message) end
      r = call(s, service, "GET", COUNT[service])
      assert.same({ 429, code, "3" }, { r.status, error_code(r), r.headers["retry-after"] })
      r = call(s, service, "GET", COUNT[service])
      assert.equal(200, r.status)
    end)

    it(service .. " answers injected 500 and 503 in its own style", function()
      s:set_faults("first 1 " .. service .. " 500; first 1 " .. service .. " 503=7")
      local r = call(s, service, "GET", COUNT[service])
      assert.equal(500, r.status)
      assert.equal(({ macie2 = "InternalServerException", securityhub = "InternalException",
                      guardduty = "InternalServerErrorException" })[service], error_code(r))
      r = call(s, service, "GET", COUNT[service])
      assert.same({ 503, "ServiceUnavailableException", "7" }, { r.status, error_code(r), r.headers["retry-after"] })
    end)
  end

  it("sts throttles with 400 Throttling", function()
    s:set_faults("first 1 sts throttle=1")
    local r = sts_call(s, { { "Action", "GetCallerIdentity" } })
    assert.same({ 400, "Throttling", "1" }, { r.status, xml_value(r.body, "Code"), r.headers["retry-after"] })
  end)

  it("scripted faults hit only the named operation, region and account, and leave state alone", function()
    s:set_faults("first 2 guardduty:DeclineInvitations region=us-east-1 account=" .. PROD .. " 503")
    local body = { accountIds = { ADMIN } }
    assert.equal(200, call(s, "guardduty", "GET", "/invitation/count").status)
    assert.equal(200, call(s, "guardduty", "POST", "/invitation/decline", body, { region = "eu-west-1" }).status)
    assert.equal(200, call(s, "guardduty", "POST", "/invitation/decline", body, { creds = "staging" }).status)
    assert.equal(503, call(s, "guardduty", "POST", "/invitation/decline", body).status)
    assert.equal(503, call(s, "guardduty", "POST", "/invitation/decline", body).status)
    for _, inv in ipairs(s:state().invitations) do
      if inv.service == "guardduty" and inv.account == PROD and inv.inviter == ADMIN and inv.region == "us-east-1" then
        assert.equal("Invited", inv.status)
      end
    end
    assert.equal(200, call(s, "guardduty", "POST", "/invitation/decline", body).status)
    local f = s:faults()
    assert.same({ matched = 3, fired = 2 }, { matched = f.rules[1].matched, fired = f.rules[1].fired })
    local log = s:requests()
    assert.equal("503", log[#log - 1].fault)
    assert.equal(503, log[#log - 1].status)
  end)

  it("resets the connection without an answer", function()
    s:set_faults("first 1 macie2 reset")
    local res, err = s:call{ service = "macie2", path = "/invitations/count" }
    assert.is_nil(res)
    assert.truthy(err)
    assert.equal(200, call(s, "macie2", "GET", "/invitations/count").status)
    local log = s:requests()
    assert.equal("reset", log[#log - 1].fault)
  end)

  it("truncates the body after doing the work", function()
    s:set_faults("first 1 securityhub:DeleteInvitations truncate")
    local before = call(s, "securityhub", "GET", "/invitations/count").json.InvitationsCount
    local res, err = s:call{ service = "securityhub", method = "POST", path = "/invitations/delete",
                             body = json({ AccountIds = { ADMIN } }) }
    assert.is_nil(res)
    assert.equal("truncated", err)
    assert.equal(before - 1, call(s, "securityhub", "GET", "/invitations/count").json.InvitationsCount)
  end)

  it("sends invalid JSON with status 200", function()
    s:set_faults("first 1 guardduty:ListInvitations badjson")
    local r = call(s, "guardduty", "GET", "/invitation")
    assert.equal(200, r.status)
    assert.is_nil(cjson.decode(r.body))
    assert.equal(200, call(s, "guardduty", "GET", "/invitation").status)
  end)

  it("holds a response for the injected latency without blocking other connections", function()
    s:set_faults("guardduty:GetInvitationsCount latency=800")
    local host = s.host .. ":" .. s.port
    local slow = s:connect()
    local m, p, q, h, b = sim.sign({ service = "guardduty", path = "/invitation/count" }, host)
    local lines = { m .. " " .. p .. " HTTP/1.1" }
    for _, x in ipairs(h) do lines[#lines + 1] = x[1] .. ": " .. x[2] end
    local t0 = socket.gettime()
    slow:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. b)
    assert.equal("", q)
    local r = call(s, "macie2", "GET", "/invitations/count")
    local fast = socket.gettime() - t0
    assert.equal(200, r.status)
    assert.is_true(fast < 0.6, "other requests waited " .. fast .. " s")
    local status = sim.read_response(slow)
    local slow_t = socket.gettime() - t0
    slow:close()
    assert.equal(200, status)
    assert.is_true(slow_t >= 0.75, "held only " .. slow_t .. " s")
    local log = s:requests()
    local found
    for _, e in ipairs(log) do
      if e.operation == "GetInvitationsCount" and e.service == "guardduty" then found = e end
    end
    assert.same({ "latency", 800 }, { found.fault, found.latency_ms })
  end)

  local function statuses(seed, n)
    s:set_faults("30% guardduty 503", seed)
    local out = {}
    for i = 1, n do out[i] = tostring(call(s, "guardduty", "GET", "/invitation/count").status) end
    return table.concat(out, " ")
  end

  it("is deterministic with a seed", function()
    local a = statuses(11, 40)
    local b = statuses(11, 40)
    local c = statuses(12, 40)
    assert.equal(a, b)
    assert.not_equal(a, c)
    assert.truthy(a:find("503", 1, true))
    assert.truthy(a:find("200", 1, true))
  end)

  it("gives the same run to two simulators started with the same seed and faults", function()
    local runs = {}
    for i = 1, 2 do
      local t = sim.start{ seed = 99, faults = "25% throttle; 10% 500" }
      local out = {}
      for j = 1, 30 do
        local r = t:call{ service = "macie2", path = "/invitations/count" }
        out[j] = r and r.status or "x"
      end
      t:stop()
      runs[i] = table.concat(out, ",")
    end
    assert.equal(runs[1], runs[2])
    assert.truthy(runs[1]:find("429", 1, true))
  end)

  it("refuses a bad spec at runtime and keeps the old rules", function()
    s:set_faults("first 1 macie2 500")
    assert.has_error(function() s:set_faults("first macie2 500") end)
    assert.equal("first 1 macie2 500", s:faults().rules[1].rule)
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: request log and control endpoints", function()
  local s, logfile
  setup(function()
    logfile = os.tmpname()
    s = sim.start{ log = logfile }
  end)
  teardown(function()
    s:stop()
    os.remove(logfile)
  end)

  it("writes every request as a JSON line without secrets and serves the same entries", function()
    call(s, "guardduty", "POST", "/invitation/decline", { accountIds = { "123456789012" } })
    call(s, "macie2", "GET", "/invitations", nil, { query = "maxResults=2", presign = true })
    call(s, "securityhub", "GET", "/invitations/count", nil, { creds = "ASIASIMVALID00000001" })
    call(s, "securityhub", "GET", "/invitations/count", nil, { creds = { access_key_id = "AKIASIMPROD000000001",
      secret_access_key = "bad" } })
    sts_call(s, { { "Action", "AssumeRole" }, { "RoleArn", "arn:aws:iam::" .. PROD .. ":role/InviteManager" },
                  { "RoleSessionName", "log" } }, { creds = "org-admin" })
    s:raw("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    local served = s:requests()
    local f = assert(io.open(logfile))
    local text = f:read("*a")
    f:close()
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = assert(cjson.decode(l)) end
    assert.equal(#served, #lines)
    assert.same(served, lines)
    assert.equal(6, #lines)
    assert.same({ "guardduty", "DeclineInvitations", PROD, "us-east-1", 200, { "123456789012" }, "header" },
      { lines[1].service, lines[1].operation, lines[1].account, lines[1].region, lines[1].status,
        lines[1].account_ids, lines[1].auth })
    assert.same({ "macie2", "ListInvitations", "query", "maxResults=2" },
      { lines[2].service, lines[2].operation, lines[2].auth, lines[2].query })
    assert.same({ STAGING, "ASIASIMVALID00000001" }, { lines[3].account, lines[3].access_key_id })
    assert.same({ 403, "InvalidSignatureException" }, { lines[4].status, lines[4].error })
    assert.same({ 411, "HTTP 411" }, { lines[6].status, lines[6].error })
    for _, e in ipairs(lines) do
      assert.truthy(e.time:find("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"))
      assert.is_number(e.seq)
    end
    -- nothing secret: no secret keys, session tokens, signatures or Authorization headers
    for _, secret in ipairs{ "FAKEFAKE", "sim-session-token", "Signature=", "X-Amz-Signature", "Credential",
                             "X-Amz-Security-Token", "AWS4-HMAC-SHA256", "SecretAccessKey", "IQoJ" } do
      assert.is_nil(text:find(secret, 1, true), "log contains " .. secret)
    end
  end)

  it("serves entries since a sequence number, clears them, and never logs control calls", function()
    local n = #s:requests()
    local last = s:requests()[n].seq
    call(s, "guardduty", "GET", "/invitation/count")
    s:state()
    s:faults()
    local since = s:requests(last)
    assert.equal(1, #since)
    assert.equal("GetInvitationsCount", since[1].operation)
    s:clear_requests()
    assert.same({}, s:requests())
    call(s, "guardduty", "GET", "/invitation/count")
    assert.equal(last + 2, s:requests()[1].seq)
  end)

  it("answers health, 404 for unknown control paths and 403 to non-loopback peers", function()
    local h = s:control("GET", "/__sim/health")
    assert.same({ true, s.pid, s.port }, { h.ok, h.pid, h.port })
    local raw = s:raw("GET /__sim/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.truthy(raw:find("^HTTP/1.1 404"))
    local control = require "invite.sim.control"
    local res = control.handle({}, { peer = "10.1.2.3", path = "/__sim/state", method = "GET", query = "" })
    assert.equal(403, res.status)
    assert.is_true(control.is_loopback("127.0.0.1") and control.is_loopback("::1"))
  end)

  it("state shows what changed and reset brings back the fixture", function()
    local v0 = s:state().version
    call(s, "macie2", "POST", "/invitations/delete", { accountIds = { ADMIN } })
    local st = s:state()
    assert.is_true(st.version > v0)
    for _, inv in ipairs(st.invitations) do
      assert.is_false(inv.service == "macie2" and inv.account == PROD and inv.inviter == ADMIN
        and inv.region == "us-east-1")
    end
    assert.equal(6, #st.accounts)
    assert.is_true(#st.detectors >= 8)
    s:reset()
    local found = false
    for _, inv in ipairs(s:state().invitations) do
      if inv.service == "macie2" and inv.account == PROD and inv.inviter == ADMIN and inv.region == "us-east-1" then
        found = true
      end
    end
    assert.is_true(found)
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: HTTP/1.1", function()
  local s
  setup(function() s = sim.start{} end)
  teardown(function() s:stop() end)

  local function request_bytes(o, extra)
    local host = s.host .. ":" .. s.port
    local m, p, q, h, b = sim.sign(o, host)
    local lines = { m .. " " .. p .. (q ~= "" and "?" .. q or "") .. " HTTP/1.1" }
    for _, x in ipairs(h) do lines[#lines + 1] = x[1] .. ": " .. x[2] end
    lines[#lines + 1] = "Content-Length: " .. #b
    for _, x in ipairs(extra or {}) do lines[#lines + 1] = x end
    return table.concat(lines, "\r\n") .. "\r\n\r\n" .. b
  end

  it("serves many requests on one keep-alive connection, pipelined ones in order", function()
    s:clear_requests()
    local c = s:connect()
    for _ = 1, 5 do
      c:send(request_bytes{ service = "guardduty", path = "/invitation/count" })
      local status, headers, body = sim.read_response(c)
      assert.equal(200, status)
      assert.is_nil(headers.connection)
      assert.equal(65, cjson.decode(body).invitationsCount)
    end
    c:send(request_bytes{ service = "macie2", path = "/invitations/count" }
      .. request_bytes{ service = "securityhub", path = "/invitations/count" }
      .. request_bytes{ service = "guardduty", path = "/invitation/count" })
    local want = { '{"invitationsCount":62}', '{"InvitationsCount":55}', '{"invitationsCount":65}' }
    for i = 1, 3 do
      local status, _, body = sim.read_response(c)
      assert.equal(200, status)
      assert.equal(want[i], body)
    end
    c:close()
    local conns, n = {}, 0
    for _, e in ipairs(s:requests()) do
      if not conns[e.conn] then n = n + 1 end
      conns[e.conn] = true
    end
    assert.equal(1, n)
    assert.equal(8, #s:requests())
  end)

  it("serves many concurrent connections", function()
    local conns = {}
    for i = 1, 60 do conns[i] = s:connect() end
    for i = 60, 1, -1 do
      conns[i]:send(request_bytes{ service = "guardduty", path = "/invitation/count" })
    end
    for i = 1, 60 do
      assert.equal(200, (sim.read_response(conns[i])))
      conns[i]:close()
    end
  end)

  it("closes after Connection: close and answers HTTP/1.0 without keep-alive", function()
    local raw = s:raw(request_bytes({ service = "guardduty", path = "/invitation/count" }, { "Connection: close" }))
    assert.truthy(raw:find("^HTTP/1.1 200 OK"))
    assert.truthy(raw:find("Connection: close", 1, true))
    raw = s:raw((request_bytes{ service = "guardduty", path = "/invitation/count" }:gsub("HTTP/1.1", "HTTP/1.0", 1)))
    assert.truthy(raw:find("^HTTP/1.1 200 OK"))
    assert.truthy(raw:find("Connection: close", 1, true))
  end)

  it("refuses chunked, oversized and malformed requests with 4xx", function()
    local raw = s:raw("POST /invitation/decline HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      .. "5\r\nhello\r\n0\r\n\r\n")
    assert.truthy(raw:find("^HTTP/1.1 411 "))
    raw = s:raw("POST /invitation/decline HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
    assert.truthy(raw:find("^HTTP/1.1 413 "))
    raw = s:raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " .. string.rep("a", 20000) .. "\r\n\r\n")
    assert.truthy(raw:find("^HTTP/1.1 431 "))
    raw = s:raw("BROKEN\r\n\r\n")
    assert.truthy(raw:find("^HTTP/1.1 400 "))
    raw = s:raw("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
    assert.truthy(raw:find("^HTTP/1.1 400 "))
    raw = s:raw("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n")
    assert.truthy(raw:find("^HTTP/1.1 400 "))
  end)

  it("answers Expect: 100-continue", function()
    local c = s:connect()
    local bytes = request_bytes({ service = "guardduty", method = "POST", path = "/invitation/decline",
                                  body = json({ accountIds = { "123456789012" } }) }, { "Expect: 100-continue" })
    local head, body = bytes:match("^(.-\r\n\r\n)(.*)$")
    c:send(head)
    assert.equal("HTTP/1.1 100 Continue", c:receive("*l"))
    assert.equal("", c:receive("*l"))
    c:send(body)
    local status, _, rbody = sim.read_response(c)
    c:close()
    assert.equal(200, status)
    assert.equal("123456789012", cjson.decode(rbody).unprocessedAccounts[1].accountId)
  end)
end)

---------------------------------------------------------------------------------------------------

describe("invite sim: process", function()
  it("prints one line with the URL, port and pid, and stops on SIGTERM", function()
    local s = sim.start{}
    assert.truthy(s.endpoint:find("^http://127%.0%.0%.1:%d+$"))
    assert.is_true(s.port > 0 and s.pid > 0)
    assert.equal(s.pid, s:control("GET", "/__sim/health").pid)
    s:stop()
    local c = socket.tcp()
    c:settimeout(1)
    assert.is_nil(c:connect("127.0.0.1", s.port))
    c:close()
  end)

  it("stops cleanly on SIGINT and on POST /__sim/stop", function()
    for _, how in ipairs{ "INT", "stop" } do
      local log = os.tmpname()
      local p = io.popen("env -u LD_PRELOAD " .. interp.LUA .. " " .. sim.ROOT .. "/bin/invite sim --fixtures "
        .. sim.FIXTURE
        .. " --log " .. log .. " 2>&1; echo rc=$?")
      local line = p:read("*l")
      local port, pid = line:match(":(%d+) %(pid (%d+)%)")
      assert.truthy(port, line)
      local c = socket.tcp()
      assert(c:connect("127.0.0.1", tonumber(port)))
      c:send("GET /invitation HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      sim.read_response(c)
      c:close()
      if how == "INT" then
        os.execute("kill -INT " .. pid)
      else
        c = socket.tcp()
        assert(c:connect("127.0.0.1", tonumber(port)))
        c:send("POST /__sim/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        sim.read_response(c)
        c:close()
      end
      local rest = p:read("*a")
      p:close()
      assert.truthy(rest:find("rc=0", 1, true), how .. ": " .. rest)
      local f = io.open(log)
      local text = f:read("*a")
      f:close()
      os.remove(log)
      assert.truthy(text:find('"status":403', 1, true))
    end
  end)
end)

describe("invite sim: under LuaJIT", function()
  local f = io.open(sim.ROOT .. "/build/luajit/invite/core.so")
  local have = f ~= nil and os.execute("command -v luajit >/dev/null 2>&1")
  if f then f:close() end
  local run = have and it or pending
  run("serves signed requests, pagination and STS the same way", function()
    local s = sim.start{ lua = "luajit" }
    local ok, err = pcall(function()
      local items, pages = list_all(s, "macie2", "prod", "us-east-1", 25)
      assert.same({ 62, 3 }, { #items, pages })
      local r = call(s, "guardduty", "POST", "/invitation/decline", { accountIds = { "123456789012" } })
      assert.equal(1, #r.json.unprocessedAccounts)
      r = sts_call(s, { { "Action", "GetCallerIdentity" } })
      assert.equal(PROD, xml_value(r.body, "Account"))
      r = call(s, "guardduty", "GET", "/invitation/count", nil, { creds = "ASIASIMEXPIRED000001" })
      assert.equal(403, r.status)
    end)
    s:stop()
    assert(ok, err)
  end)
end)
