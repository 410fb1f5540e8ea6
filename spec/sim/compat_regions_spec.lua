-- invite sim's Account and EC2 region answers, and its opt-in refusal, against clients nobody here
-- wrote: Debian's boto3 (/usr/bin/python3, botocore 1.29) and AWS CLI v2 (/usr/bin/aws, 2.9.19)
-- call EC2 DescribeRegions; ListRegions is newer than both (botocore added it in 2023), so it runs
-- with the default python3's boto3 when that one has the operation, and is pending otherwise.
local sim = require "support.sim"
local compat = require "support.compat"

local OPTIN, PLAIN, DENIED = "111111111111", "222222222222", "333333333333"
local KEYS = {
  [OPTIN] = { access_key_id = "AKIASIMCOMPATREGOPT1", secret_access_key = "sim/compat/regions/optin/FAKE" },
  [PLAIN] = { access_key_id = "AKIASIMCOMPATREGPLN1", secret_access_key = "sim/compat/regions/plain/FAKE" },
  [DENIED] = { access_key_id = "AKIASIMCOMPATREGDEN1", secret_access_key = "sim/compat/regions/denied/FAKE" },
}

local FIXTURE = { accounts = {
  { id = OPTIN, enabled_regions = { "af-south-1", "mx-central-1" },
    access_keys = { { id = KEYS[OPTIN].access_key_id, secret = KEYS[OPTIN].secret_access_key } } },
  { id = PLAIN, access_keys = { { id = KEYS[PLAIN].access_key_id, secret = KEYS[PLAIN].secret_access_key } } },
  { id = DENIED, denied = { "account:ListRegions", "ec2:DescribeRegions" },
    access_keys = { { id = KEYS[DENIED].access_key_id, secret = KEYS[DENIED].secret_access_key } } },
} }

-- support.compat's drivers with this spec's callers: KEYS[who]; boto3 under the given python.
local function boto3(python, s, who, region, calls) return compat.boto3(s, KEYS[who], region, calls, python) end
local function aws(s, who, region, args) return compat.aws(s, KEYS[who], region, args) end

teardown(function() compat.cleanup() end)

