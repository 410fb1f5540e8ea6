-- STS as a service declaration (lua/invite/services/sts.lua) on the one request pipeline:
-- `require("invite").sts.client{...}` with boto3's names, checked against botocore's model (the
-- newest botocore a python3 here has), against botocore's own query serialiser and parser, with a
-- scripted transport (signing, the global endpoint, unsigned web identity, errors, the one retry
-- loop, validation, redaction, dry runs) and against the simulator. The compatibility functions
-- (invite.sts.assume_role ...) are in spec/credentials/sts_spec.lua and spec/credentials/sts_sim_spec.lua.
local cjson = require "cjson"
local botocore = require "support.botocore"
local envh = require "support.env"
local invite = require "invite"
local sigv4 = require "invite.sigv4"

local SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
local KEYS = { access_key_id = "AKIDSTSCLIENT", secret_access_key = SECRET, session_token = "srctoken-0001" }
local NS = 'xmlns="https://sts.amazonaws.com/doc/2011-06-15/"'
local ROLE = "arn:aws:iam::222222222222:role/InviteManager"

local wire = require "support.wire"
local header, form_pairs, form = wire.header, wire.form_pairs, wire.form

local function result_xml(action, inner, rid)
  return ([[<?xml version="1.0" encoding="UTF-8"?><%sResponse %s><%sResult>%s</%sResult>]]
    .. [[<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>]])
    :format(action, NS, action, inner, action, rid or "rid-ok", action)
end

local CREDS_XML = "<Credentials><AccessKeyId>ASIAROLE0000000001</AccessKeyId>"
  .. "<SecretAccessKey>rolesecret</SecretAccessKey><SessionToken>roletoken</SessionToken>"
  .. "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
  .. "<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s1</AssumedRoleId>"
  .. "<Arn>arn:aws:sts::222222222222:assumed-role/InviteManager/s1</Arn></AssumedRoleUser>"
  .. "<PackedPolicySize>6</PackedPolicySize>"

local function error_xml(code, message)
  return ([[<ErrorResponse %s><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>]]
    .. [[<RequestId>rid-err</RequestId></ErrorResponse>]]):format(NS, code, message)
end

