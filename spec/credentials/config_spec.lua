-- invite.config: shared-file parser, profile/region/endpoint/settings resolution.
local envh = require "support.env"
local ini = require "invite.config.ini"
local config = require "invite.config"

describe("invite.config.ini", function()
  it("reads sections, keys, comments and both delimiters", function()
    local r = assert(ini.parse(table.concat({
      "# comment",
      "; another",
      "[default]",
      "Region = us-east-1",
      "output: json",
      "  # indented comment",
      "",
      "[profile  dev ]",
      "role_arn=arn:aws:iam::111122223333:role/x",
      "empty =",
    }, "\n"), "cfg"))
    assert.same({ "default", "profile  dev" }, r.order)
    assert.same({ region = "us-east-1", output = "json" }, r.sections.default)
    assert.same({ role_arn = "arn:aws:iam::111122223333:role/x", empty = "" }, r.sections["profile  dev"])
    assert.equal(8, r.lines["profile  dev"])
  end)

  it("keeps what looks like an inline comment (botocore has none)", function()
    local r = assert(ini.parse("[default]\nregion = us-east-1 # x\n", "f"))
    assert.equal("us-east-1 # x", r.sections.default.region)
  end)

  it("parses indented sub-sections and multi-line values", function()
    local r = assert(ini.parse(table.concat({
      "[services local]",
      "guardduty =",
      "  endpoint_url = http://127.0.0.1:4566",
      "",
      "  Other_Key = v",
      "macie2 =",
      "  endpoint_url = http://localhost:1",
      "[x]",
      "note = first",
      "   second",
    }, "\r\n"), "f"))
    assert.same({ endpoint_url = "http://127.0.0.1:4566", Other_Key = "v" },
      r.sections["services local"].guardduty)
    assert.same({ endpoint_url = "http://localhost:1" }, r.sections["services local"].macie2)
    assert.equal("first\nsecond", r.sections.x.note)
  end)

  it("accepts a byte-order mark and a comment after a header", function()
    local r = assert(ini.parse("\239\187\191[default] ; main\nregion=eu-west-1", "f"))
    assert.equal("eu-west-1", r.sections.default.region)
  end)

  local bad = {
    { "[default\nregion = x", "f:1: section header is missing its closing ']'" },
    { "region = x\n[default]", "f:1: a `key = value` line appears before any [section]" },
    { "[a]\nx = 1\n[a]\n", "f:3: this section already appeared on line 1" },
    { "[a]\nx = 1\nX = 2\n", "f:3: this key is already set on line 2, in the same section" },
    -- no text of the file in a message: a token pasted where no key belongs stays out of it
    { "Tok3nSECRET/x+y==\n[a]\n", "f:1: a `key = value` line appears before any [section]" },
    { "[a]\nTok3nSECRET==\nTok3nSECRET==\n", "f:3: this key is already set on line 2, in the same section" },
    { "Tok3nSECRET:more\n", "f:1: a `key = value` line appears before any [section]" },
    { "[Tok3nSECRET]\n[Tok3nSECRET]\n", "f:2: this section already appeared on line 1" },
    { "[Tok3nSECRET\n", "f:1: section header is missing its closing ']'" },
    { "[a] Tok3nSECRET\n", "f:1: unexpected text after the section header" },
    { "[a]\nTok3nSECRET\n", "f:2: expected `key = value`, a [section] or a comment" },
    { "[a]\ns3 =\n  Tok3nSECRET\n", "f:3: expected `key = value` in the indented block" },
    { "[a]\njust words\n", "f:2: expected `key = value`, a [section] or a comment" },
    { "[a] b\n", "f:1: unexpected text after the section header" },
    { "[a]\ns3 =\n  nothing here\n", "f:3: expected `key = value` in the indented block" },
    { "[a]\n= 1\n", "f:2: empty key" },
    { "[ ]\n", "f:1: empty section name" },
  }
  for _, case in ipairs(bad) do
    it("names file and line: " .. case[2], function()
      assert.same({ nil, case[2] }, { ini.parse(case[1], "f") })
    end)
  end

  it("splits profile headers", function()
    assert.same({ "profile", "dev" }, { ini.split_header("profile dev") })
    assert.same({ "profile", "a b" }, { ini.split_header('profile "a b"') })
    assert.is_nil(ini.split_header("profiledev"))
    assert.is_nil(ini.split_header("profile a b"))
  end)
end)

