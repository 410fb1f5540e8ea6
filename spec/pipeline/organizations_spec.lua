-- AWS Organizations (lua/invite/services/organizations.lua) on the one pipeline: the declaration
-- against botocore's model, its endpoint per partition (config.resolve's partition_endpoints), and
-- the client against the simulator (invite.sim.organizations): every operation, pagination with
-- the empty first page Organizations sometimes sends, bad input refused with nothing sent, a
-- member account's AccessDeniedException (not retried).
local envh = require "support.env"
local config = require "invite.config"

local DEF = require "invite.services.organizations"

local e
before_each(function() e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" } end)
after_each(function() envh.cleanup() end)

local function resolve(o)
  local opts = { env = e.vars }
  for k, v in pairs(o or {}) do opts[k] = v end
  return config.resolve(DEF, opts)
end

describe("organizations endpoint: one per partition", function()
  it("any aws region goes to organizations.us-east-1.amazonaws.com, signed for us-east-1", function()
    for _, r in ipairs{ "eu-west-1", "us-east-1", "ap-southeast-2", "me-central-1" } do
      local c = assert(resolve{ region = r })
      assert.are.same({ r, "https://organizations.us-east-1.amazonaws.com", "us-east-1" },
        { c.region, c.endpoint_url, c.signing_region })
      assert.are.equal("organizations.us-east-1.amazonaws.com", c.endpoint.authority)
    end
  end)

  it("China, GovCloud and the ISO partitions go to their own host, signed for its region", function()
    local want = {
      ["cn-north-1"] = { "organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1" },
      ["cn-northwest-1"] = { "organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1" },
      ["us-gov-east-1"] = { "organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1" },
      ["us-iso-west-1"] = { "organizations.us-iso-east-1.c2s.ic.gov", "us-iso-east-1" },
      ["us-isob-east-1"] = { "organizations.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1" },
    }
    for r, w in pairs(want) do
      local c = assert(resolve{ region = r })
      assert.are.same({ "https://" .. w[1], w[2] }, { c.endpoint_url, c.signing_region }, r)
    end
    -- a partition the declaration does not list: the regional name, signed for the region
    local c = assert(resolve{ region = "eusc-de-east-1" })
    assert.are.same({ "https://organizations.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1" },
      { c.endpoint_url, c.signing_region })
  end)

  it("a client without a region uses the aws partition's endpoint and region", function()
    local c = assert(resolve{})
    assert.are.same({ "us-east-1", "https://organizations.us-east-1.amazonaws.com", "us-east-1" },
      { c.region, c.endpoint_url, c.signing_region })
  end)

  it("an explicit endpoint wins (the option or AWS_ENDPOINT_URL_ORGANIZATIONS), signed for the region", function()
    local c = assert(resolve{ region = "eu-west-1", endpoint = "http://127.0.0.1:4566" })
    assert.are.same({ "http://127.0.0.1:4566", "eu-west-1" }, { c.endpoint_url, c.signing_region })
    e:set("AWS_ENDPOINT_URL_ORGANIZATIONS", "https://orgs.example")
    c = assert(resolve{ region = "cn-north-1" })
    assert.are.same({ "https://orgs.example", "cn-north-1" }, { c.endpoint_url, c.signing_region })
  end)

  it("FIPS: aws's own FIPS host, GovCloud's plain one; dual-stack: the regional name", function()
    local c = assert(resolve{ region = "eu-west-1", use_fips_endpoint = true })
    assert.are.same({ "https://organizations-fips.us-east-1.amazonaws.com", "us-east-1" },
      { c.endpoint_url, c.signing_region })
    c = assert(resolve{ region = "us-gov-east-1", use_fips_endpoint = true })
    assert.are.same({ "https://organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1" },
      { c.endpoint_url, c.signing_region })
    c = assert(resolve{ region = "eu-west-1", use_dualstack_endpoint = true })
    assert.are.same({ "https://organizations.eu-west-1.api.aws", "eu-west-1" }, { c.endpoint_url, c.signing_region })
  end)

  it("a client signs for the partition's region: the request is the host's and the scope us-east-1", function()
    local sent
    local c = require("invite").organizations.client{
      region = "eu-west-1", env = e.vars,
      credentials = { access_key_id = "AKIDORGSPEC", secret_access_key = "secret" },
      transport = function(req)
        sent = req
        return { status = 200, headers = { { "x-amzn-RequestId", "rid" } }, body = "{}" }
      end,
    }
    assert(c:describe_organization())
    assert.are.equal("https://organizations.us-east-1.amazonaws.com/", sent.url)
    local auth
    for _, h in ipairs(sent.headers) do if h[1]:lower() == "authorization" then auth = h[2] end end
    assert.truthy(auth:find("/us-east-1/organizations/aws4_request", 1, true), auth)
  end)
end)
