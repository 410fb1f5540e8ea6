-- invite sim: the regions an account may use (invite.sim.regions). An opt-in region the calling
-- account has not enabled (fixture `enabled_regions`) refuses every service the way AWS's front
-- door there refuses unknown credentials, in the service's own style; enabled and default regions
-- are served. Also the Account and EC2 answers on the wire (signed raw requests), `denied`, and
-- the fixture rules of both keys.
local cjson = require "cjson.safe"
local sim = require "support.sim"
local fixtures = require "invite.sim.fixtures"
local percent_encode = require("invite.util").percent_encode

local OPTIN, PLAIN, ROLE = "111111111111", "222222222222", "333333333333"
local KEYS = {
  optin = { access_key_id = "AKIASIMREGIONSOPT001", secret_access_key = "sim/regions/optin/FAKE" },
  plain = { access_key_id = "AKIASIMREGIONSPLN001", secret_access_key = "sim/regions/plain/FAKE" },
}

local FIXTURE = {
  accounts = {
    { id = OPTIN, name = "optin", enabled_regions = { "af-south-1", "me-south-1" },
      access_keys = { { id = KEYS.optin.access_key_id, secret = KEYS.optin.secret_access_key } } },
    { id = PLAIN, name = "plain", denied = { "account:ListRegions" },
      access_keys = { { id = KEYS.plain.access_key_id, secret = KEYS.plain.secret_access_key } } },
    -- a role account with af-south-1 enabled, assumable by plain
    { id = ROLE, name = "role", enabled_regions = { "af-south-1" },
      roles = { { name = "InviteManager", trusted_accounts = { PLAIN } } } },
  },
  detectors = {
    { account = OPTIN, region = "af-south-1", id = "det-optin-af" },
    { account = PLAIN, region = "af-south-1", id = "det-plain-af" },
  },
  invitations = {
    { service = "guardduty", region = "af-south-1", account = OPTIN, inviter = "999999999999", id = "gd-af-1",
      invited_at = "now-1d" },
    { service = "guardduty", region = "af-south-1", account = PLAIN, inviter = "999999999999", id = "gd-af-2",
      invited_at = "now-1d" },
    { service = "macie2", region = "me-south-1", account = PLAIN, inviter = "999999999999", id = "mc-me-2",
      invited_at = "now-1d" },
  },
}