-- A scripted STS: answers[n](req) for the n-th request, else a success for its Action.
local function scripted(answers)
  local log = {}
  local function transport(req)
    log[#log + 1] = req
    local f = form(req.body)
    local a = answers and answers[#log]
    if a then return a(req, f) end
    local inner = f.Action == "GetCallerIdentity"
      and "<Arn>arn:aws:iam::666666666666:user/ci</Arn><UserId>AIDAEXAMPLE</UserId><Account>666666666666</Account>"
      or CREDS_XML
    return { status = 200, headers = { { "x-amzn-requestid", "rid-header" } }, body = result_xml(f.Action, inner) }
  end
  return transport, log
end

local e
before_each(function() e = envh.new{ AWS_EC2_METADATA_DISABLED = "true" } end)
after_each(function() envh.cleanup() end)

local function client(o)
  o = o or {}
  local opts = { env = e.vars, credentials = KEYS, sleep = function() end }
  for k, v in pairs(o) do opts[k] = v end
  return invite.sts.client(opts)
end

-- The declaration against the newest botocore's STS model (support.botocore). Beyond
-- botocore.compare's checks: sensitive inputs, and a list's item bounds.
local CHECKS = {
  member = function(w, m, s, input)
    if input then assert.equal(s.sensitive == true, m.sensitive == true, w .. ": sensitive") end
  end,
  item = function(w, item, ms, _, input)
    if input and ms.type ~= "structure" then
      assert.same({ ms.min, ms.max }, { item.min, item.max }, w .. ": bounds")
    end
  end,
}

describe("services/sts.lua against botocore's model", function()
  local model = require "invite.model"
  local def = require "invite.services.sts"

  it("has the model's metadata: query protocol, endpoint prefix, global endpoint", function()
    local b = botocore.model("sts")
    if not b then return pending("no python3 with botocore") end
    local md = b.model.metadata
    assert.same({ md.protocol, md.endpointPrefix, md.signingName or md.endpointPrefix, md.serviceId, md.apiVersion,
      md.globalEndpoint }, { def.protocol, def.endpoint_prefix, def.signing_name, def.service_id, def.api_version,
      def.global_endpoint.host })
    assert.same({ "aws-global", "us-east-1" }, { def.global_endpoint.region, def.global_endpoint.signing_region })
  end)

  for _, key in ipairs({ "assume_role", "assume_role_with_web_identity", "get_caller_identity" }) do
    it(key .. ": method, URI, auth, every input and output member", function()
      local b = botocore.model("sts")
      if not b then return pending("no python3 with botocore") end
      local op = model.service("sts").ops[key]
      local mop = botocore.operation(b, op, CHECKS)
      assert.equal(mop.authtype, op.def.authtype, "authtype")
      assert.equal(op.name .. "Result", mop.output.resultWrapper)
    end)
  end

  it("is a client-only service: not among the invitation services", function()
    local names = {}
    for _, n in ipairs(model.SERVICES) do names[n] = true end
    assert.is_nil(names.sts)
    assert.is_nil(def.invitations)
  end)
end)

describe("invite.sts.client (boto3 names, the one pipeline)", function()
  it("assume_role: a signed query form to the regional endpoint, the answer under boto3's names", function()
    local transport, log = scripted()
    local c = client{ region = "eu-west-1", transport = transport, clock = function() return 1440938160 end }
    local res, err = c:assume_role{ RoleArn = ROLE, RoleSessionName = "s1", DurationSeconds = 900,
      Tags = { { Key = "team", Value = "sec" } }, TransitiveTagKeys = { "team" },
      PolicyArns = { { arn = "arn:aws:iam::aws:policy/ReadOnlyAccess" } }, ExternalId = "ext-1" }
    assert.is_nil(err)
    assert.same({
      Credentials = { AccessKeyId = "ASIAROLE0000000001", SecretAccessKey = "rolesecret", SessionToken = "roletoken",
                      Expiration = "2099-01-01T00:00:00Z" },
      AssumedRoleUser = { AssumedRoleId = "AROAEXAMPLE:s1",
                          Arn = "arn:aws:sts::222222222222:assumed-role/InviteManager/s1" },
      PackedPolicySize = 6,
    }, { Credentials = res.Credentials, AssumedRoleUser = res.AssumedRoleUser,
         PackedPolicySize = res.PackedPolicySize })
    assert.same({ "rid-ok", 200, 0 }, { res.ResponseMetadata.RequestId, res.ResponseMetadata.HTTPStatusCode,
      res.ResponseMetadata.RetryAttempts })
    local req = log[1]
    assert.same({ "POST", "https://sts.eu-west-1.amazonaws.com/" }, { req.method, req.url })
    assert.equal("application/x-www-form-urlencoded; charset=utf-8", header(req, "Content-Type"))
    assert.same({ { "Action", "AssumeRole" }, { "Version", "2011-06-15" }, { "RoleArn", ROLE },
      { "RoleSessionName", "s1" }, { "PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/ReadOnlyAccess" },
      { "DurationSeconds", "900" }, { "Tags.member.1.Key", "team" }, { "Tags.member.1.Value", "sec" },
      { "TransitiveTagKeys.member.1", "team" }, { "ExternalId", "ext-1" } }, form_pairs(req.body))
    local auth = header(req, "Authorization")
    assert.matches("^AWS4%-HMAC%-SHA256 Credential=AKIDSTSCLIENT/20150830/eu%-west%-1/sts/aws4_request, ", auth)
    assert.equal("srctoken-0001", header(req, "X-Amz-Security-Token"))
    local check = assert(sigv4.sign{ method = "POST", path = "/", query = "", body = req.body, headers = req.headers,
      access_key = KEYS.access_key_id, secret_key = SECRET, session_token = KEYS.session_token, region = "eu-west-1",
      service = "sts", signed_headers = auth:match("SignedHeaders=([^,]+)"), amz_date = "20150830T123600Z" })
    assert.equal(auth:match("Signature=(%x+)"), check.signature)
  end)

  it("uses the global endpoint signed for us-east-1 without a region, and AWS_ENDPOINT_URL_STS", function()
    local transport, log = scripted()
    local c = client{ transport = transport }
    assert.truthy(c:get_caller_identity())
    assert.equal("https://sts.amazonaws.com/", log[1].url)
    assert.matches("/us%-east%-1/sts/aws4_request", header(log[1], "Authorization"))
    assert.equal("aws-global", c.region)
    e:set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:4566")
    assert.truthy(client{ transport = transport }:get_caller_identity())
    assert.equal("http://127.0.0.1:4566/", log[2].url)
    assert.matches("/us%-east%-1/sts/aws4_request", header(log[2], "Authorization"))
    e:unset("AWS_ENDPOINT_URL_STS"):set("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    assert.truthy(client{ region = "eu-west-1", transport = transport }:get_caller_identity())
    assert.equal("https://sts.amazonaws.com/", log[3].url)
    assert.matches("/us%-east%-1/sts/aws4_request", header(log[3], "Authorization"))
  end)

  it("get_caller_identity: Action and Version alone, the answer's three members", function()
    local transport, log = scripted()
    local res = assert(client{ region = "us-east-1", transport = transport }:get_caller_identity())
    assert.equal("Action=GetCallerIdentity&Version=2011-06-15", log[1].body)
    assert.same({ "arn:aws:iam::666666666666:user/ci", "AIDAEXAMPLE", "666666666666" },
      { res.Arn, res.UserId, res.Account })
  end)

  it("assume_role_with_web_identity goes unsigned and asks for no credentials", function()
    local transport, log = scripted()
    local asked = 0
    local provider = { get = function() asked = asked + 1; return nil, "no credentials here" end }
    local res = assert(client{ region = "us-west-2", transport = transport, credentials = provider }
      :assume_role_with_web_identity{ RoleArn = ROLE, RoleSessionName = "ci", WebIdentityToken = "eyJ.token.sig" })
    assert.equal("ASIAROLE0000000001", res.Credentials.AccessKeyId)
    assert.equal(0, asked)
    assert.is_nil(header(log[1], "Authorization"))
    assert.is_nil(header(log[1], "X-Amz-Security-Token"))
    assert.truthy(header(log[1], "User-Agent"))
    assert.equal("eyJ.token.sig", form(log[1].body).WebIdentityToken)
  end)

  it("returns STS's error with service, operation, status and request id", function()
    local transport = scripted{ function()
      return { status = 403, headers = {},
               body = error_xml("AccessDenied", "User: arn:aws:iam::1:user/u is not authorized") }
    end }
    local res, err = client{ region = "us-east-1", transport = transport }:assume_role{ RoleArn = ROLE,
      RoleSessionName = "s1" }
    assert.is_nil(res)
    assert.same({ "AccessDenied", 403, "rid-err", false, "sts", "AssumeRole" },
      { err.code, err.status, err.request_id, err.retryable, err.service, err.operation })
    assert.equal("sts AssumeRole: AccessDenied (HTTP 403): User: arn:aws:iam::1:user/u is not authorized "
      .. "[request-id rid-err]", tostring(err))
  end)

  it("retries throttling and IDPCommunicationError through the client's retry loop", function()
    local retried = {}
    local transport, log = scripted{
      function() return { status = 400, headers = {}, body = error_xml("Throttling", "Rate exceeded") } end,
      function() return { status = 400, headers = {}, body = error_xml("IDPCommunicationError", "try again") } end,
    }
    local c = client{ region = "us-east-1", transport = transport, max_attempts = 3,
      on_retry = function(err, attempt) retried[#retried + 1] = err.code .. "#" .. attempt end }
    local res = assert(c:assume_role_with_web_identity{ RoleArn = ROLE, RoleSessionName = "ci",
      WebIdentityToken = "eyJ.token.sig" })
    assert.equal(3, #log)
    assert.same({ "Throttling#1", "IDPCommunicationError#2" }, retried)
    assert.equal(2, res.ResponseMetadata.RetryAttempts)
    -- a client error is not retried
    transport, log = scripted{ function()
      return { status = 400, headers = {}, body = error_xml("InvalidIdentityToken", "bad token") } end }
    local _, err = client{ region = "us-east-1", transport = transport }:assume_role_with_web_identity{
      RoleArn = ROLE, RoleSessionName = "ci", WebIdentityToken = "eyJ.token.sig" }
    assert.same({ "InvalidIdentityToken", false, 1 }, { err.code, err.retryable, #log })
  end)

  it("never hands the web identity token or the signing secret back in an error", function()
    local token = "eyJhbGciOiJSUzI1NiJ9.secret-claims.signature"
    local transport = scripted{
      function(_, f)
        return { status = 400, headers = {}, body = error_xml("InvalidIdentityToken", "bad: " .. f.WebIdentityToken) }
      end,
      function() return { status = 400, headers = {}, body = error_xml("ValidationError", "secret " .. SECRET) } end,
    }
    local c = client{ region = "us-east-1", transport = transport }
    local _, err = c:assume_role_with_web_identity{ RoleArn = ROLE, RoleSessionName = "ci", WebIdentityToken = token }
    assert.is_nil(tostring(err):find(token, 1, true))
    assert.matches("bad: %[redacted%]", err.message)
    _, err = c:assume_role{ RoleArn = ROLE, RoleSessionName = "s1" }
    assert.is_nil(tostring(err):find(SECRET, 1, true))
  end)

  it("validates boto3 parameters before anything is sent, structures included", function()
    local transport, log = scripted()
    local c = client{ region = "us-east-1", transport = transport }
    local cases = {
      { { RoleArn = ROLE, RoleSessionName = "x" }, "RoleSessionName: must be at least 2 characters long" },
      { { RoleArn = ROLE, RoleSessionName = "s1", DurationSeconds = 60 },
        "DurationSeconds: must be an integer between 900" },
      { { RoleArn = ROLE, RoleSessionName = "s1", Tags = { { Value = "v" } } },
        "Tags%[1%]%.Key: missing required member" },
      { { RoleArn = ROLE, RoleSessionName = "s1", Tags = { { Key = "k", Value = "v", Colour = "red" } } },
        'Tags%[1%]: unknown member "Colour"' },
      { { RoleArn = ROLE, RoleSessionName = "s1", PolicyArns = { "arn:aws:iam::aws:policy/x" } },
        "PolicyArns%[1%]: must be a table of members" },
      { { RoleArn = ROLE }, "RoleSessionName: missing required parameter" },
    }
    for _, case in ipairs(cases) do
      local res, err = c:assume_role(case[1])
      assert.is_nil(res)
      assert.equal("ValidationError", err.code)
      assert.matches(case[2], err.message)
    end
    assert.equal(0, #log)
    local _, err = c:assume_role_with_web_identity{}
    assert.matches("WebIdentityToken: missing required parameter", err.message)
  end)

  it("dry_run shows the signed form with the signature and token hidden", function()
    local c = client{ region = "us-east-1", dry_run = true }
    local dry = assert(c:assume_role{ RoleArn = ROLE, RoleSessionName = "s1" })
    assert.is_true(dry.DryRun)
    assert.equal("https://sts.us-east-1.amazonaws.com/", dry.url)
    assert.equal("Action=AssumeRole&Version=2011-06-15&RoleArn=" .. ROLE:gsub(":", "%%3A"):gsub("/", "%%2F")
      .. "&RoleSessionName=s1", dry.body)
    assert.matches("Signature=REDACTED", header(dry, "Authorization"))
    assert.equal("REDACTED", header(dry, "X-Amz-Security-Token"))
  end)

  it("is require('invite.sts').client too", function()
    local transport = scripted()
    local c = require("invite.sts").client{ region = "us-east-1", transport = transport, credentials = KEYS }
    assert.equal("sts", c.service_name)
    assert.truthy(c:get_caller_identity())
  end)
end)

-- botocore's own serialiser and parser with its own STS model.
local PY_PARITY = [=[
import json, sys, botocore.session
from botocore import serialize, parsers
jobs = json.load(sys.stdin)
model = botocore.session.get_session().get_service_model("sts")
out = []
for job in jobs:
    op = model.operation_model(job["operation"])
    if job["kind"] == "serialize":
        req = serialize.create_serializer("query", include_validation=False).serialize_to_request(job["params"], op)
        out.append([[k, str(v)] for k, v in req["body"].items()])
    else:
        factory = parsers.ResponseParserFactory()
        factory.set_parser_defaults(timestamp_parser=lambda s: s)
        res = factory.create_parser("query").parse({"status_code": job["status"], "headers": {},
                                                    "body": job["body"].encode("utf-8")}, op.output_shape)
        out.append(res)
print(json.dumps(out))
]=]

describe("invite.sts.client against botocore's query serialiser and parser (its own STS model)", function()
  local PARAMS = { RoleArn = ROLE, RoleSessionName = "s1", DurationSeconds = 3600, ExternalId = "ext 1/+",
    Tags = { { Key = "team", Value = "sec ops" }, { Key = "env", Value = "" } }, TransitiveTagKeys = { "team", "env" },
    PolicyArns = { { arn = "arn:aws:iam::aws:policy/ReadOnlyAccess" } }, Policy = '{"Version":"2012-10-17"}',
    SerialNumber = "arn:aws:iam::1:mfa/u", TokenCode = "123456", SourceIdentity = "me" }
  local ERR = error_xml("ExpiredToken", "The security token included in the request is expired")
  local results

  setup(function()
    results = botocore.first(PY_PARITY, cjson.encode{
      { kind = "serialize", operation = "AssumeRole", params = PARAMS },
      { kind = "parse", operation = "AssumeRole", status = 200, body = result_xml("AssumeRole", CREDS_XML) },
      { kind = "parse", operation = "AssumeRole", status = 403, body = ERR },
    }, { "/usr/bin/python3", "python3" })
  end)

  it("sends the same form parameters", function()
    if not results then return pending("no python3 with botocore") end
    local transport, log = scripted()
    assert.truthy(client{ region = "us-east-1", transport = transport }:assume_role(PARAMS))
    local ours, theirs = form_pairs(log[1].body), results[1]
    local function key(a, b) return a[1] < b[1] end
    table.sort(ours, key)
    table.sort(theirs, key)
    assert.same(theirs, ours)
  end)

  it("reads the same members and the same error", function()
    if not results then return pending("no python3 with botocore") end
    local transport = scripted{ nil, function() return { status = 403, headers = {}, body = ERR } end }
    local c = client{ region = "us-east-1", transport = transport }
    local res = assert(c:assume_role{ RoleArn = ROLE, RoleSessionName = "s1" })
    local theirs = results[2]
    assert.equal(theirs.ResponseMetadata.RequestId, res.ResponseMetadata.RequestId)
    res.ResponseMetadata, theirs.ResponseMetadata = nil, nil
    assert.same(theirs, res)
    local _, err = c:assume_role{ RoleArn = ROLE, RoleSessionName = "s1" }
    assert.same({ results[3].Error.Code, results[3].Error.Message, results[3].ResponseMetadata.RequestId },
      { err.code, err.message, err.request_id })
  end)
end)

describe("invite.sts.client against the simulator", function()
  local sim = require "support.sim"
  local s
  setup(function() s = sim.start{} end)
  teardown(function() if s then s:stop() end end)

  it("GetCallerIdentity and AssumeRole are accepted, and the session works", function()
    local audit = sim.credentials("audit")
    local c = client{ region = "us-east-1", endpoint = s.endpoint,
      credentials = { access_key_id = audit.access_key_id, secret_access_key = audit.secret_access_key } }
    local me = assert(c:get_caller_identity())
    assert.equal("666666666666", me.Account)
    local res = assert(c:assume_role{ RoleArn = ROLE, RoleSessionName = "sts-client", DurationSeconds = 900 })
    assert.matches("^ASIA", res.Credentials.AccessKeyId)
    assert.equal("arn:aws:sts::222222222222:assumed-role/InviteManager/sts-client", res.AssumedRoleUser.Arn)
    assert.truthy(res.ResponseMetadata.RequestId)
    local as_role = client{ region = "us-east-1", endpoint = s.endpoint, credentials = {
      access_key_id = res.Credentials.AccessKeyId, secret_access_key = res.Credentials.SecretAccessKey,
      session_token = res.Credentials.SessionToken } }
    assert.equal("arn:aws:sts::222222222222:assumed-role/InviteManager/sts-client",
      assert(as_role:get_caller_identity()).Arn)
    local _, err = c:assume_role{ RoleArn = "arn:aws:iam::666666666666:role/GitHubActionsInvite",
      RoleSessionName = "denied" }
    assert.same({ "AccessDenied", 403, false }, { err.code, err.status, err.retryable })
  end)
end)