describe("invite.config", function()
  local e
  before_each(function() e = envh.new() end)
  after_each(function() envh.cleanup() end)

  describe("profile and files", function()
    it("takes the client option, then AWS_DEFAULT_PROFILE, then AWS_PROFILE, then default", function()
      assert.equal("default", config.profile{ env = e.vars })
      e:set("AWS_PROFILE", "p")
      assert.equal("p", config.profile{ env = e.vars })
      e:set("AWS_DEFAULT_PROFILE", "d")   -- botocore's order: this one first
      assert.equal("d", config.profile{ env = e.vars })
      assert.equal("c", config.profile{ env = e.vars, profile = "c" })
    end)

    it("finds the files under HOME or where the variables say, expanding ~ and $VARS", function()
      assert.equal(e.home .. "/.aws/config", config.config_file{ env = e.vars })
      assert.equal(e.home .. "/.aws/credentials", config.credentials_file{ env = e.vars })
      e:set("AWS_CONFIG_FILE", "~/other/config"):set("AWS_SHARED_CREDENTIALS_FILE", "$HOME/c")
      assert.equal(e.home .. "/other/config", config.config_file{ env = e.vars })
      assert.equal(e.home .. "/c", config.credentials_file{ env = e.vars })
      assert.equal("/x/h/.aws/config", config.config_file{ env = e.vars, home = "/x/h", config_file = "~/.aws/config" })
    end)

    it("merges credentials-file keys over config-file keys per profile", function()
      e:write(".aws/config", "[default]\nregion = us-west-2\naws_access_key_id = CFG\n"
        .. "[profile a]\nregion = eu-west-1\n")
      e:write(".aws/credentials", "[default]\naws_access_key_id = CRED\naws_secret_access_key = s\n"
        .. "[b]\naws_access_key_id = B\n")
      local s = assert(config.load{ env = e.vars })
      assert.same({ region = "us-west-2", aws_access_key_id = "CRED", aws_secret_access_key = "s" },
        s.profiles.default)
      assert.same({ region = "eu-west-1" }, s.profiles.a)
      assert.same({ aws_access_key_id = "B" }, s.profiles.b)
      assert.same({ region = "us-west-2", aws_access_key_id = "CFG" }, s.config_profiles.default)
    end)

    it("prefers [profile default] over [default] in the config file", function()
      e:write(".aws/config", "[profile default]\nregion = ap-south-1\n[default]\nregion = us-east-1\n")
      assert.equal("ap-south-1", (config.region{ env = e.vars }))
    end)

    it("reports a broken file with its path and line", function()
      e:write(".aws/config", "[default]\nregion us-east-1\n")
      local s, err = config.load{ env = e.vars }
      assert.is_nil(s)
      assert.equal("InvalidConfiguration", err.code)
      assert.equal(e.home .. "/.aws/config:2: expected `key = value`, a [section] or a comment", err.message)
      assert.matches("^InvalidConfiguration", tostring(err))
    end)

    it("treats missing files as empty, but a missing named profile as an error", function()
      assert.same({}, (config.profile_config{ env = e.vars }))
      local p, err = config.profile_config{ env = e.vars, profile = "nope" }
      assert.is_nil(p)
      assert.equal("ProfileNotFound", err.code)
      assert.matches("the config profile %(nope%) could not be found", err.message)
    end)
  end)

  describe("region", function()
    it("takes client option, AWS_REGION, AWS_DEFAULT_REGION, then the profile", function()
      e:write(".aws/config", "[default]\nregion = ca-central-1\n[profile x]\nregion = sa-east-1\n")
      assert.same({ "ca-central-1", "profile default key region" }, { config.region{ env = e.vars } })
      assert.equal("sa-east-1", (config.region{ env = e.vars, profile = "x" }))
      e:set("AWS_DEFAULT_REGION", "eu-north-1")
      assert.same({ "eu-north-1", "AWS_DEFAULT_REGION" }, { config.region{ env = e.vars } })
      e:set("AWS_REGION", "eu-west-3")
      assert.same({ "eu-west-3", "AWS_REGION" }, { config.region{ env = e.vars } })
      assert.same({ "us-east-2", "client option" }, { config.region{ env = e.vars, region = "us-east-2" } })
      e:set("AWS_REGION", "")   -- empty counts as unset
      assert.equal("eu-north-1", (config.region{ env = e.vars }))
    end)

    it("gives a clear error when none is configured", function()
      local r, err = config.region{ env = e.vars }
      assert.is_nil(r)
      assert.equal("NoRegion", err.code)
      assert.equal("NoRegion: no AWS region configured: set the client option region, AWS_REGION, "
        .. "AWS_DEFAULT_REGION, or `region` in profile default of " .. e.home .. "/.aws/config", tostring(err))
    end)

    it("refuses a region that is not a DNS label", function()
      local r, err = config.region{ env = e.vars, region = "us-east-1.evil.com/" }
      assert.is_nil(r)
      assert.matches("invalid region", err.message)
    end)
  end)

  describe("endpoint", function()
    it("defaults to https://{service}.{region}.amazonaws.com and .com.cn in China", function()
      assert.same({ "https://guardduty.eu-west-1.amazonaws.com", "default" },
        { config.endpoint("guardduty", "eu-west-1", { env = e.vars }) })
      assert.equal("https://macie2.cn-north-1.amazonaws.com.cn",
        (config.endpoint("macie2", "cn-north-1", { env = e.vars })))
      assert.equal("https://securityhub.us-gov-west-1.amazonaws.com",
        (config.endpoint("securityhub", "us-gov-west-1", { env = e.vars })))
      assert.equal("https://sts.us-iso-east-1.c2s.ic.gov", (config.endpoint("sts", "us-iso-east-1", { env = e.vars })))
    end)

    it("resolves the region itself when given none", function()
      e:set("AWS_REGION", "ap-southeast-2")
      assert.equal("https://guardduty.ap-southeast-2.amazonaws.com",
        (config.endpoint("guardduty", nil, { env = e.vars })))
      e:unset("AWS_REGION")
      local u, err = config.endpoint("guardduty", nil, { env = e.vars })
      assert.is_nil(u)
      assert.equal("NoRegion", err.code)
    end)

    it("uses FIPS endpoints with AWS_USE_FIPS_ENDPOINT", function()
      e:set("AWS_USE_FIPS_ENDPOINT", "true")
      local function ep(s, r) return (config.endpoint(s, r, { env = e.vars })) end
      assert.equal("https://guardduty-fips.us-east-1.amazonaws.com", ep("guardduty", "us-east-1"))
      assert.equal("https://macie2-fips.us-west-2.amazonaws.com", ep("macie2", "us-west-2"))
      assert.equal("https://securityhub-fips.us-gov-east-1.amazonaws.com", ep("securityhub", "us-gov-east-1"))
      -- GuardDuty and STS in GovCloud are FIPS on their plain names (their endpoint rule sets)
      assert.equal("https://guardduty.us-gov-west-1.amazonaws.com", ep("guardduty", "us-gov-west-1"))
      assert.equal("https://sts.us-gov-west-1.amazonaws.com", ep("sts", "us-gov-west-1"))
      assert.equal("https://sts-fips.us-east-2.amazonaws.com", ep("sts", "us-east-2"))
      e:set("AWS_USE_FIPS_ENDPOINT", "yes")
      local u, err = config.endpoint("guardduty", "us-east-1", { env = e.vars })
      assert.is_nil(u)
      assert.matches("use_fips_endpoint", err.message)
    end)

    it("reads use_fips_endpoint and use_dualstack_endpoint from the profile", function()
      e:write(".aws/config", "[default]\nuse_dualstack_endpoint = true\n[profile f]\nuse_fips_endpoint = true\n")
      assert.equal("https://guardduty.eu-west-1.api.aws", (config.endpoint("guardduty", "eu-west-1", { env = e.vars })))
      assert.equal("https://guardduty-fips.us-east-1.amazonaws.com",
        (config.endpoint("guardduty", "us-east-1", { env = e.vars, profile = "f" })))
    end)

    it("uses regional STS endpoints, or the global one in legacy mode and for aws-global", function()
      assert.equal("https://sts.eu-west-1.amazonaws.com", (config.endpoint("sts", "eu-west-1", { env = e.vars })))
      assert.equal("https://sts.amazonaws.com", (config.endpoint("sts", "aws-global", { env = e.vars })))
      e:set("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
      assert.equal("https://sts.amazonaws.com", (config.endpoint("sts", "eu-west-1", { env = e.vars })))
      assert.equal("https://sts.ap-east-1.amazonaws.com", (config.endpoint("sts", "ap-east-1", { env = e.vars })))
      assert.equal("us-east-1", config.signing_region("sts", "eu-west-1", "https://sts.amazonaws.com"))
    end)

    it("takes the configured endpoint in botocore's order", function()
      e:write(".aws/config", table.concat({
        "[default]",
        "endpoint_url = https://profile.example",
        "services = loc",
        "[services loc]",
        "guardduty =",
        "  endpoint_url = https://services.example",
      }, "\n"))
      local function ep(o)
        o = o or {}
        o.env = e.vars
        return { config.endpoint("guardduty", "us-east-1", o) }
      end
      assert.same({ "https://services.example", "[services loc] guardduty.endpoint_url" }, ep())
      assert.same({ "https://profile.example", "profile default endpoint_url" },
        { config.endpoint("macie2", "us-east-1", { env = e.vars }) })
      e:set("AWS_ENDPOINT_URL", "https://global-env.example/")
      assert.same({ "https://global-env.example", "AWS_ENDPOINT_URL" }, ep())
      e:set("AWS_ENDPOINT_URL_GUARDDUTY", "https://svc-env.example")
      assert.same({ "https://svc-env.example", "AWS_ENDPOINT_URL_GUARDDUTY" }, ep())
      assert.same({ "https://opt.example", "client option endpoint_url" }, ep{ endpoint_url = "https://opt.example" })
      e:set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
      assert.same({ "https://guardduty.us-east-1.amazonaws.com", "default" }, ep())
      assert.same({ "https://opt.example", "client option endpoint_url" }, ep{ endpoint_url = "https://opt.example" })
    end)

    it("names a missing services section", function()
      e:write(".aws/config", "[default]\nservices = gone\n")
      local u, err = config.endpoint("guardduty", "us-east-1", { env = e.vars })
      assert.is_nil(u)
      assert.matches('uses the services section "gone", which does not exist', err.message)
    end)

    it("allows plain http only to loopback hosts unless allow_http", function()
      for _, url in ipairs({ "http://127.0.0.1:4566", "http://localhost:1/", "http://[::1]:8080",
                             "http://127.1.2.3" }) do
        assert.truthy(config.endpoint("guardduty", "us-east-1", { env = e.vars, endpoint_url = url }), url)
      end
      e:set("AWS_ENDPOINT_URL", "http://10.0.0.5:4566")
      local u, err = config.endpoint("guardduty", "us-east-1", { env = e.vars })
      assert.is_nil(u)
      assert.equal("InvalidConfiguration", err.code)
      assert.matches("plain http:// to a non%-loopback host", err.message)
      assert.equal("http://10.0.0.5:4566",
        (config.endpoint("guardduty", "us-east-1", { env = e.vars, allow_http = true })))
    end)

    it("rejects URLs that are not http(s) URLs", function()
      for _, url in ipairs({ "ftp://x", "guardduty.example", "https://user@host", "https://", "https://h#f" }) do
        local u, err = config.endpoint("guardduty", "us-east-1", { env = e.vars, endpoint_url = url })
        assert.is_nil(u, url)
        assert.equal("InvalidConfiguration", err.code)
      end
    end)

    it("refuses FIPS together with a custom endpoint (as the endpoint rule sets do)", function()
      e:set("AWS_USE_FIPS_ENDPOINT", "true")
      local u, err = config.endpoint("guardduty", "us-east-1", { env = e.vars, endpoint_url = "https://x.example" })
      assert.is_nil(u)
      assert.matches("FIPS and a custom endpoint", err.message)
    end)

    it("raises on misuse", function()
      assert.has.error(function() config.endpoint(nil, "us-east-1", {}) end)
    end)
  end)

  describe("settings", function()
    it("max_attempts: option, AWS_MAX_ATTEMPTS, profile, default 3", function()
      assert.same({ 3, "default" }, { config.max_attempts{ env = e.vars } })
      e:write(".aws/config", "[default]\nmax_attempts = 7\nretry_mode = adaptive\nca_bundle = ~/ca.pem\n")
      assert.equal(7, (config.max_attempts{ env = e.vars }))
      e:set("AWS_MAX_ATTEMPTS", "5")
      assert.equal(5, (config.max_attempts{ env = e.vars }))
      assert.equal(2, (config.max_attempts{ env = e.vars, max_attempts = 2 }))
      e:set("AWS_MAX_ATTEMPTS", "zero")
      local n, err = config.max_attempts{ env = e.vars }
      assert.is_nil(n)
      assert.matches("AWS_MAX_ATTEMPTS must be a whole number", err.message)
    end)

    it("retry_mode and ca_bundle", function()
      assert.equal("standard", (config.retry_mode{ env = e.vars }))
      assert.is_nil(config.ca_bundle{ env = e.vars })
      e:write(".aws/config", "[default]\nretry_mode = adaptive\nca_bundle = ~/ca.pem\n")
      assert.equal("adaptive", (config.retry_mode{ env = e.vars }))
      assert.equal(e.home .. "/ca.pem", (config.ca_bundle{ env = e.vars }))
      e:set("AWS_RETRY_MODE", "legacy"):set("AWS_CA_BUNDLE", "/etc/ca.pem")
      assert.equal("legacy", (config.retry_mode{ env = e.vars }))
      assert.equal("/etc/ca.pem", (config.ca_bundle{ env = e.vars }))
      e:set("AWS_RETRY_MODE", "eager")
      assert.is_nil((config.retry_mode{ env = e.vars }))
    end)
  end)
end)
