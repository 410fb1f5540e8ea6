-- invite.sts and the STS-backed credential sources (assume role, web identity) with a scripted
-- STS transport: request shapes, signing, XML reading (expat and the built-in reader), errors,
-- retries, and the profile rules (source_profile chains, credential_source, loops).
-- The same flows against the simulator's STS are in spec/credentials/sts_sim_spec.lua.
local envh = require "support.env"
local sts = require "invite.sts"
local credentials = require "invite.credentials"
local sigv4 = require "invite.sigv4"

local SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
local NS = 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"'

local wire = require "support.wire"
local form, header = wire.form, wire.header

local function ok_xml(action, n, exp)
  return ([[<?xml version="1.0" encoding="UTF-8"?>
<%sResponse %s>
  <%sResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId><Arn>arn:aws:sts::111122223333:assumed-role/r/s</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAROLE%d</AccessKeyId>
      <SecretAccessKey>rolesecret%d&amp;&#43;</SecretAccessKey>
      <SessionToken>roletoken%d</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
  </%sResult>
  <ResponseMetadata><RequestId>req-%d</RequestId></ResponseMetadata>
</%sResponse>]]):format(action, NS, action, n, n, n, exp, action, n, action)
end

local function err_xml(code, msg)
  return ([[<ErrorResponse %s><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>]]
    .. [[<RequestId>rid-err</RequestId></ErrorResponse>]])
    :format(NS, code, msg)
end

