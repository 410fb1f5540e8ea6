-- The Account (lua/invite/services/account.lua, rest-json) and EC2 (lua/invite/services/ec2.lua,
-- EC2's query dialect) clients: their declarations against botocore's models (the newest botocore
-- a python3 here has), the EC2 dialect against botocore's own EC2 serialiser and parser, the
-- endpoints (Account: one per partition; EC2: regional), and both clients against the simulator:
-- listing, pagination (pages of 5, 20 and 50), validation errors that send nothing, service errors,
-- retries, and the EC2 wire form as the simulator's request log recorded it.
local cjson = require "cjson"
local botocore = require "support.botocore"
local envh = require "support.env"
local sim = require "support.sim"
local invite = require "invite"

local A, B, C = "111111111111", "222222222222", "333333333333"
local KEYS = {
  [A] = { access_key_id = "AKIASIMACCOUNTEC2A01", secret_access_key = "sim/account-ec2/a/FAKE" },
  [B] = { access_key_id = "AKIASIMACCOUNTEC2B01", secret_access_key = "sim/account-ec2/b/FAKE" },
  [C] = { access_key_id = "AKIASIMACCOUNTEC2C01", secret_access_key = "sim/account-ec2/c/FAKE" },
}

local function fixture()
  return { accounts = {
    { id = A, name = "all-opt-in", enabled_regions = require("invite.sim.regions").opt_in_list(),
      access_keys = { { id = KEYS[A].access_key_id, secret = KEYS[A].secret_access_key } } },
    { id = B, name = "one-opt-in", enabled_regions = { "af-south-1" }, denied = { "account:ListRegions" },
      access_keys = { { id = KEYS[B].access_key_id, secret = KEYS[B].secret_access_key } } },
    { id = C, name = "no-ec2", denied = { "ec2:DescribeRegions" },
      access_keys = { { id = KEYS[C].access_key_id, secret = KEYS[C].secret_access_key } } },
  } }
end

local e
before_each(function() e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" } end)
after_each(function() envh.cleanup() end)

local function client(service, o)
  return invite[service].client(sim.with({ env = e.vars, credentials = KEYS[A], sleep = function() end }, o))
end

---------------------------------------------------------------------------------------------------
-- botocore
---------------------------------------------------------------------------------------------------

-- Beyond botocore.compare's checks: enums, account IDs (the model's \d{12}), a list item's wire
-- name and enum.
local CHECKS = {
  member = function(w, m, s, input)
    if not input then return end
    assert.same(s.enum, m.enum, w .. ": enum")
    assert.equal(s.pattern == "\\d{12}", m.account_id == true, w .. ": account ID")
  end,
  item = function(w, item, ms, ref, input)
    assert.equal(ref.locationName, item.wire, w .. ": item wire name")
    if input then assert.same(ms.enum, item.enum, w .. ": enum") end
  end,
}

describe("services/account.lua and services/ec2.lua against botocore's models", function()
  local model = require "invite.model"

  for _, name in ipairs{ "account", "ec2" } do
    it(name .. ": metadata, and every operation's method, URI, input and output member", function()
      local b = botocore.model(name, name == "account" and "ListRegions" or nil)
      if not b then return pending("no python3 with botocore that has account ListRegions") end
      local svc = model.service(name)
      local def = svc.def
      local md = b.model.metadata
      assert.same({ md.protocol, md.endpointPrefix, md.signingName or md.endpointPrefix, md.serviceId, md.apiVersion },
        { def.protocol, def.endpoint_prefix, def.signing_name, def.service_id, def.api_version })
      for _, op in pairs(svc.ops) do botocore.operation(b, op, CHECKS) end
      for key, pag in pairs(def.paginators or {}) do
        local bp = b.paginators[svc.ops[key].name]
        assert.same({ bp.input_token, bp.output_token, bp.limit_key, bp.result_key },
          { pag.input_token, pag.output_token, pag.limit_key, pag.result_key }, key)
      end
    end)
  end

  it("the Account API is global per partition, EC2 regional (dry runs)", function()
    local function where(service, region)
      local r = assert(client(service, { region = region, dry_run = true }):call(
        service == "account" and "list_regions" or "describe_regions", {}))
      return r.url, r.headers[4][2]:match("Credential=[^/]+/%d+/([^/]+)/")
    end
    local global = { "https://account.us-east-1.amazonaws.com/listRegions", "us-east-1" }
    assert.same(global, { where("account", "eu-west-1") })
    assert.same(global, { where("account", "af-south-1") })
    assert.same({ "https://account.cn-northwest-1.amazonaws.com.cn/listRegions", "cn-northwest-1" },
      { where("account", "cn-north-1") })
    assert.same({ "https://ec2.eu-west-1.amazonaws.com/", "eu-west-1" }, { where("ec2", "eu-west-1") })
    assert.same({ "https://ec2.cn-north-1.amazonaws.com.cn/", "cn-north-1" }, { where("ec2", "cn-north-1") })
    e:set("AWS_CONFIG_FILE", "/dev/null")
    local r = assert(client("account", { dry_run = true }):list_regions{})
    assert.equal("https://account.us-east-1.amazonaws.com/listRegions", r.url)
  end)

  it("are client-only services", function()
    local names = {}
    for _, n in ipairs(model.SERVICES) do names[n] = true end
    assert.is_nil(names.account)
    assert.is_nil(names.ec2)
  end)
end)

---------------------------------------------------------------------------------------------------
-- EC2's dialect against botocore's EC2 serialiser and parser
---------------------------------------------------------------------------------------------------

local PY_EC2 = [=[
import json, sys, botocore.session
from botocore import serialize, parsers
jobs = json.load(sys.stdin)
model = botocore.session.get_session().get_service_model("ec2")
op = model.operation_model("DescribeRegions")
out = []
for job in jobs:
    if job["kind"] == "serialize":
        req = serialize.create_serializer("ec2", include_validation=False).serialize_to_request(job["params"], op)
        out.append([[k, str(v)] for k, v in req["body"].items()])
    else:
        res = parsers.ResponseParserFactory().create_parser("ec2").parse({"status_code": job["status"],
            "headers": {}, "body": job["body"].encode("utf-8")}, op.output_shape)
        out.append(res)
print(json.dumps(out))
]=]

local PARAMS = {
  Filters = { { Name = "opt-in-status", Values = { "opted-in", "not-opted-in" } }, { Name = "region-name",
    Values = { "ap-*" } } },
  RegionNames = { "ap-east-1", "ap-south-2" }, DryRun = false, AllRegions = true,
}

local ANSWER = [[<?xml version="1.0" encoding="UTF-8"?>
<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <regionInfo>
    <item><regionName>ap-east-1</regionName><regionEndpoint>ec2.ap-east-1.amazonaws.com</regionEndpoint>
      <optInStatus>opted-in</optInStatus><geographySet><item><name>Asia Pacific</name></item></geographySet></item>
    <item><regionName>ap-south-2</regionName><regionEndpoint>ec2.ap-south-2.amazonaws.com</regionEndpoint>
      <optInStatus>not-opted-in</optInStatus></item>
  </regionInfo>
</DescribeRegionsResponse>]]

local ERROR = [[<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this
operation.</Message></Error></Errors><RequestID>a1b2c3d4-ffff</RequestID></Response>]]

describe("invite.ec2.client against botocore's EC2 serialiser and parser", function()
  local results, version
  setup(function()
    results, version = botocore.first(PY_EC2, cjson.encode{
      { kind = "serialize", params = PARAMS },
      { kind = "parse", status = 200, body = ANSWER },
      { kind = "parse", status = 403, body = ERROR },
    })
  end)

  local function scripted(status, body)
    local log = {}
    return function(req)
      log[#log + 1] = req
      return { status = status, headers = {}, body = body }
    end, log
  end

  it("sends the same form parameters", function()
    if not results then return pending("no python3 with botocore") end
    local transport, log = scripted(200, ANSWER)
    assert.truthy(client("ec2", { region = "us-east-1", transport = transport }):describe_regions(PARAMS))
    local ours, theirs = require("support.wire").form_pairs(log[1].body), results[1]
    local function key(a, b) return a[1] < b[1] end
    table.sort(ours, key)
    table.sort(theirs, key)
    assert.same(theirs, ours, version)
    assert.equal("application/x-www-form-urlencoded; charset=utf-8", require("support.wire").header(log[1],
      "Content-Type"))
  end)

  it("reads the same members, request id and error", function()
    if not results then return pending("no python3 with botocore") end
    local c = client("ec2", { region = "us-east-1", transport = (scripted(200, ANSWER)) })
    local res = assert(c:describe_regions{})
    local theirs = results[2]
    assert.equal(theirs.ResponseMetadata.RequestId, res.ResponseMetadata.RequestId)
    res.ResponseMetadata, theirs.ResponseMetadata = nil, nil
    assert.same(theirs, res)
    local _, err = client("ec2", { region = "us-east-1", transport = (scripted(403, ERROR)) }):describe_regions{}
    assert.same({ results[3].Error.Code, results[3].Error.Message, results[3].ResponseMetadata.RequestId },
      { err.code, err.message, err.request_id })
    assert.same({ 403, "ec2", "DescribeRegions", false }, { err.status, err.service, err.operation, err.retryable })
  end)
end)

---------------------------------------------------------------------------------------------------
-- Against the simulator
---------------------------------------------------------------------------------------------------

describe("invite.account.client and invite.ec2.client against the simulator", function()
  local s
  setup(function() s = sim.start{ fixtures = fixture() } end)
  teardown(function() if s then s:stop() end end)
  before_each(function() s:clear_requests(); s:set_faults("") end)

  local function c(service, o)
    return client(service, sim.with({ endpoint = s.endpoint, region = "us-east-1" }, o))
  end

  local function names(list)
    local out = {}
    for i, r in ipairs(list) do out[i] = r.RegionName end
    return out
  end

  it("list_regions: one page of 50 holds the whole partition; pages of 5 and the default 20 walk it", function()
    local page = assert(c("account"):list_regions{ MaxResults = 50 })
    assert.equal(34, #page.Regions)
    assert.is_nil(page.NextToken)
    assert.same({ RegionName = "af-south-1", RegionOptStatus = "ENABLED" }, page.Regions[1])
    assert.is_string(page.ResponseMetadata.RequestId)
    local first = assert(c("account"):list_regions{ MaxResults = 5 })
    assert.same({ "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2" }, names(first.Regions))
    assert.is_string(first.NextToken)
    local pages, all = 0, {}
    local it = c("account"):paginate("list_regions", { MaxResults = 5 })
    while true do
      local p, err = it()
      if p == nil then break end
      assert.truthy(p, tostring(err))
      pages = pages + 1
      for _, r in ipairs(p.Regions) do all[#all + 1] = r end
    end
    assert.equal(7, pages)
    assert.same(names(page.Regions), names(all))
    s:clear_requests()
    assert.equal(34, #assert(c("account"):list_all_regions{}))
    assert.equal(2, s:count("ListRegions"))
  end)

  it("list_regions filters by status; get_region_opt_status answers one region", function()
    local b = c("account", { credentials = KEYS[B] })
    local defaults = assert(c("account"):list_all_regions{ RegionOptStatusContains = { "ENABLED_BY_DEFAULT" } })
    assert.equal(17, #defaults)
    assert.equal(17, #assert(c("account"):list_all_regions{ RegionOptStatusContains = { "ENABLED" } }))
    assert.same({ RegionName = "me-south-1", RegionOptStatus = "ENABLED" },
      { RegionName = "me-south-1", RegionOptStatus =
        assert(c("account"):get_region_opt_status{ RegionName = "me-south-1" }).RegionOptStatus })
    assert.equal("DISABLED", assert(b:get_region_opt_status{ RegionName = "me-south-1" }).RegionOptStatus)
    assert.equal("ENABLED", assert(b:get_region_opt_status{ RegionName = "af-south-1" }).RegionOptStatus)
  end)

  it("validation errors name the member and send nothing", function()
    local a = c("account")
    local cases = {
      { "list_regions", { MaxResults = 51 }, "MaxResults: must be an integer between 1 and 50, got 51" },
      { "list_regions", { MaxResults = 0 }, "MaxResults: must be an integer between 1 and 50, got 0" },
      { "list_regions", { MaxResults = 2.5 }, "MaxResults" },
      { "list_regions", { RegionOptStatusContains = { "enabled" } },
        'RegionOptStatusContains[1]: must be one of ENABLED, ENABLING, DISABLING, DISABLED, ENABLED_BY_DEFAULT, '
        .. 'got "enabled"' },
      { "list_regions", { AccountId = "1234" }, "AccountId" },
      { "list_regions", { NextToken = ("x"):rep(1001) }, "NextToken" },
      { "list_regions", { MaxResult = 5 }, 'unknown parameter "MaxResult" (did you mean "MaxResults"?)' },
      { "get_region_opt_status", {}, "RegionName" },
      { "get_region_opt_status", { RegionName = ("x"):rep(51) }, "RegionName" },
    }
    for _, k in ipairs(cases) do
      local res, err = a:call(k[1], k[2])
      assert.is_nil(res)
      assert.equal("ValidationError", err.code)
      assert.matches(k[3], err.message, 1, true)
    end
    local ec2 = c("ec2")
    for _, p in ipairs{ { DryRun = "yes" }, { AllRegions = 1 }, { Filters = { { Name = 1 } } },
                        { Filters = { { Name = "x", Values = "y" } } }, { RegionNames = "us-east-1" },
                        { Region = "x" } } do
      local res, err = ec2:describe_regions(p)
      assert.is_nil(res)
      assert.equal("ValidationError", err.code)
    end
    assert.same({}, s:requests())
  end)

  it("describe_regions: the enabled regions, with the EC2 wire form the simulator recorded", function()
    local res = assert(c("ec2", { credentials = KEYS[B], region = "eu-west-1" }):describe_regions{})
    local entry = s:requests()[1]
    assert.same({ "Action=DescribeRegions", "Version=2016-11-15" }, entry.form)
    assert.same({ "ec2", "eu-west-1", "DescribeRegions" }, { entry.service, entry.region, entry.operation })
    assert.equal(entry.id, res.ResponseMetadata.RequestId)
    assert.equal(18, #res.Regions) -- 17 by default and af-south-1
    for _, r in ipairs(res.Regions) do
      if r.RegionName == "af-south-1" then
        assert.same({ RegionName = "af-south-1", Endpoint = "ec2.af-south-1.amazonaws.com",
                      OptInStatus = "opted-in" }, r)
      else
        assert.equal("opt-in-not-required", r.OptInStatus)
      end
    end
  end)

  it("describe_regions: lists go as Filter.1.Name, Filter.1.Value.1, RegionName.1", function()
    s:clear_requests()
    local res = assert(c("ec2", { credentials = KEYS[B] }):describe_regions{
      Filters = { { Name = "opt-in-status", Values = { "not-opted-in", "opted-in" } } },
      RegionNames = { "af-south-1", "ap-east-1", "us-east-1" }, AllRegions = true, DryRun = false })
    assert.same({ "Action=DescribeRegions", "Version=2016-11-15", "Filter.1.Name=opt-in-status",
      "Filter.1.Value.1=not-opted-in", "Filter.1.Value.2=opted-in", "RegionName.1=af-south-1",
      "RegionName.2=ap-east-1", "RegionName.3=us-east-1", "DryRun=false", "AllRegions=true" }, s:requests()[1].form)
    assert.same({ { "af-south-1", "opted-in" }, { "ap-east-1", "not-opted-in" } },
      { { res.Regions[1].RegionName, res.Regions[1].OptInStatus }, { res.Regions[2].RegionName,
        res.Regions[2].OptInStatus } })
    assert.equal(2, #res.Regions)
    -- an empty list is not sent at all (EC2's serialiser leaves it out)
    assert.truthy(c("ec2"):describe_regions{ RegionNames = {} })
    assert.same({ "Action=DescribeRegions", "Version=2016-11-15" }, s:requests()[2].form)
  end)

  it("returns the services' errors: AccessDeniedException, UnauthorizedOperation, DryRunOperation", function()
    local _, err = c("account", { credentials = KEYS[B] }):list_regions{}
    assert.same({ "AccessDeniedException", 403, "account", "ListRegions", false },
      { err.code, err.status, err.service, err.operation, err.retryable })
    assert.is_string(err.request_id)
    local _, e2 = c("ec2", { credentials = KEYS[C] }):describe_regions{}
    assert.same({ "UnauthorizedOperation", 403 }, { e2.code, e2.status })
    assert.equal(s:requests()[2].id, e2.request_id)
    local _, e3 = c("ec2"):describe_regions{ DryRun = true }
    assert.same({ "DryRunOperation", 412 }, { e3.code, e3.status })
    local _, e4 = c("ec2"):describe_regions{ RegionNames = { "xx-nowhere-1" } }
    assert.same({ "InvalidParameterValue", 400 }, { e4.code, e4.status })
    assert.equal(4, #s:requests()) -- none retried
  end)

  it("retries EC2's RequestLimitExceeded (503) and the Account API's TooManyRequestsException (429)", function()
    s:set_faults("first 1 ec2 throttle; first 1 account throttle")
    local r = assert(c("ec2"):describe_regions{})
    assert.equal(1, r.ResponseMetadata.RetryAttempts)
    local a = assert(c("account"):list_regions{ MaxResults = 50 })
    assert.equal(1, a.ResponseMetadata.RetryAttempts)
    local log = s:requests()
    assert.same({ 503, "RequestLimitExceeded", 200, 429, "TooManyRequestsException", 200 },
      { log[1].status, log[1].error, log[2].status, log[3].status, log[3].error, log[4].status })
  end)
end)
