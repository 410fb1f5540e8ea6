-- invite.config.resolve(service, options): everything a client needs, resolved at once - region,
-- endpoint (URL and parts), max_attempts, retry_mode, ca_bundle, verify - each from the option, else
-- the environment, else the profile, else its default; or nil, err naming the field and the rule.
-- Every case runs on a fake environment (support.env: its own HOME, no real variable, no real
-- ~/.aws file), so a developer's AWS_* settings cannot change a result.
local envh = require "support.env"
local config = require "invite.config"
local errors = require "invite.errors"

local e
before_each(function() e = envh.new() end)
after_each(function() envh.cleanup() end)

-- resolve with the fake environment; `o` adds options
local function resolve(service, o)
  local opts = { env = e.vars }
  for k, v in pairs(o or {}) do opts[k] = v end
  return config.resolve(service or "guardduty", opts)
end

local function profile(text) e:write(".aws/config", text) end

-- the err shape every failure has: an invite.errors error, not retryable, naming the service, one line
local function fails(code, text, ...)
  local res, err = resolve(...)
  assert.is_nil(res)
  assert.is_true(errors.is_error(err))
  assert.are.equal(code, err.code, tostring(err))
  assert.is_false(err.retryable)
  assert.is_nil(err.status)
  local line = tostring(err)
  assert.is_nil(line:find("[\r\n]"), "one line")
  assert.truthy(line:find(text, 1, true), ("%q is not in %q"):format(text, line))
  return err
end