local function names(regions)
  local out = {}
  for _, r in ipairs(regions) do out[#out + 1] = r.RegionName end
  table.sort(out)
  return out
end

local function by_name(regions)
  local t = {}
  for _, r in ipairs(regions) do t[r.RegionName] = r end
  return t
end

describe("invite sim with Debian's boto3 (botocore 1.29): EC2 DescribeRegions", function()
  local s
  setup(function() s = sim.start{ fixtures = FIXTURE } end)
  teardown(function() if s then s:stop() end end)

  it("lists the enabled regions, all of them, filtered ones and named ones", function()
    local r = boto3("/usr/bin/python3", s, OPTIN, "eu-west-1", {
      { service = "ec2", op = "describe_regions" },
      { service = "ec2", op = "describe_regions", params = { AllRegions = true } },
      { service = "ec2", op = "describe_regions", params = { AllRegions = true,
        Filters = { { Name = "opt-in-status", Values = { "opted-in" } } } } },
      { service = "ec2", op = "describe_regions", params = { RegionNames = { "af-south-1", "us-west-2" } } },
      { service = "ec2", op = "describe_regions", params = { DryRun = true } },
    })
    assert.equal(200, r[1].status)
    assert.equal(19, #r[1].result.Regions)
    local af = by_name(r[1].result.Regions)["af-south-1"]
    assert.same({ RegionName = "af-south-1", Endpoint = "ec2.af-south-1.amazonaws.com", OptInStatus = "opted-in" }, af)
    assert.equal("opt-in-not-required", by_name(r[1].result.Regions)["us-east-1"].OptInStatus)
    assert.equal(34, #r[2].result.Regions)
    assert.equal("not-opted-in", by_name(r[2].result.Regions)["ap-east-1"].OptInStatus)
    assert.same({ "af-south-1", "mx-central-1" }, names(r[3].result.Regions))
    assert.same({ "af-south-1", "us-west-2" }, names(r[4].result.Regions))
    assert.same({ 412, "DryRunOperation" }, { r[5].status, r[5].code })
  end)

  it("gets EC2's errors: UnauthorizedOperation, InvalidParameterValue, AuthFailure in a disabled region", function()
    local denied = boto3("/usr/bin/python3", s, DENIED, "us-east-1", { { service = "ec2", op = "describe_regions" } })
    assert.same({ 403, "UnauthorizedOperation" }, { denied[1].status, denied[1].code })
    local r = boto3("/usr/bin/python3", s, PLAIN, "us-east-1", {
      { service = "ec2", op = "describe_regions", params = { RegionNames = { "xx-nowhere-1" } } },
    })
    assert.same({ 400, "InvalidParameterValue" }, { r[1].status, r[1].code })
    local off = boto3("/usr/bin/python3", s, PLAIN, "af-south-1", { { service = "ec2", op = "describe_regions" } })
    assert.same({ 401, "AuthFailure" }, { off[1].status, off[1].code })
  end)

  it("is refused in an opt-in region the account has not enabled, and served where it has", function()
    local plain = boto3("/usr/bin/python3", s, PLAIN, "af-south-1", {
      { service = "guardduty", op = "list_detectors" },
      { service = "sts", op = "get_caller_identity" },
    })
    assert.same({ 403, "UnrecognizedClientException", "The security token included in the request is invalid." },
      { plain[1].status, plain[1].code, plain[1].message })
    assert.same({ 403, "InvalidClientTokenId" }, { plain[2].status, plain[2].code })
    local optin = boto3("/usr/bin/python3", s, OPTIN, "af-south-1",
      { { service = "guardduty", op = "list_detectors" } })
    assert.equal(200, optin[1].status)
  end)
end)

describe("invite sim with Debian's AWS CLI v2 (2.9.19): ec2 describe-regions", function()
  local s
  setup(function() s = sim.start{ fixtures = FIXTURE } end)
  teardown(function() if s then s:stop() end end)

  it("lists, --all-regions, --filters and --region-names", function()
    local r = assert(aws(s, OPTIN, "eu-west-1", "ec2 describe-regions"))
    assert.equal(19, #r.Regions)
    local all = assert(aws(s, PLAIN, "eu-west-1", "ec2 describe-regions --all-regions"))
    assert.equal(34, #all.Regions)
    local f = assert(aws(s, PLAIN, "eu-west-1", "ec2 describe-regions --all-regions "
      .. "--filters Name=opt-in-status,Values=not-opted-in Name=region-name,Values='me-*'"))
    assert.same({ "me-central-1", "me-south-1" }, names(f.Regions))
    local n = assert(aws(s, OPTIN, "eu-west-1", "ec2 describe-regions --region-names mx-central-1 ca-central-1"))
    assert.same({ "ca-central-1", "mx-central-1" }, names(n.Regions))
    assert.equal("opted-in", by_name(n.Regions)["mx-central-1"].OptInStatus)
    assert.equal("ec2.mx-central-1.amazonaws.com", by_name(n.Regions)["mx-central-1"].Endpoint)
  end)

  it("prints EC2's error for a denied caller and exits 254", function()
    local res, err, rc = aws(s, DENIED, "us-east-1", "ec2 describe-regions")
    assert.is_nil(res)
    assert.equal(254, rc)
    assert.matches("(UnauthorizedOperation)", err, 1, true)
  end)

  it("has no account list-regions (older than the operation)", function()
    local res, err = aws(s, OPTIN, "us-east-1", "account list-regions")
    if res then return pending("this AWS CLI has account list-regions; nothing to show here") end
    assert.truthy(err:find("list-regions", 1, true) or err:find("Invalid choice", 1, true), err)
  end)
end)

describe("invite sim with a boto3 that has Account ListRegions", function()
  local s, python, version
  setup(function()
    s = sim.start{ fixtures = FIXTURE }
    python, version = compat.python_with("account", "list_regions")
  end)
  teardown(function() if s then s:stop() end end)

  it("lists every page, filters by status, answers GetRegionOptStatus and AccessDeniedException", function()
    if not python then
      return pending("no python3 here has a boto3 with account list_regions (Debian's botocore 1.29 predates it)")
    end
    local r = boto3(python, s, OPTIN, "eu-west-1", {
      { service = "account", op = "list_regions", paginate = true, page_size = 5 },
      { service = "account", op = "list_regions", params = { RegionOptStatusContains = { "ENABLED" } } },
      { service = "account", op = "list_regions", params = { MaxResults = 50 } },
      { service = "account", op = "get_region_opt_status", params = { RegionName = "ap-east-1" } },
    })
    assert.equal(200, r[1].status, version)
    assert.equal(7, #r[1].result)
    local all = {}
    for _, page in ipairs(r[1].result) do
      for _, x in ipairs(page.Regions) do all[#all + 1] = x end
    end
    assert.equal(34, #all)
    assert.equal("ENABLED_BY_DEFAULT", by_name(all)["us-east-1"].RegionOptStatus)
    assert.equal("DISABLED", by_name(all)["ap-east-1"].RegionOptStatus)
    assert.same({ "af-south-1", "mx-central-1" }, names(r[2].result.Regions))
    assert.equal(34, #r[3].result.Regions)
    assert.is_nil(r[3].result.NextToken)
    assert.same({ RegionName = "ap-east-1", RegionOptStatus = "DISABLED" }, r[4].result)
    local denied = boto3(python, s, DENIED, "us-east-1", { { service = "account", op = "list_regions" } })
    assert.same({ 403, "AccessDeniedException" }, { denied[1].status, denied[1].code })
  end)
end)