-- A scripted STS: records requests; `script` may override answers per call number.
local function fake_sts(opts)
  opts = opts or {}
  local log = {}
  local http = function(req)
    local f = form(req.body)
    log[#log + 1] = { req = req, form = f }
    local n = #log
    if opts.script and opts.script[n] then return opts.script[n](req, f) end
    return { status = 200, headers = { { "content-type", "text/xml" } },
             body = ok_xml(f.Action, n, opts.expiration or "2099-01-01T00:00:00Z") }
  end
  return http, log
end

local e
before_each(function() e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" } end)
after_each(function() envh.cleanup() end)

describe("sts XML reading", function()
  for _, how in ipairs({ "lxp", "builtin" }) do
    describe(how, function()
      if how == "lxp" and not pcall(require, "lxp") then
        pending("lxp is not installed")
        return
      end
      it("flattens leaf elements to paths and decodes entities", function()
        local m = assert(sts.parse_xml(ok_xml("AssumeRole", 1, "2030-01-01T00:00:00Z"), how))
        assert.equal("ASIAROLE1", m["AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId"])
        assert.equal("rolesecret1&+", m["AssumeRoleResponse/AssumeRoleResult/Credentials/SecretAccessKey"])
        assert.equal("req-1", m["AssumeRoleResponse/ResponseMetadata/RequestId"])
      end)
      it("reads CDATA and comments", function()
        local m = assert(sts.parse_xml("<a><!-- c --><b><![CDATA[x<y]]></b><c/></a>", how))
        assert.equal("x<y", m["a/b"])
        assert.equal("", m["a/c"])
      end)
      it("refuses DOCTYPE, mismatched tags and junk", function()
        for _, bad in ipairs({
          '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
          "<a><b></a></b>",
          "<a>",
          "<a></a>trailing",
          "<a>&unknown;</a>",
          "",
        }) do
          assert.is_nil((sts.parse_xml(bad, how)), bad)
        end
      end)
    end)
  end

  it("uses expat when it is installed", function()
    assert.equal(pcall(require, "lxp") and "lxp" or "builtin", sts.xml_backend())
  end)
end)

describe("sts.assume_role", function()
  it("POSTs a signed query-protocol form to the regional endpoint", function()
    local http, log = fake_sts()
    local res = assert(sts.assume_role{
      role_arn = "arn:aws:iam::111122223333:role/audit", role_session_name = "s1", external_id = "ext-1",
      duration_seconds = 900, region = "eu-west-1", http = http, env = e.vars,
      credentials = { access_key_id = "AKIDSRC", secret_access_key = SECRET, session_token = "srctok" },
      sign_time = function() return 1440938160 end,
    })
    assert.same({ access_key_id = "ASIAROLE1", secret_access_key = "rolesecret1&+", session_token = "roletoken1",
                  expiration = 4070908800 }, res.credentials)
    assert.equal("arn:aws:sts::111122223333:assumed-role/r/s", res.assumed_role_user.arn)
    assert.equal("req-1", res.request_id)
    local req, f = log[1].req, log[1].form
    assert.equal("POST", req.method)
    assert.equal("https://sts.eu-west-1.amazonaws.com/", req.url)
    assert.same({ Action = "AssumeRole", Version = "2011-06-15", RoleArn = "arn:aws:iam::111122223333:role/audit",
                  RoleSessionName = "s1", ExternalId = "ext-1", DurationSeconds = "900" }, f)
    assert.equal("application/x-www-form-urlencoded; charset=utf-8", header(req, "Content-Type"))
    assert.equal("srctok", header(req, "X-Amz-Security-Token"))
    assert.equal("20150830T123600Z", header(req, "X-Amz-Date"))
    local auth = header(req, "Authorization")
    assert.matches("^AWS4%-HMAC%-SHA256 Credential=AKIDSRC/20150830/eu%-west%-1/sts/aws4_request, ", auth)
    -- the signature verifies with the same secret (the signer's verification mode)
    local check = assert(sigv4.sign{
      method = "POST", path = "/", query = "", body = req.body, headers = req.headers,
      access_key = "AKIDSRC", secret_key = SECRET, session_token = "srctok", region = "eu-west-1", service = "sts",
      signed_headers = auth:match("SignedHeaders=([^,]+)"), amz_date = "20150830T123600Z",
    })
    assert.equal(auth:match("Signature=(%x+)"), check.signature)
  end)

  it("takes AWS_ENDPOINT_URL_STS, and the global endpoint signed for us-east-1 without a region", function()
    local http, log = fake_sts()
    local src = { access_key_id = "A", secret_access_key = "s" }
    e:set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:4566")
    assert.truthy(sts.assume_role{ role_arn = "arn:aws:iam::1:role/r", region = "ap-south-1", http = http,
                                   env = e.vars, credentials = src })
    assert.equal("http://127.0.0.1:4566/", log[1].req.url)
    e:unset("AWS_ENDPOINT_URL_STS")
    assert.truthy(sts.assume_role{ role_arn = "arn:aws:iam::1:role/r", http = http, env = e.vars, credentials = src })
    assert.equal("https://sts.amazonaws.com/", log[2].req.url)
    assert.matches("/us%-east%-1/sts/aws4_request", header(log[2].req, "Authorization"))
    assert.matches("^invite%-session%-%d+$", log[2].form.RoleSessionName)
  end)

  it("returns STS errors with code, status and request id, and no secret", function()
    local http = fake_sts{ script = { function()
      return { status = 403, headers = {},
               body = err_xml("AccessDenied", "User: arn:aws:iam::1:user/u is not authorized") }
    end } }
    local res, err = sts.assume_role{ role_arn = "arn:aws:iam::1:role/r", region = "us-east-1", http = http,
      env = e.vars, credentials = { access_key_id = "A", secret_access_key = SECRET } }
    assert.is_nil(res)
    assert.equal("AccessDenied", err.code)
    assert.equal(403, err.status)
    assert.equal("rid-err", err.request_id)
    assert.is_false(err.retryable)
    assert.matches("^sts AssumeRole: User: arn", err.message)
    assert.is_nil(tostring(err):find(SECRET, 1, true))
  end)

  it("retries throttling and 5xx, not client errors", function()
    local slept = {}
    local http, log = fake_sts{ script = {
      function() return { status = 400, headers = {}, body = err_xml("Throttling", "Rate exceeded") } end,
      function() return { status = 503, headers = {}, body = "" } end,
    } }
    local res = sts.assume_role{ role_arn = "arn:aws:iam::1:role/r", region = "us-east-1", http = http, env = e.vars,
      credentials = { access_key_id = "A", secret_access_key = "s" }, sleep = function(s) slept[#slept + 1] = s end }
    assert.truthy(res)
    assert.equal(3, #log)
    assert.same({ 0.1, 0.2 }, slept)
  end)

  it("reports an unreadable success response", function()
    local http = fake_sts{ script = { function() return { status = 200, headers = {}, body = "<a><b></a>" } end } }
    local res, err = sts.assume_role{ role_arn = "arn:aws:iam::1:role/r", region = "us-east-1", http = http,
      env = e.vars, credentials = { access_key_id = "A", secret_access_key = "s" } }
    assert.is_nil(res)
    assert.equal("InvalidResponse", err.code)
  end)

  it("raises on misuse", function()
    assert.has.error(function() sts.assume_role{} end, "sts.assume_role: role_arn is required")
    assert.has.error(function() sts.assume_role_with_web_identity{ role_arn = "arn:aws:iam::1:role/r" } end)
  end)
end)

describe("sts.assume_role_with_web_identity", function()
  it("sends the token unsigned", function()
    local http, log = fake_sts()
    local res = assert(sts.assume_role_with_web_identity{ role_arn = "arn:aws:iam::1:role/web",
      role_session_name = "ci", web_identity_token = "eyJ.token", region = "us-west-2", http = http, env = e.vars })
    assert.equal("ASIAROLE1", res.credentials.access_key_id)
    local req, f = log[1].req, log[1].form
    assert.is_nil(header(req, "Authorization"))
    assert.same({ Action = "AssumeRoleWithWebIdentity", Version = "2011-06-15", RoleArn = "arn:aws:iam::1:role/web",
                  RoleSessionName = "ci", WebIdentityToken = "eyJ.token" }, f)
    assert.equal("https://sts.us-west-2.amazonaws.com/", req.url)
  end)
end)

describe("assume role and web identity sources", function()
  local function chain(http, o)
    o = o or {}
    o.env, o.http, o.region = e.vars, http, o.region or "us-east-1"
    return credentials.chain(o)
  end

  it("assumes role_arn with a source_profile's static keys, passing the profile's settings", function()
    e:write(".aws/config", table.concat({
      "[profile audit]",
      "role_arn = arn:aws:iam::111122223333:role/audit",
      "source_profile = base",
      "external_id = ext-9",
      "role_session_name = invite-audit",
      "duration_seconds = 1800",
    }, "\n"))
    e:write(".aws/credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = " .. SECRET .. "\n")
    local http, log = fake_sts()
    local p = chain(http, { profile = "audit" })
    assert.same({ true, "ASIAROLE1", "rolesecret1&+", "roletoken1" }, { p:get() })
    assert.same({ Action = "AssumeRole", Version = "2011-06-15", RoleArn = "arn:aws:iam::111122223333:role/audit",
                  RoleSessionName = "invite-audit", ExternalId = "ext-9", DurationSeconds = "1800" }, log[1].form)
    assert.matches("Credential=AKIDBASE/", header(log[1].req, "Authorization"))
    assert.equal("profile audit via profile base (AssumeRole arn:aws:iam::111122223333:role/audit)", p:info().source)
  end)

  it("follows role chains, each hop signed with the previous role's credentials", function()
    e:write(".aws/config", table.concat({
      "[profile a]", "role_arn = arn:aws:iam::111111111111:role/a", "source_profile = b",
      "[profile b]", "role_arn = arn:aws:iam::222222222222:role/b", "source_profile = c",
      "[profile c]", "aws_access_key_id = AKIDC", "aws_secret_access_key = s",
    }, "\n"))
    local http, log = fake_sts()
    local p = chain(http, { profile = "a" })
    assert.equal("ASIAROLE2", select(2, p:get()))
    assert.equal("arn:aws:iam::222222222222:role/b", log[1].form.RoleArn)
    assert.matches("Credential=AKIDC/", header(log[1].req, "Authorization"))
    assert.equal("arn:aws:iam::111111111111:role/a", log[2].form.RoleArn)
    assert.matches("Credential=ASIAROLE1/", header(log[2].req, "Authorization"))
    assert.equal("roletoken1", header(log[2].req, "X-Amz-Security-Token"))
  end)

  it("lets a role profile use its own static keys as the source", function()
    e:write(".aws/credentials", "[self]\naws_access_key_id = AKIDSELF\naws_secret_access_key = s\n"
      .. "role_arn = arn:aws:iam::1:role/self\nsource_profile = self\n")
    local http, log = fake_sts()
    assert.equal("ASIAROLE1", select(2, chain(http, { profile = "self" }):get()))
    assert.matches("Credential=AKIDSELF/", header(log[1].req, "Authorization"))
  end)

  it("rejects loops, missing source profiles and conflicting settings by name", function()
    e:write(".aws/config", table.concat({
      "[profile x]", "role_arn = arn:aws:iam::1:role/x", "source_profile = y",
      "[profile y]", "role_arn = arn:aws:iam::1:role/y", "source_profile = x",
      "[profile gone]", "role_arn = arn:aws:iam::1:role/g", "source_profile = nowhere",
      "[profile both]", "role_arn = arn:aws:iam::1:role/b", "source_profile = x", "credential_source = Environment",
      "[profile neither]", "role_arn = arn:aws:iam::1:role/n",
      "[profile weird]", "role_arn = arn:aws:iam::1:role/w", "credential_source = Laptop",
      "[profile baddur]", "role_arn = arn:aws:iam::1:role/d", "source_profile = x", "duration_seconds = 1h",
    }, "\n"))
    local http, log = fake_sts()
    local cases = {
      x = "infinite loop in source_profile references: x %-> y %-> x",
      gone = 'the source_profile "nowhere" referenced in profile gone does not exist',
      both = "profile both has both source_profile and credential_source",
      neither = "profile neither has role_arn but neither source_profile nor credential_source",
      weird = 'credential_source "Laptop" in profile weird is not valid',
      baddur = "duration_seconds in profile baddur must be a whole number",
    }
    for profile, msg in pairs(cases) do
      local ok, err = chain(http, { profile = profile }):get()
      assert.is_nil(ok, profile)
      assert.matches(msg, err.message)
    end
    assert.equal(0, #log)
  end)

  it("uses credential_source = Environment / EcsContainer / Ec2InstanceMetadata", function()
    e:write(".aws/config", "[profile envrole]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = environment\n"
      .. "[profile ecsrole]\nrole_arn = arn:aws:iam::1:role/c\ncredential_source = EcsContainer\n")
    e:set("AWS_ACCESS_KEY_ID", "AKIDENV"):set("AWS_SECRET_ACCESS_KEY", "s")
    local http, log = fake_sts()
    assert.equal("ASIAROLE1", select(2, chain(http, { profile = "envrole" }):get()))
    assert.matches("Credential=AKIDENV/", header(log[1].req, "Authorization"))
    local ok, err = chain(http, { profile = "ecsrole" }):get()
    assert.is_nil(ok)
    assert.matches("the source credentials failed: neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", err.message)
  end)

  it("refreshes assumed-role credentials before they expire", function()
    e:write(".aws/config", "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = s\n"
      .. "[profile s]\naws_access_key_id = A\naws_secret_access_key = s\n")
    local now = 0
    local http, log = fake_sts{ expiration = "1970-01-01T01:00:00Z" }
    local p = chain(http, { profile = "r", clock = function() return now end })
    assert.equal("ASIAROLE1", select(2, p:get()))
    now = 3000
    assert.equal("ASIAROLE1", select(2, p:get()))
    now = 3400
    assert.equal("ASIAROLE2", select(2, p:get()))
    assert.equal(2, #log)
  end)

  it("uses AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN + AWS_ROLE_SESSION_NAME, re-reading the token", function()
    local tf = e:write("token", "jwt-1\n")
    e:set("AWS_WEB_IDENTITY_TOKEN_FILE", tf):set("AWS_ROLE_ARN", "arn:aws:iam::1:role/ci")
      :set("AWS_ROLE_SESSION_NAME", "gha")
    local now = 0
    local http, log = fake_sts{ expiration = "1970-01-01T01:00:00Z" }
    local p = chain(http, { clock = function() return now end })
    assert.equal("ASIAROLE1", select(2, p:get()))
    assert.same({ Action = "AssumeRoleWithWebIdentity", Version = "2011-06-15", RoleArn = "arn:aws:iam::1:role/ci",
                  RoleSessionName = "gha", WebIdentityToken = "jwt-1" }, log[1].form)
    assert.is_nil(header(log[1].req, "Authorization"))
    envh.write(tf, "jwt-2")
    now = 3500
    assert.equal("ASIAROLE2", select(2, p:get()))
    assert.equal("jwt-2", log[2].form.WebIdentityToken)
  end)

  it("puts web identity from the environment before the credentials file, as botocore does", function()
    e:write(".aws/credentials", "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = s\n")
    e:set("AWS_WEB_IDENTITY_TOKEN_FILE", e:write("t", "jwt")):set("AWS_ROLE_ARN", "arn:aws:iam::1:role/ci")
    local http = fake_sts()
    assert.equal("ASIAROLE1", select(2, chain(http):get()))
  end)

  it("reads web_identity_token_file and role_arn from a profile", function()
    local tf = e:write("t", "jwt-p")
    e:write(".aws/config", "[profile w]\nweb_identity_token_file = " .. tf .. "\nrole_arn = arn:aws:iam::1:role/w\n")
    local http, log = fake_sts()
    assert.equal("ASIAROLE1", select(2, chain(http, { profile = "w" }):get()))
    assert.equal("jwt-p", log[1].form.WebIdentityToken)
    assert.equal("arn:aws:iam::1:role/w", log[1].form.RoleArn)
  end)

  it("names a token file that cannot be read and a missing role ARN", function()
    e:set("AWS_WEB_IDENTITY_TOKEN_FILE", e:path("missing"))
    local http = fake_sts()
    local ok, err = chain(http):get()
    assert.is_nil(ok)
    assert.matches("no role ARN", err.message)
    e:set("AWS_ROLE_ARN", "arn:aws:iam::1:role/ci")
    ok, err = chain(http):get()
    assert.is_nil(ok)
    assert.matches("cannot read the web identity token file .*missing: file not found", err.message)
  end)

  it("assume_role{} takes an explicit source provider (the policy runner's form)", function()
    local http, log = fake_sts()
    local src = credentials.static{ access_key_id = "AKIDRUN", secret_access_key = "s" }
    local p = credentials.assume_role{ role_arn = "arn:aws:iam::444455556666:role/invite", role_session_name = "invite",
      source = src, region = "eu-central-1", endpoint = "http://127.0.0.1:9", http = http, env = e.vars }
    assert.equal("ASIAROLE1", select(2, p:get()))
    assert.equal("http://127.0.0.1:9/", log[1].req.url)
    assert.matches("Credential=AKIDRUN/%d+/eu%-central%-1/sts/", header(log[1].req, "Authorization"))
  end)

  it("keeps a client's service endpoint away from the chain's STS calls", function()
    e:write(".aws/config", "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = s\n"
      .. "[profile s]\naws_access_key_id = A\naws_secret_access_key = s\n")
    local http, log = fake_sts()
    local p = credentials.chain{ env = e.vars, http = http, profile = "r", region = "eu-west-1",
                                 endpoint = "https://guardduty.example", endpoint_url = "https://guardduty.example" }
    assert.truthy(p:get())
    assert.equal("https://sts.eu-west-1.amazonaws.com/", log[1].req.url)
  end)
end)