describe("config.resolve precedence (option > environment > profile > default)", function()
  it("region: option, AWS_REGION, AWS_DEFAULT_REGION, profile region", function()
    profile("[default]\nregion = ap-south-1\n")
    assert.are.equal("ap-south-1", resolve().region)
    e:set("AWS_DEFAULT_REGION", "sa-east-1")
    assert.are.equal("sa-east-1", resolve().region)
    e:set("AWS_REGION", "eu-west-1")
    assert.are.equal("eu-west-1", resolve().region)
    assert.are.equal("us-west-2", resolve(nil, { region = "us-west-2" }).region)
    -- a named profile is read instead of [default]
    profile("[default]\nregion = ap-south-1\n[profile audit]\nregion = ca-central-1\n")
    e:unset("AWS_REGION"):unset("AWS_DEFAULT_REGION")
    assert.are.equal("ca-central-1", resolve(nil, { profile = "audit" }).region)
    e:set("AWS_PROFILE", "audit")
    assert.are.equal("ca-central-1", resolve().region)
  end)

  it("region: none anywhere is a NoRegionError naming the places looked at", function()
    local err = fails("NoRegionError", "no region for guardduty: no AWS region configured: set the client option "
      .. "region, AWS_REGION, AWS_DEFAULT_REGION, or `region` in profile default of " .. e:path(".aws/config"))
    assert.are.equal("guardduty", err.service)
  end)

  it("region: a global service without one goes to its global endpoint and signs for its region", function()
    local sts = { name = "sts", endpoint_prefix = "sts", global_endpoint = { region = "aws-global",
                  host = "sts.amazonaws.com", signing_region = "us-east-1" } }
    local c = assert(resolve(sts))
    assert.are.equal("aws-global", c.region)
    assert.are.equal("https://sts.amazonaws.com", c.endpoint_url)
    assert.are.equal("us-east-1", c.signing_region)
    c = assert(resolve(sts, { region = "eu-west-1" }))
    assert.are.equal("https://sts.eu-west-1.amazonaws.com", c.endpoint_url)
    assert.are.equal("eu-west-1", c.signing_region)
    -- a broken profile is still that, not "no region, so global"
    fails("ProfileNotFound", "the config profile (nope) could not be found", sts, { profile = "nope" })
  end)

  it("endpoint: option, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, [services], profile, default", function()
    local function url(o) return assert(resolve("guardduty", o)).endpoint_url end
    e:set("AWS_REGION", "eu-west-1")
    assert.are.equal("https://guardduty.eu-west-1.amazonaws.com", url())
    assert.are.equal("https://guardduty.cn-north-1.amazonaws.com.cn", url{ region = "cn-north-1" })
    profile("[default]\nendpoint_url = https://profile.example\nservices = local\n"
      .. "[services local]\nguardduty =\n  endpoint_url = https://services.example\n"
      .. "macie2 =\n  endpoint_url = https://macie.example\n")
    assert.are.equal("https://services.example", url())
    assert.are.equal("https://macie.example", assert(resolve("macie2")).endpoint_url)
    assert.are.equal("https://profile.example", assert(resolve("securityhub")).endpoint_url)
    e:set("AWS_ENDPOINT_URL", "https://global.example")
    assert.are.equal("https://global.example", url())
    e:set("AWS_ENDPOINT_URL_GUARDDUTY", "https://service-env.example")
    assert.are.equal("https://service-env.example", url())
    assert.are.equal("https://global.example", assert(resolve("macie2")).endpoint_url)
    -- the client option, spelt endpoint or endpoint_url (endpoint_url wins when both are given)
    assert.are.equal("http://127.0.0.1:8080", url{ endpoint = "http://127.0.0.1:8080/" })
    assert.are.equal("http://127.0.0.1:9",
      url{ endpoint = "http://127.0.0.1:8080", endpoint_url = "http://127.0.0.1:9" })
    local c = assert(resolve("guardduty", { endpoint = "http://127.0.0.1:8080/" }))
    assert.are.equal("client option endpoint_url", c.endpoint_source)
  end)

  it("endpoint: the parts a client builds requests from", function()
    local function parts(u) return assert(resolve("macie2", { region = "us-east-1", endpoint = u })).endpoint end
    assert.are.same({ scheme = "https", host = "macie2.us-east-1.amazonaws.com", port = 443,
                      authority = "macie2.us-east-1.amazonaws.com", base_path = "",
                      url = "https://macie2.us-east-1.amazonaws.com" }, parts(nil))
    assert.are.same({ scheme = "http", host = "127.0.0.1", port = 4566, authority = "127.0.0.1:4566",
                      base_path = "/prefix/v1", url = "http://127.0.0.1:4566/prefix/v1" },
      parts("http://127.0.0.1:4566/prefix/v1//"))
    assert.are.same({ scheme = "http", host = "[::1]", port = 8080, authority = "[::1]:8080", base_path = "",
                      url = "http://[::1]:8080" }, parts("http://[::1]:8080"))
    -- the scheme's own port is not repeated in the Host header
    local p = parts("https://LocalHost:443/")
    assert.are.equal("localhost", p.authority)
    assert.are.equal(443, p.port)
  end)

  it("max_attempts: option, AWS_MAX_ATTEMPTS, profile max_attempts, 3", function()
    local function n(o) return assert(resolve(nil, o)).max_attempts end
    e:set("AWS_REGION", "us-east-1")
    assert.are.equal(3, n())
    profile("[default]\nmax_attempts = 7\n")
    assert.are.equal(7, n())
    e:set("AWS_MAX_ATTEMPTS", "5")
    assert.are.equal(5, n())
    assert.are.equal(2, n{ max_attempts = 2 })
  end)

  it("retry_mode: option, AWS_RETRY_MODE, profile retry_mode, standard", function()
    local function mode(o) return assert(resolve(nil, o)).retry_mode end
    e:set("AWS_REGION", "us-east-1")
    assert.are.equal("standard", mode())
    profile("[default]\nretry_mode = legacy\n")
    assert.are.equal("legacy", mode())
    e:set("AWS_RETRY_MODE", "adaptive")
    assert.are.equal("adaptive", mode())
    assert.are.equal("standard", mode{ retry_mode = "standard" })
  end)

  it("ca_bundle: option, AWS_CA_BUNDLE, profile ca_bundle (~ expanded), none; verify: the option, else true", function()
    local function tls(o) local c = assert(resolve(nil, o)); return c.ca_bundle, c.verify end
    e:set("AWS_REGION", "us-east-1")
    -- nothing from the real environment (which may well set AWS_CA_BUNDLE)
    assert.are.same({ nil, true }, { tls() })
    profile("[default]\nca_bundle = ~/certs/profile.pem\n")
    assert.are.equal(e.home .. "/certs/profile.pem", (tls()))
    e:set("AWS_CA_BUNDLE", "/etc/env.pem")
    assert.are.equal("/etc/env.pem", (tls()))
    assert.are.same({ "/opt/option.pem", false }, { tls{ ca_bundle = "/opt/option.pem", verify = false } })
    assert.are.same({ "/etc/env.pem", true }, { tls{ verify = true } })
  end)

  it("reads the shared files once for all the settings, or takes them already loaded", function()
    profile("[default]\nregion = eu-north-1\nmax_attempts = 4\n")
    local shared = assert(config.load{ env = e.vars })
    os.remove(e:path(".aws/config"))
    local c = assert(resolve(nil, { shared = shared }))
    assert.are.equal("eu-north-1", c.region)
    assert.are.equal(4, c.max_attempts)
  end)
end)

