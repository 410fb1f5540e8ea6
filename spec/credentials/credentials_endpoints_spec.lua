-- Container (ECS / EKS Pod Identity) and EC2 instance metadata credentials against small loopback
-- servers (spec/support/tiny_server.py) over the real libcurl transport.
local envh = require "support.env"
local tiny = require "support.tiny_server"
local credentials = require "invite.credentials"
local core = require "invite.core"

local SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
local TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
local CREDS = { AccessKeyId = "ASIACONTAINER", SecretAccessKey = SECRET, Token = TOKEN,
                Expiration = "2099-01-01T00:00:00Z" }

local e, servers
before_each(function()
  e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" }
  servers = {}
end)
after_each(function()
  for _, s in ipairs(servers) do s:stop() end
  envh.cleanup()
end)

local function start(cfg)
  local s = tiny.start(cfg)
  servers[#servers + 1] = s
  return s
end

local function no_secret(err)
  local s = tostring(err)
  assert.is_nil(s:find(SECRET, 1, true))
  assert.is_nil(s:find(TOKEN, 1, true))
end

local function nosleep() end

describe("container credentials", function()
  it("fetches AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN", function()
    local s = start{ kind = "container", credentials = CREDS, auth = "Bearer abc" }
    e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", s.url .. "/v1/credentials")
      :set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer abc")
    local p = credentials.container{ env = e.vars }
    assert.same({ true, "ASIACONTAINER", SECRET, TOKEN }, { p:get() })
    assert.equal(4070908800, p:info().expiration)
    local r = s:requests()
    assert.equal(1, #r)
    assert.equal("GET", r[1].method)
    assert.equal("/v1/credentials", r[1].path)
    assert.equal("Bearer abc", r[1].headers.authorization)
    assert.equal("application/json", r[1].headers.accept)
  end)

  it("is the chain's source after the profile and before IMDS", function()
    local s = start{ kind = "container", credentials = CREDS }
    e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", s.url .. "/creds")
    local p = credentials.chain{ env = e.vars }
    assert.equal("ASIACONTAINER", select(2, p:get()))
    assert.equal("container (AWS_CONTAINER_CREDENTIALS_FULL_URI)", p:info().source)
  end)

  it("reads AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE each fetch, before the variable (EKS Pod Identity)", function()
    local s = start{ kind = "container", credentials = CREDS }
    local tf = e:write("token", "eks-token-1\n")
    e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", s.url .. "/v1/credentials")
      :set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tf)
      :set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored")
    local p = credentials.container{ env = e.vars }
    assert.is_true((p:get()))
    envh.write(tf, "eks-token-2")
    assert.is_true((p:refresh()))
    local r = s:requests()
    assert.equal("eks-token-1", r[1].headers.authorization)
    assert.equal("eks-token-2", r[2].headers.authorization)
  end)

  it("uses 169.254.170.2 for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, which wins over FULL_URI", function()
    local s = start{ kind = "container", credentials = CREDS }
    e:set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc")
      :set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/never")
    -- base_url stands in for http://169.254.170.2 in tests
    local p = credentials.container{ env = e.vars, container = { base_url = s.url } }
    assert.is_true((p:get()))
    assert.equal("/v2/credentials/abc", s:requests()[1].path)
    local seen
    local function http(req) seen = req.url; return nil, { kind = "connect", message = "x" } end
    credentials.container{ env = e.vars, http = http,
                           container = { attempts = 1 } }:get()
    assert.equal("http://169.254.170.2/v2/credentials/abc", seen)
  end)

  it("allows FULL_URI over http only to loopback and the ECS/EKS agent addresses", function()
    local asked = 0
    local function http() asked = asked + 1; return nil, { kind = "connect", message = "no" } end
    for _, url in ipairs({ "http://10.0.0.1/creds", "http://169.254.169.254/x", "http://example.com/",
                           "file:///etc/passwd" }) do
      e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)
      local ok, err = credentials.container{ env = e.vars, http = http }:get()
      assert.is_nil(ok)
      assert.equal("InvalidConfiguration", err.code, url)
    end
    assert.equal(0, asked)
    local container = require "invite.credentials.container"
    for _, url in ipairs({ "http://127.0.0.1:8/x", "http://localhost/x", "http://[::1]:80/x", "http://127.9.9.9/",
                           "http://169.254.170.2/x", "http://169.254.170.23/v1/credentials",
                           "http://[fd00:ec2::23]/v1/credentials", "https://creds.example.com/x" }) do
      assert.is_true((container.url_allowed(url)), url)
    end
  end)

  it("refuses a token with a line break (not a legal header value)", function()
    e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/x")
      :set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "abc\r\nX-Evil: 1")
    local ok, err = credentials.container{ env = e.vars, http = function() error("must not be called") end }:get()
    assert.is_nil(ok)
    assert.matches("not a legal header value", err.message)
  end)

  it("retries three times, 1 s apart, then reports the status", function()
    local s = start{ kind = "container", credentials = CREDS, fail_first = 2 }
    e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", s.url .. "/c")
    local slept = {}
    local p = credentials.container{ env = e.vars, sleep = function(t) slept[#slept + 1] = t end }
    assert.is_true((p:get()))
    assert.same({ 1, 1 }, slept)
    assert.equal(3, #s:requests())
    local bad = start{ kind = "container", status = 500 }
    e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad.url .. "/c")
    local ok, err = credentials.container{ env = e.vars, sleep = nosleep }:get()
    assert.is_nil(ok)
    assert.equal("ContainerCredentialsError", err.code)
    assert.equal(500, err.status)
    assert.matches("HTTP status 500 from the credentials endpoint %(after 3 attempts%)", err.message)
    assert.equal(3, #bad:requests())
  end)

  it("requires every field of the response and keeps secrets out of the error", function()
    local s = start{ kind = "container", credentials = { AccessKeyId = "A", SecretAccessKey = SECRET, Token = TOKEN } }
    e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", s.url .. "/c")
    local ok, err = credentials.container{ env = e.vars, sleep = nosleep }:get()
    assert.is_nil(ok)
    assert.matches("Expiration is missing", err.message)
    no_secret(err)
  end)

  it("stops the chain when configured but unreachable (botocore raises too)", function()
    e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:" .. tiny.free_port() .. "/c")
    local ok, err = credentials.chain{ env = e.vars, sleep = nosleep }:get()
    assert.is_nil(ok)
    assert.equal("ContainerCredentialsError", err.code)
    assert.matches("looked at before: 1%. client options", err.message)
  end)

  it("waits between attempts through the scheduler: inside a task the wait lets other tasks run", function()
    local scheduler = require "invite.scheduler"
    local cjson = require "cjson"
    e:set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c")
    local events, asked = {}, 0
    local function http()
      asked = asked + 1
      events[#events + 1] = "request " .. asked
      if asked == 1 then return { status = 500, headers = {}, body = "" } end
      return { status = 200, headers = {}, body = cjson.encode(CREDS) }
    end
    local results = scheduler.run({
      function()
        return (select(2, credentials.container{ env = e.vars, http = http, container = { sleep_s = 0.2 } }:get()))
      end,
      function()
        scheduler.sleep(0.05)
        events[#events + 1] = "other task"
        return true
      end,
    }, { concurrency = 2 })
    assert.equal("ASIACONTAINER", results[1][1])
    -- a blocking sleep would have held the other task until the fetch was done
    assert.same({ "request 1", "other task", "request 2" }, events)
  end)
end)

describe("instance metadata (IMDS)", function()
  local IMDS_CREDS = { Code = "Success", AccessKeyId = "ASIAIMDS", SecretAccessKey = SECRET, Token = TOKEN,
                       Expiration = "2099-01-01T00:00:00Z", Type = "AWS-HMAC" }

  local function imds_env(s)
    e:unset("AWS_EC2_METADATA_DISABLED"):set("AWS_EC2_METADATA_SERVICE_ENDPOINT", s.url)
  end

  it("uses IMDSv2: token PUT with a TTL, then role and credentials with the token", function()
    local s = start{ kind = "imds", require_token = true, credentials = IMDS_CREDS }
    imds_env(s)
    local p = credentials.imds{ env = e.vars }
    assert.same({ true, "ASIAIMDS", SECRET, TOKEN }, { p:get() })
    assert.equal(("instance metadata (%s/) role invite-role"):format(s.url), p:info().source)
    local r = s:requests()
    assert.equal(3, #r)
    assert.same({ "PUT", "/latest/api/token" }, { r[1].method, r[1].path })
    assert.equal("21600", r[1].headers["x-aws-ec2-metadata-token-ttl-seconds"])
    assert.same({ "GET", "/latest/meta-data/iam/security-credentials/" }, { r[2].method, r[2].path })
    assert.equal("tok-123", r[2].headers["x-aws-ec2-metadata-token"])
    assert.equal("/latest/meta-data/iam/security-credentials/invite-role", r[3].path)
    assert.equal("tok-123", r[3].headers["x-aws-ec2-metadata-token"])
  end)

  it("is the last source of the chain", function()
    local s = start{ kind = "imds", credentials = IMDS_CREDS }
    imds_env(s)
    local p = credentials.chain{ env = e.vars }
    assert.equal("ASIAIMDS", select(2, p:get()))
  end)

  it("falls back to IMDSv1 when the token PUT gets 403/404/405, as botocore does", function()
    for _, status in ipairs({ 403, 404, 405 }) do
      local s = start{ kind = "imds", put = status, credentials = IMDS_CREDS }
      imds_env(s)
      local p = credentials.imds{ env = e.vars }
      assert.equal("ASIAIMDS", select(2, p:get()))
      assert.matches("via IMDSv1$", p:info().source)
      local r = s:requests()
      assert.equal(3, #r)
      assert.is_nil(r[2].headers["x-aws-ec2-metadata-token"])
    end
  end)

  it("gets no credentials through v1 when the instance requires a token", function()
    -- the PUT is refused (say by a proxy hop) and the instance has HttpTokens=required
    local s = start{ kind = "imds", put = 403, require_token = true, credentials = IMDS_CREDS }
    imds_env(s)
    local ok, err = credentials.imds{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.is_true(err.not_found)
    assert.matches("HTTP 401: the instance requires IMDSv2 tokens, and no token could be obtained", err.message)
    local r = s:requests()
    assert.equal(2, #r)                      -- the PUT, one tokenless GET (refused), nothing more
    assert.equal("PUT", r[1].method)
    assert.is_nil(r[2].headers["x-aws-ec2-metadata-token"])
    no_secret(err)
  end)

  it("never tries v1 when AWS_EC2_METADATA_V1_DISABLED is set", function()
    local s = start{ kind = "imds", put = 404, credentials = IMDS_CREDS }
    imds_env(s)
    e:set("AWS_EC2_METADATA_V1_DISABLED", "true")
    local ok, err = credentials.imds{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.matches("no IMDSv2 token %(404%) and the IMDSv1 fallback is disabled", err.message)
    assert.equal(1, #s:requests())                       -- only the PUT
    e:unset("AWS_EC2_METADATA_V1_DISABLED")
    e:write(".aws/config", "[default]\nec2_metadata_v1_disabled = true\n")
    ok = credentials.imds{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.equal(2, #s:requests())
  end)

  it("stops on a 400 to the token request", function()
    local s = start{ kind = "imds", put = 400, credentials = IMDS_CREDS }
    imds_env(s)
    local ok, err = credentials.imds{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.matches("refused as bad %(HTTP 400%)", err.message)
    assert.equal(1, #s:requests())
  end)

  it("says when no role is attached", function()
    local s = start{ kind = "imds", role = "" }
    imds_env(s)
    local ok, err = credentials.imds{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.matches("no IAM role is attached", err.message)
  end)

  it("does not block longer than its timeout on a hung metadata service", function()
    local s = start{ kind = "hang" }
    imds_env(s)
    e:set("AWS_METADATA_SERVICE_TIMEOUT", "0.5")
    local t0 = core.monotime()
    local ok, err = credentials.imds{ env = e.vars }:get()
    local elapsed = core.monotime() - t0
    assert.is_nil(ok)
    assert.matches("timed out after 0.5s requesting an IMDSv2 token", err.message)
    assert.is_true(elapsed >= 0.4, "returned too early: " .. elapsed)
    assert.is_true(elapsed < 1.5, "blocked for " .. elapsed .. " s with a 0.5 s timeout")
    assert.equal(1, #s:requests())
  end)

  it("bounds a hung token PUT by attempts x timeout and keeps the chain going", function()
    local s = start{ kind = "imds", put = "hang" }
    imds_env(s)
    e:set("AWS_METADATA_SERVICE_TIMEOUT", "0.3")
    local t0 = core.monotime()
    local ok, err = credentials.chain{ env = e.vars }:get()
    local elapsed = core.monotime() - t0
    assert.is_nil(ok)
    assert.equal("NoCredentials", err.code)
    assert.matches("instance metadata %(.-%): timed out after 0.3s", err.message)
    assert.is_true(elapsed < 1.2, "blocked for " .. elapsed .. " s")
  end)

  it("is skipped entirely with AWS_EC2_METADATA_DISABLED", function()
    local s = start{ kind = "imds", credentials = IMDS_CREDS }
    imds_env(s)
    e:set("AWS_EC2_METADATA_DISABLED", "TRUE")
    local ok, err = credentials.imds{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.equal("AWS_EC2_METADATA_DISABLED is true", err.message)
    assert.equal(0, #s:requests())
  end)

  it("reads the endpoint and mode from the profile", function()
    local seen = {}
    local http = function(r) seen[#seen + 1] = r.url; return nil, { kind = "connect", message = "refused" } end
    e:unset("AWS_EC2_METADATA_DISABLED")
    credentials.imds{ env = e.vars, http = http }:get()
    e:set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")
    credentials.imds{ env = e.vars, http = http }:get()
    e:unset("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")
    e:write(".aws/config", "[default]\nec2_metadata_service_endpoint = http://127.0.0.1:9/\n")
    credentials.imds{ env = e.vars, http = http }:get()
    assert.same({ "http://169.254.169.254/latest/api/token", "http://[fd00:ec2::254]/latest/api/token",
                  "http://127.0.0.1:9/latest/api/token" }, seen)
  end)

  it("reports an error document from the role credentials by its Code", function()
    local s = start{ kind = "imds", credentials = { Code = "AssumeRoleUnauthorizedAccess", Message = "x" } }
    imds_env(s)
    local ok, err = credentials.imds{ env = e.vars }:get()
    assert.is_nil(ok)
    assert.matches("no AccessKeyId in the credentials for role invite%-role %(Code AssumeRoleUnauthorizedAccess%)",
      err.message)
  end)

  it("can be the credential_source of a role profile", function()
    -- only the source part: the role itself is assumed in spec/credentials/sts_spec.lua
    local s = start{ kind = "imds", credentials = IMDS_CREDS }
    imds_env(s)
    local mod = require "invite.credentials.imds"
    assert.equal("ASIAIMDS", select(2, mod.new{ env = e.vars }:get()))
  end)
end)
