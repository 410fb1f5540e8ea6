-- invite.discover.regions against the simulator: the enabled set per account (the 17 regions of
-- the aws partition enabled by default plus the opt-in regions the fixture's account enabled),
-- from Account ListRegions (every page), with the fallback to EC2 DescribeRegions when ListRegions
-- is denied, throttled beyond the retries or unreachable, and one error naming both when both fail;
-- also concurrently inside scheduler tasks (role sessions of an organisation).
local sim = require "support.sim"
local envh = require "support.env"
local regions = require "invite.discover.regions"
local credentials = require "invite.credentials"
local scheduler = require "invite.scheduler"

local ADMIN, INVITER = "111111111111", "999999999999"
local MEMBERS = { "222222222222", "333333333333", "444444444444", "555555555555",
  "666666666666" }
local KEY = { id = "AKIASIMDISCOVERREG01", secret = "sim/discover/regions/FAKE" }
local ADMIN_CREDS = { access_key_id = KEY.id, secret_access_key = KEY.secret }

-- 17 regions of the aws partition are enabled by default (botocore 1.43.11's 34 less the 17 opt-in)
local DEFAULT = { "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
  "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
  "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2" }

local ENABLED = {
  [ADMIN] = { "af-south-1", "il-central-1" },
  ["222222222222"] = { "me-central-1" },
  ["666666666666"] = require("invite.sim.regions").opt_in_list(), -- all 17
}

local function expected(id)
  local set = {}
  for _, r in ipairs(DEFAULT) do set[r] = true end
  for _, r in ipairs(ENABLED[id] or {}) do set[r] = true end
  return set
end

local function count(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n
end

local function fixture(denied)
  local fx = sim.org_fixture{ admin = ADMIN, key = KEY, inviter = INVITER, members = MEMBERS,
    services = { "guardduty" }, regions = { "us-east-1" }, enabled_regions = ENABLED }
  for _, a in ipairs(fx.accounts) do a.denied = denied and denied[a.id] end
  return fx
end

local e
before_each(function() e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" } end)
after_each(function() envh.cleanup() end)

describe("invite.discover.regions.enabled", function()
  local s
  setup(function()
    s = sim.start{ fixtures = fixture{ ["333333333333"] = { "account:ListRegions" },
      ["444444444444"] = { "account:ListRegions", "ec2:DescribeRegions" } } }
  end)
  teardown(function() if s then s:stop() end end)
  before_each(function() s:clear_requests(); s:set_faults("") end)

  local function opts(o)
    local t = { env = e.vars, endpoint = s.endpoint, credentials = ADMIN_CREDS, sleep = function() end }
    for k, v in pairs(o or {}) do t[k] = v end
    return t
  end

  local function role(id)
    return credentials.assume_role{ role_arn = "arn:aws:iam::" .. id .. ":role/InviteManager",
      role_session_name = "discover-regions", source = credentials.static(ADMIN_CREDS), endpoint = s.endpoint,
      region = "us-east-1", env = e.vars }
  end

  it("reads ListRegions, every page: the default regions and the account's opt-in ones", function()
    local set, source, why = regions.enabled(opts{ region = "eu-west-1" })
    assert.same(expected(ADMIN), set)
    assert.equal(19, count(set))
    assert.equal("account:ListRegions", source)
    assert.is_nil(why)
    assert.is_nil(set["ap-east-1"])
    assert.equal(1, s:count("ListRegions")) -- 19 regions after the filter: one page of 20
    assert.equal(0, s:count("DescribeRegions"))
    local body = s:requests()[1]
    assert.same({ "account", "/listRegions", ADMIN }, { body.service, body.path, body.account })
  end)

  it("walks every page: 34 enabled regions are two pages of ListRegions", function()
    local set, source = regions.enabled(opts{ credentials = role("666666666666") })
    assert.equal("account:ListRegions", source)
    assert.equal(34, count(set))
    assert.same(expected("666666666666"), set)
    assert.equal(2, s:count("ListRegions"))
  end)

  it("tells accounts apart: a role session's account, with and without opt-in regions", function()
    local set = assert(regions.enabled(opts{ credentials = role("222222222222") }))
    assert.same(expected("222222222222"), set)
    assert.is_true(set["me-central-1"])
    local plain = assert(regions.enabled(opts{ credentials = role("555555555555") }))
    assert.same(expected("555555555555"), plain)
    assert.equal(17, count(plain))
  end)

  it("falls back to DescribeRegions in opts.region when ListRegions is denied", function()
    local set, source, why = regions.enabled(opts{ credentials = role("333333333333"), region = "eu-west-2" })
    assert.same(expected("333333333333"), set)
    assert.equal(17, count(set))
    assert.equal("ec2:DescribeRegions", source)
    assert.equal("AccessDeniedException", why.code)
    assert.equal(403, why.status)
    local last
    for _, r in ipairs(s:requests()) do if r.operation == "DescribeRegions" then last = r end end
    assert.same({ "ec2", "eu-west-2", 200 }, { last.service, last.region, last.status })
    assert.equal(1, s:count("ListRegions")) -- AccessDenied is not retried
  end)

  it("asks DescribeRegions in the configured region, else us-east-1", function()
    local who = role("333333333333")
    assert.equal("ec2:DescribeRegions", select(2, regions.enabled(opts{ credentials = who })))
    e:set("AWS_REGION", "ap-south-1")
    assert.equal("ec2:DescribeRegions", select(2, regions.enabled(opts{ credentials = who })))
    local got = {}
    for _, r in ipairs(s:requests()) do if r.operation == "DescribeRegions" then got[#got + 1] = r.region end end
    assert.same({ "us-east-1", "ap-south-1" }, got)
  end)

  it("returns one error naming both when both are denied", function()
    local set, err = regions.enabled(opts{ credentials = role("444444444444") })
    assert.is_nil(set)
    assert.equal("RegionDiscoveryError", err.code)
    assert.equal("AccessDeniedException", err.account_error.code)
    assert.equal("UnauthorizedOperation", err.ec2_error.code)
    local line = tostring(err)
    assert.matches("account ListRegions: AccessDeniedException (HTTP 403)", line, 1, true)
    assert.matches("ec2 DescribeRegions: UnauthorizedOperation (HTTP 403)", line, 1, true)
    assert.is_nil(line:find(KEY.secret, 1, true))
  end)

  it("falls back when ListRegions is throttled beyond the client's retries", function()
    s:set_faults("account throttle")
    local set, source, why = regions.enabled(opts{ max_attempts = 2 })
    assert.same(expected(ADMIN), set)
    assert.equal("ec2:DescribeRegions", source)
    assert.equal("TooManyRequestsException", why.code)
    assert.equal(2, s:count("ListRegions"))
  end)

  it("falls back when the Account API cannot be reached", function()
    local closed = require("socket").bind("127.0.0.1", 0)
    local _, port = closed:getsockname()
    closed:close()
    e:set("AWS_ENDPOINT_URL_ACCOUNT", "http://127.0.0.1:" .. port)
    e:set("AWS_ENDPOINT_URL_EC2", s.endpoint)
    local o = opts{ max_attempts = 1 }
    o.endpoint = nil
    local set, source, why = regions.enabled(o)
    assert.same(expected(ADMIN), set)
    assert.equal("ec2:DescribeRegions", source)
    assert.is_nil(why.status)
    assert.equal(0, s:count("ListRegions"))
  end)

  it("runs concurrently inside scheduler tasks, one set per account", function()
    local ids = { ADMIN, "222222222222", "333333333333" }
    local tasks = {}
    for i, id in ipairs(ids) do
      tasks[i] = function()
        local who = id == ADMIN and ADMIN_CREDS or role(id)
        return regions.enabled(opts{ credentials = who })
      end
    end
    local results = scheduler.run(tasks, { concurrency = 3 })
    for i, id in ipairs(ids) do
      assert.is_true(results[i].ok, tostring(results[i].error))
      assert.same(expected(id), results[i][1], id)
      assert.equal(id == "333333333333" and "ec2:DescribeRegions" or "account:ListRegions", results[i][2])
    end
  end)

  it("refuses options that are not a table, and unknown options, as every client does", function()
    assert.has_error(function() regions.enabled("us-east-1") end,
      "invite.discover.regions.enabled: options must be a table")
    assert.has_error(function() regions.enabled{ regoin = "us-east-1" } end)
  end)
end)