describe("config.resolve failures: nil, err naming the field and the rule", function()
  it("region", function()
    fails("InvalidRegionError", 'invalid region "US_EAST_1": a region is 2-63 lower-case letters, digits and \'-\', '
      .. "like us-east-1", nil, { region = "US_EAST_1" })
    fails("InvalidRegionError", 'invalid region ""', nil, { region = "" })
    e:set("AWS_REGION", "eu west 1")
    fails("InvalidConfiguration", 'invalid region "eu west 1" from AWS_REGION (expected something like us-east-1)')
  end)

  it("endpoint", function()
    e:set("AWS_REGION", "us-east-1")
    fails("InvalidConfiguration", "client option endpoint must be a URL like https://host, not empty", nil,
      { endpoint = "" })
    fails("InvalidConfiguration", "client option endpoint_url must be a URL like https://host, not empty", nil,
      { endpoint_url = "" })
    fails("InvalidConfiguration", 'endpoint URL "ftp://127.0.0.1:21" from client option endpoint_url is not an '
      .. "http(s)://host[:port][/path] URL", nil, { endpoint = "ftp://127.0.0.1:21" })
    fails("InvalidConfiguration", 'endpoint URL "http://127.0.0.1:99999" from client option endpoint_url: '
      .. "the port must be 1-65535", nil, { endpoint = "http://127.0.0.1:99999" })
    local err = fails("InvalidConfiguration", "endpoint URL from client option endpoint_url must not contain "
      .. "user information (user:password@host)", nil, { endpoint = "http://admin:hunter2@127.0.0.1:1" })
    assert.is_nil(tostring(err):find("hunter2", 1, true))
    fails("InvalidConfiguration", "uses plain http:// to a non-loopback host", nil,
      { endpoint = "http://invite.example" })
    e:set("AWS_ENDPOINT_URL", "localhost")
    fails("InvalidConfiguration", 'endpoint URL "localhost" from AWS_ENDPOINT_URL is not an '
      .. "http(s)://host[:port][/path] URL")
    e:unset("AWS_ENDPOINT_URL"):set("AWS_USE_FIPS_ENDPOINT", "maybe")
    fails("InvalidConfiguration", 'use_fips_endpoint from AWS_USE_FIPS_ENDPOINT: expected true or false, got "maybe"')
  end)

  it("max_attempts and retry_mode", function()
    e:set("AWS_REGION", "us-east-1")
    fails("ConfigError", "max_attempts must be an integer >= 1, got 0", nil, { max_attempts = 0 })
    fails("ConfigError", "max_attempts must be an integer >= 1, got 2.5", nil, { max_attempts = 2.5 })
    e:set("AWS_MAX_ATTEMPTS", "lots")
    fails("ConfigError", 'max_attempts from AWS_MAX_ATTEMPTS must be a whole number >= 1, got "lots"')
    e:unset("AWS_MAX_ATTEMPTS"):set("AWS_RETRY_MODE", "turbo")
    fails("ConfigError", 'retry_mode from AWS_RETRY_MODE must be legacy, standard or adaptive, got "turbo"')
    e:unset("AWS_RETRY_MODE")
    profile("[default]\nretry_mode = fast\n")
    fails("ConfigError", 'retry_mode from profile default key retry_mode must be legacy, standard or adaptive, '
      .. 'got "fast"')
  end)

  it("profiles and shared files", function()
    fails("ProfileNotFound", "the config profile (nope) could not be found in " .. e:path(".aws/config"), nil,
      { profile = "nope" })
    -- every setting given as an option: the missing profile still is an error (botocore raises too)
    fails("ProfileNotFound", "the config profile (nope) could not be found", nil, { profile = "nope",
      region = "us-east-1", endpoint = "http://127.0.0.1:1", max_attempts = 1, retry_mode = "standard" })
    profile("[default\nregion = us-east-1\n")
    fails("InvalidConfiguration", e:path(".aws/config") .. ":1: section header is missing its closing ']'")
  end)

  it("raises on misuse: no service", function()
    assert.has_error(function() config.resolve(nil, {}) end,
      "config.resolve: service must be a service declaration or a non-empty name")
    assert.has_error(function() config.resolve({ name = "x" }, {}) end,
      "config.resolve: service must be a service declaration or a non-empty name")
  end)
end)
