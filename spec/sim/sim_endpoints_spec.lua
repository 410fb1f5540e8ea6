-- invite sim: an invitation service answers only in the regions where it exists (invite.regions,
-- botocore's table). Elsewhere, and in a region the table does not know, AWS has no endpoint; the
-- simulator answers 404 UnknownEndpoint in the service's style, and the client does not retry it.
-- The fixture checker refuses invitations, administrators, detectors and disabled entries there.
local sim = require "support.sim"
local invite = require "invite"
local fixtures = require "invite.sim.fixtures"
local regions = require "invite.regions"

local ME, INVITER = "111122223333", "999988887777"
local KEY = { id = "AKIASIMENDPOINTSPEC1", secret = "sim/endpoints/spec/secret/0123456789abcdef" }
local CREDS = { access_key_id = KEY.id, secret_access_key = KEY.secret, account = ME }

local function fixture(extra)
  local fx = {
    accounts = { { id = ME, name = "member", access_keys = { KEY } } },
    invitations = {
      { service = "guardduty", region = "cn-north-1", account = ME, inviter = INVITER, id = "gd-cn",
        invited_at = "2026-03-01T00:00:00Z" },
      { service = "securityhub", region = "eusc-de-east-1", account = ME, inviter = INVITER, id = "sh-eusc",
        invited_at = "2026-03-01T00:00:00Z" },
      { service = "macie2", region = "us-east-1", account = ME, inviter = INVITER, id = "m-use1",
        invited_at = "2026-03-01T00:00:00Z" },
    },
  }
  for k, v in pairs(extra or {}) do fx[k] = v end
  return fx
end

local COUNT = { macie2 = "/invitations/count", securityhub = "/invitations/count", guardduty = "/invitation/count" }
local LIST = { macie2 = "/invitations", securityhub = "/invitations", guardduty = "/invitation" }

local function header(res, name)
  return res.headers[name:lower()]
end

-- The message of an error body in each service's style.
local function message_of(service, res)
  if service == "securityhub" then return res.json.Message, res.json.Code end
  return res.json.message, res.json.__type
end

describe("invite sim: services only where they exist", function()
  local s

  setup(function() s = sim.start{ fixtures = fixture() } end)
  teardown(function() s:stop() end)

  local function call(service, region, path)
    local res, err = s:call{ service = service, region = region, path = path or COUNT[service], creds = CREDS }
    assert(res, tostring(err))
    return res
  end

  it("answers 404 UnknownEndpoint for macie2 in cn-north-1 and eusc-de-east-1, in Macie's style", function()
    for _, case in ipairs{ { "cn-north-1", "macie2.cn-north-1.amazonaws.com.cn" },
                           { "eusc-de-east-1", "macie2.eusc-de-east-1.amazonaws.eu" } } do
      local res = call("macie2", case[1])
      assert.equal(404, res.status)
      assert.equal("UnknownEndpoint:http://internal.amazon.com/coral/com.amazonaws.macie2/",
        header(res, "x-amzn-ErrorType"))
      assert.same({ "invite sim: macie2 does not exist in " .. case[1] .. " (no endpoint " .. case[2] .. ")",
                    "UnknownEndpoint" }, { message_of("macie2", res) })
    end
    local log = s:requests()
    assert.equal(404, log[#log].status)
    assert.equal("GetInvitationsCount", log[#log].operation)
  end)

  it("serves guardduty in cn-north-1 and securityhub in eusc-de-east-1, where they exist", function()
    local gd = call("guardduty", "cn-north-1", LIST.guardduty)
    assert.equal(200, gd.status)
    assert.equal(INVITER, gd.json.invitations[1].accountId)
    local sh = call("securityhub", "eusc-de-east-1", LIST.securityhub)
    assert.equal(200, sh.status)
    assert.equal(INVITER, sh.json.Invitations[1].AccountId)
    assert.equal(200, call("macie2", "us-east-1").status)
  end)

  it("answers 404 for every service in a region invite does not know (us-east-7)", function()
    for _, service in ipairs{ "macie2", "securityhub", "guardduty" } do
      local res = call(service, "us-east-7")
      assert.equal(404, res.status, service)
      local msg, code = message_of(service, res)
      assert.equal("UnknownEndpoint", code)
      assert.equal("invite sim: " .. service .. " does not exist in us-east-7 (no endpoint " .. service
        .. ".us-east-7.amazonaws.com)", msg)
    end
  end)

  it("is one answer to the client, not retried: code UnknownEndpoint, status 404", function()
    local before = #s:requests()
    local c = invite.macie2.client{ region = "cn-north-1", endpoint = s.endpoint,
      credentials = { access_key_id = KEY.id, secret_access_key = KEY.secret }, sleep = function() end }
    local res, err = c:get_invitations_count{}
    assert.is_nil(res)
    assert.equal("UnknownEndpoint", err.code)
    assert.equal(404, err.status)
    assert.matches("macie2 does not exist in cn%-north%-1", tostring(err))
    assert.equal(before + 1, #s:requests())
  end)
end)

describe("invite sim: fixtures name only regions where the service exists", function()
  local function problems(fx)
    local out, err = fixtures.validate(fx, "f.json")
    assert.is_nil(out)
    return err
  end

  it("accepts the example fixture, and eusc-de-east-1 as a region", function()
    assert.truthy(fixtures.load(sim.FIXTURE))
    assert.truthy(fixtures.validate(fixture(), "f.json"))
  end)

  it("refuses macie2 in ap-south-2 and cn-north-1, and any service in us-east-7, naming the field", function()
    local fx = fixture()
    local function inv(service, region)
      return { service = service, region = region, account = ME, inviter = INVITER, id = service .. region,
               invited_at = "now" }
    end
    fx.invitations = { inv("macie2", "ap-south-2"), inv("macie2", "cn-north-1"), inv("guardduty", "us-east-7") }
    fx.administrators = { { service = "macie2", region = "me-central-1", account = ME, administrator = INVITER } }
    fx.detectors = { { account = ME, region = "us-east-7", id = "d1" } }
    fx.disabled = { { service = "macie2", region = "eusc-de-east-1", account = ME } }
    local err = problems(fx)
    local B = regions.BOTOCORE
    for _, want in ipairs{
      "f.json: invitations[0].region: macie2 does not exist in ap-south-2 (it has 22 regions in partition aws, "
        .. "botocore " .. B .. "); the simulator answers 404 UnknownEndpoint there",
      "f.json: invitations[1].region: macie2 does not exist in cn-north-1 (it has 0 regions in partition aws-cn",
      "f.json: invitations[2].region: is not a region invite knows (its region table is from botocore " .. B
        .. "); the simulator answers no service there",
      "f.json: administrators[0].region: macie2 does not exist in me-central-1",
      "f.json: detectors[0].region: is not a region invite knows",
      "f.json: disabled[0].region: macie2 does not exist in eusc-de-east-1",
    } do
      assert.truthy(err:find(want, 1, true), "missing: " .. want .. "\n" .. err)
    end
  end)
end)