local function form(pairs_list)
  local parts = {}
  for _, kv in ipairs(pairs_list) do parts[#parts + 1] = percent_encode(kv[1]) .. "=" .. percent_encode(kv[2]) end
  return table.concat(parts, "&")
end

local function query_call(s, service, region, creds, params)
  return assert(s:call{ service = service, region = region, creds = creds, method = "POST", path = "/",
    body = form(params), content_type = "application/x-www-form-urlencoded; charset=utf-8" })
end

local function xml_value(body, tag)
  return body:match("<" .. tag .. ">(.-)</" .. tag .. ">")
end

local function code_of(res)
  return (res.headers["x-amzn-errortype"] or ""):match("^[^:]*")
end

describe("invite sim: opt-in regions the account has not enabled", function()
  local s
  setup(function() s = sim.start{ fixtures = FIXTURE } end)
  teardown(function() if s then s:stop() end end)

  it("refuses a GuardDuty call there with 403 UnrecognizedClientException, and changes nothing", function()
    s:clear_requests()
    local r = assert(s:call{ service = "guardduty", region = "af-south-1", creds = KEYS.plain, method = "POST",
      path = "/invitation/decline", body = cjson.encode{ accountIds = { "999999999999" } } })
    assert.equal(403, r.status)
    assert.equal("UnrecognizedClientException", code_of(r))
    assert.same({ message = "The security token included in the request is invalid." }, r.json)
    local log = s:requests()
    assert.same({ "guardduty", "DeclineInvitations", "af-south-1", PLAIN, 403, "UnrecognizedClientException" },
      { log[1].service, log[1].operation, log[1].region, log[1].account, log[1].status, log[1].error })
    for _, inv in ipairs(s:state().invitations) do
      if inv.id == "gd-af-2" then assert.equal("Invited", inv.status) end
    end
  end)

  it("serves the same call for an account that enabled the region", function()
    local r = assert(s:call{ service = "guardduty", region = "af-south-1", creds = KEYS.optin,
      path = "/invitation" })
    assert.equal(200, r.status)
    assert.equal("999999999999", r.json.invitations[1].accountId)
    assert.equal(200, assert(s:call{ service = "guardduty", region = "af-south-1", creds = KEYS.optin,
      path = "/invitation/count" }).status)
  end)

  it("serves regions enabled by default to every account", function()
    for _, region in ipairs{ "us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1" } do
      assert.equal(200, assert(s:call{ service = "guardduty", region = region, creds = KEYS.plain,
        path = "/invitation/count" }).status, region)
    end
  end)

  it("answers in each service's style: Macie's header suffix, STS InvalidClientTokenId, EC2 AuthFailure", function()
    local m = assert(s:call{ service = "macie2", region = "me-south-1", creds = KEYS.plain, path = "/invitations" })
    assert.equal(403, m.status)
    assert.equal("UnrecognizedClientException", code_of(m))
    assert.equal(200, assert(s:call{ service = "macie2", region = "me-south-1", creds = KEYS.optin,
      path = "/invitations" }).status)
    local st = query_call(s, "sts", "af-south-1", KEYS.plain, { { "Action", "GetCallerIdentity" },
      { "Version", "2011-06-15" } })
    assert.equal(403, st.status)
    assert.equal("InvalidClientTokenId", xml_value(st.body, "Code"))
    assert.equal("The security token included in the request is invalid.", xml_value(st.body, "Message"))
    local e = query_call(s, "ec2", "me-south-1", KEYS.plain, { { "Action", "DescribeRegions" },
      { "Version", "2016-11-15" } })
    assert.equal(401, e.status)
    assert.equal("AuthFailure", xml_value(e.body, "Code"))
    assert.truthy(e.body:find("<Response><Errors><Error>", 1, true))
    assert.equal(200, query_call(s, "ec2", "me-south-1", KEYS.optin, { { "Action", "DescribeRegions" } }).status)
  end)

  it("judges assumed-role credentials by the role's account", function()
    local r = query_call(s, "sts", "us-east-1", KEYS.plain, { { "Action", "AssumeRole" }, { "Version", "2011-06-15" },
      { "RoleArn", "arn:aws:iam::" .. ROLE .. ":role/InviteManager" }, { "RoleSessionName", "regions" } })
    assert.equal(200, r.status)
    local creds = { access_key_id = xml_value(r.body, "AccessKeyId"),
      secret_access_key = xml_value(r.body, "SecretAccessKey"), session_token = xml_value(r.body, "SessionToken") }
    assert.equal(200, assert(s:call{ service = "guardduty", region = "af-south-1", creds = creds,
      path = "/invitation/count" }).status)
    assert.equal(403, assert(s:call{ service = "guardduty", region = "me-south-1", creds = creds,
      path = "/invitation/count" }).status)
  end)
end)

describe("invite sim: Account and EC2 on the wire", function()
  local s
  setup(function() s = sim.start{ fixtures = FIXTURE } end)
  teardown(function() if s then s:stop() end end)

  local function list_regions(creds, body)
    return assert(s:call{ service = "account", region = "us-east-1", creds = creds, method = "POST",
      path = "/listRegions", body = body and cjson.encode(body) or "" })
  end

  it("ListRegions: every region of the partition with the account's status, 20 a page by default", function()
    local r = list_regions(KEYS.optin)
    assert.equal(200, r.status)
    assert.equal("application/json", r.headers["content-type"])
    assert.equal(20, #r.json.Regions)
    assert.is_string(r.json.NextToken)
    local r2 = list_regions(KEYS.optin, { NextToken = r.json.NextToken })
    assert.equal(14, #r2.json.Regions)
    assert.is_nil(r2.json.NextToken)
    local status = {}
    for _, x in ipairs(r.json.Regions) do status[x.RegionName] = x.RegionOptStatus end
    for _, x in ipairs(r2.json.Regions) do status[x.RegionName] = x.RegionOptStatus end
    assert.same({ "ENABLED", "ENABLED", "DISABLED", "ENABLED_BY_DEFAULT" },
      { status["af-south-1"], status["me-south-1"], status["ap-east-1"], status["us-east-1"] })
  end)

  it("ListRegions: RegionOptStatusContains filters, MaxResults 1-50, a foreign token is refused", function()
    local r = list_regions(KEYS.optin, { RegionOptStatusContains = { "ENABLED" }, MaxResults = 50 })
    local names = {}
    for _, x in ipairs(r.json.Regions) do names[#names + 1] = x.RegionName end
    assert.same({ "af-south-1", "me-south-1" }, names)
    local bad = list_regions(KEYS.optin, { MaxResults = 51 })
    assert.equal(400, bad.status)
    assert.equal("ValidationException", code_of(bad))
    assert.equal("fieldValidationFailed", bad.json.reason)
    assert.equal("MaxResults", bad.json.fieldList[1].name)
    assert.equal(400, list_regions(KEYS.optin, { RegionOptStatusContains = { "enabled" } }).status)
    local first = list_regions(KEYS.optin, { MaxResults = 2 })
    -- another account's token
    local other = list_regions(KEYS.plain, { NextToken = first.json.NextToken })
    assert.equal(403, other.status) -- plain is denied ListRegions before anything else
    local forged = list_regions(KEYS.optin, { NextToken = "bm90IGEgdG9rZW4=" })
    assert.equal(400, forged.status)
    assert.equal("NextToken", forged.json.fieldList[1].name)
  end)

  it("ListRegions denied by the fixture: 403 AccessDeniedException; GetRegionOptStatus is not", function()
    local r = list_regions(KEYS.plain)
    assert.equal(403, r.status)
    assert.equal("AccessDeniedException", code_of(r))
    assert.matches("not authorized to perform: account:ListRegions", r.json.message, 1, true)
    local g = assert(s:call{ service = "account", region = "us-east-1", creds = KEYS.plain, method = "POST",
      path = "/getRegionOptStatus", body = cjson.encode{ RegionName = "af-south-1" } })
    assert.equal(200, g.status)
    assert.same({ RegionName = "af-south-1", RegionOptStatus = "DISABLED" }, g.json)
    local other = list_regions(KEYS.optin, { AccountId = PLAIN })
    assert.equal(403, other.status)
    assert.equal(400, list_regions(KEYS.optin, { AccountId = "12345" }).status)
  end)

  it("DescribeRegions: enabled regions, all of them with AllRegions, filters, DryRun, wrong values", function()
    local r = query_call(s, "ec2", "us-east-1", KEYS.optin, { { "Action", "DescribeRegions" },
      { "Version", "2016-11-15" } })
    assert.equal(200, r.status)
    assert.truthy(r.body:find('<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">', 1, true))
    assert.is_string(xml_value(r.body, "requestId"))
    local n = select(2, r.body:gsub("<item>", ""))
    assert.equal(19, n) -- 17 regions enabled by default + af-south-1 + me-south-1
    assert.truthy(r.body:find("<regionName>af%-south%-1</regionName>%s*<regionEndpoint>"
      .. "ec2%.af%-south%-1%.amazonaws%.com</regionEndpoint>%s*<optInStatus>opted%-in</optInStatus>"))
    local all = query_call(s, "ec2", "us-east-1", KEYS.plain, { { "Action", "DescribeRegions" },
      { "AllRegions", "true" } })
    assert.equal(34, select(2, all.body:gsub("<item>", "")))
    assert.truthy(all.body:find("<regionName>af%-south%-1</regionName>.-<optInStatus>not%-opted%-in</optInStatus>"))
    local f = query_call(s, "ec2", "us-east-1", KEYS.plain, { { "Action", "DescribeRegions" }, { "AllRegions", "true" },
      { "Filter.1.Name", "opt-in-status" }, { "Filter.1.Value.1", "not-opted-in" },
      { "Filter.2.Name", "region-name" }, { "Filter.2.Value.1", "ap-*" }, { "Filter.2.Value.2", "me-south-?" } })
    local names = {}
    for name in f.body:gmatch("<regionName>(.-)</regionName>") do names[#names + 1] = name end
    assert.same({ "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
      "ap-southeast-6", "ap-southeast-7", "me-south-1" }, names)
    local one = query_call(s, "ec2", "us-east-1", KEYS.plain, { { "Action", "DescribeRegions" },
      { "RegionName.1", "eu-west-1" } })
    assert.same({ "eu-west-1" }, { one.body:match("<regionName>(.-)</regionName>") })
    local dry = query_call(s, "ec2", "us-east-1", KEYS.plain, { { "Action", "DescribeRegions" }, { "DryRun", "true" } })
    assert.same({ 412, "DryRunOperation" }, { dry.status, xml_value(dry.body, "Code") })
    local bad = query_call(s, "ec2", "us-east-1", KEYS.plain, { { "Action", "DescribeRegions" },
      { "Filter.1.Name", "colour" }, { "Filter.1.Value.1", "x" } })
    assert.same({ 400, "InvalidParameterValue" }, { bad.status, xml_value(bad.body, "Code") })
    assert.is_string(xml_value(bad.body, "RequestID"))
    local unknown = query_call(s, "ec2", "us-east-1", KEYS.plain, { { "Action", "DescribeRegions" },
      { "RegionName.1", "xx-nowhere-1" } })
    assert.same({ 400, "InvalidParameterValue" }, { unknown.status, xml_value(unknown.body, "Code") })
    local action = query_call(s, "ec2", "us-east-1", KEYS.plain, { { "Action", "DescribeInstances" } })
    assert.same({ 400, "InvalidAction" }, { action.status, xml_value(action.body, "Code") })
  end)

  it("EC2 throttling is 503 RequestLimitExceeded, the Account API's 429 TooManyRequestsException", function()
    s:set_faults("first 1 ec2 throttle; first 1 account throttle")
    local e = query_call(s, "ec2", "us-east-1", KEYS.optin, { { "Action", "DescribeRegions" } })
    assert.same({ 503, "RequestLimitExceeded" }, { e.status, xml_value(e.body, "Code") })
    local a = list_regions(KEYS.optin)
    assert.same({ 429, "TooManyRequestsException" }, { a.status, code_of(a) })
    s:set_faults("")
  end)
end)

describe("invite sim fixtures: enabled_regions and denied", function()
  local function problems(account)
    account.id = account.id or "111111111111"
    local fx, err = fixtures.validate({ accounts = { account } }, "fx")
    assert.is_nil(fx)
    return err
  end

  it("keeps both as sets on the account", function()
    local fx = assert(fixtures.validate({ accounts = { { id = OPTIN, enabled_regions = { "il-central-1" },
      denied = { "ec2:DescribeRegions", "account:ListRegions" } } } }, "fx"))
    assert.same({ ["il-central-1"] = true }, fx.accounts[OPTIN].enabled_regions)
    assert.same({ ["ec2:DescribeRegions"] = true, ["account:ListRegions"] = true }, fx.accounts[OPTIN].denied)
  end)

  it("names the field and the rule", function()
    assert.matches("fx: accounts[0].enabled_regions[0]: must be an opt-in region (af-south-1, ap-east-1, ",
      problems{ enabled_regions = { "us-east-1" } }, 1, true)
    assert.matches("the others are enabled by default", problems{ enabled_regions = { "us-east-1" } }, 1, true)
    assert.matches("accounts[0].enabled_regions[1]: duplicate region af-south-1",
      problems{ enabled_regions = { "af-south-1", "af-south-1" } }, 1, true)
    assert.matches("accounts[0].enabled_regions[0]: must be a region name like us-east-1",
      problems{ enabled_regions = { "Mars" } }, 1, true)
    assert.matches("accounts[0].enabled_regions: must be an array", problems{ enabled_regions = "af-south-1" }, 1, true)
    assert.matches("accounts[0].denied[0]: must be an operation the simulator can deny "
      .. "(account:GetRegionOptStatus, account:ListRegions, ec2:DescribeRegions)",
      problems{ denied = { "guardduty:ListInvitations" } }, 1, true)
  end)
end)
