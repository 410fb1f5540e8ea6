-- Retry classification against botocore's standard mode, case by case.
--
-- botocore itself (a python3 child: its own response parsers and StandardRetryConditions, the
-- newest botocore of `python3` and /usr/bin/python3) and invite's real code path (a client's
-- call through a scripted transport for macie2, securityhub, guardduty and detective; invite.sts
-- with a fake `http` function for STS) classify the same HTTP answers and transport failures:
--
--   every error code botocore's standard mode lists, every error code of the five services'
--   botocore models, a few codes nobody lists, no code (empty body) and an HTML body, each with
--   HTTP 400, 403, 404, 429, 500, 501, 502, 503, 504 and 509; a 2xx that cannot be parsed; and
--   connection failures and timeouts of every kind the transports report.
--
-- A verdict is "throttling", "transient" or "no" (not retried). invite's verdict is what the
-- client did (one attempt or two, with max_attempts = 2) and what the error says (retryable,
-- throttle); both must tell the same story. Any disagreement that is not in DEVIATIONS (which
-- mirrors docs/clients.md, "Retries: where invite differs from botocore") fails the spec.
local envh = require "support.env"
local cjson = require "cjson"
local invite = require "invite"
local sts = require "invite.sts"
local retry = require "invite.retry"

local STATUSES = { 400, 403, 404, 429, 500, 501, 502, 503, 504, 509 }

-- Codes no botocore list or model of ours names (the first five were on invite's own lists once).
local UNKNOWN_CODES = { "InternalError", "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure",
  "RequestTimeoutError", "NoSuchThingException", "throttlingexception", "TooManyRequests" }

-- The operation each service is called with (the retry decision does not depend on it: none of
-- the five models marks an error retryable, which the spec checks).
local OPERATION = { macie2 = "GetInvitationsCount", securityhub = "GetInvitationsCount",
  guardduty = "GetInvitationsCount", sts = "AssumeRoleWithWebIdentity", detective = "ListInvitations" }
-- invite's call of that operation (get_invitations_count where none is named)
local INVITE_CALL = { detective = "list_invitations" }

-- Transport failures: what invite's transports report, and the botocore exception the same
-- failure raises there (botocore.httpsession maps urllib3's errors to these).
local TRANSPORT = {
  { name = "connect timeout", err = { kind = "timeout", curl_code = 28 }, botocore = "ConnectTimeoutError" },
  { name = "read timeout", err = { kind = "timeout", curl_code = 28 }, botocore = "ReadTimeoutError" },
  { name = "timeout (cosocket)", err = { kind = "timeout" }, botocore = "ReadTimeoutError" },
  { name = "connection refused", err = { kind = "connect", curl_code = 7 }, botocore = "EndpointConnectionError" },
  { name = "proxy refused", err = { kind = "connect", curl_code = 97 }, botocore = "ProxyConnectionError" },
  { name = "DNS failure", err = { kind = "dns", curl_code = 6 }, botocore = "EndpointConnectionError" },
  { name = "reset on receive", err = { kind = "reset", curl_code = 56 }, botocore = "ConnectionClosedError" },
  { name = "reset on send", err = { kind = "reset", curl_code = 55 }, botocore = "ConnectionClosedError" },
  { name = "empty reply", err = { kind = "reset", curl_code = 52 }, botocore = "ConnectionClosedError" },
  { name = "partial body", err = { kind = "reset", curl_code = 18 }, botocore = "ConnectionClosedError" },
  { name = "closed (cosocket)", err = { kind = "reset" }, botocore = "ConnectionClosedError" },
  { name = "HTTP/2 stream error", err = { kind = "other", curl_code = 92 }, botocore = "ConnectionClosedError" },
  { name = "TLS handshake failure", err = { kind = "tls", curl_code = 35 }, botocore = "SSLError" },
  { name = "certificate verification failure", err = { kind = "tls", curl_code = 60 }, botocore = "SSLError" },
  { name = "body over max_body_bytes", err = { kind = "other", curl_code = 23 }, botocore = "HTTPClientError" },
  { name = "other transport failure", err = { kind = "other" }, botocore = "HTTPClientError" },
  { name = "transport raised", raise = true, botocore = "HTTPClientError" },
}

-- curl codes with which an "other" failure means the connection broke
local BROKE = { [92] = true }

-- Where invite deliberately differs from botocore: docs/clients.md, "Retries: where invite differs
-- from botocore" says the same (each `doc` phrase must appear in that section).
local DEVIATIONS = {
  { doc = "A 429 without an error code",
    match = function(c) return c.status == 429 and c.code == nil end,
    invite = "throttling", botocore = "no" },
  { doc = "A 2xx whose body is not JSON",
    match = function(c) return c.service ~= "sts" and c.status ~= nil and c.status < 300 end,
    invite = "transient", botocore = "no" },
  { doc = "TLS failures",
    match = function(c) return c.err ~= nil and c.err.kind == "tls" end,
    invite = "no", botocore = "transient" },
  { doc = "Other transport failures",
    match = function(c)
      return c.raise or (c.err ~= nil and c.err.kind == "other" and not BROKE[c.err.curl_code])
    end,
    invite = "no", botocore = "transient" },
}

---------------------------------------------------------------------------------------------
-- botocore
---------------------------------------------------------------------------------------------

local PROBE = [==[
import json, sys
import botocore
import botocore.session
from botocore import exceptions as bx
from botocore.awsrequest import AWSResponse
from botocore.endpoint import convert_to_response_dict
from botocore.parsers import create_parser
from botocore.retries import standard

session = botocore.session.get_session()
models = {}


def model(service):
    if service not in models:
        models[service] = session.get_service_model(service)
    return models[service]


def lists(services):
    out = {
        "version": botocore.__version__,
        "throttling": list(standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES),
        "transient": list(standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES),
        "transient_status": list(standard.TransientRetryableChecker._TRANSIENT_STATUS_CODES),
        "errors": {},
        "modeled_retryable": [],
    }
    for s in services:
        m = model(s)
        codes = set()
        for name in m.operation_names:
            for shape in m.operation_model(name).error_shapes:
                codes.add(shape.metadata.get("error", {}).get("code") or shape.name)
                if shape.metadata.get("retryable") is not None:
                    out["modeled_retryable"].append(s + " " + shape.name)
        out["errors"][s] = sorted(codes)
    return out


EXCEPTIONS = {
    "ReadTimeoutError": lambda: bx.ReadTimeoutError(endpoint_url="https://x/"),
    "ConnectTimeoutError": lambda: bx.ConnectTimeoutError(endpoint_url="https://x/"),
    "EndpointConnectionError": lambda: bx.EndpointConnectionError(endpoint_url="https://x/"),
    "ProxyConnectionError": lambda: bx.ProxyConnectionError(proxy_url="http://proxy/"),
    "ConnectionClosedError": lambda: bx.ConnectionClosedError(endpoint_url="https://x/"),
    "SSLError": lambda: bx.SSLError(endpoint_url="https://x/", error="handshake"),
    "HTTPClientError": lambda: bx.HTTPClientError(error="unhandled"),
}

adapter = standard.RetryEventAdapter()
conditions = standard.StandardRetryConditions(max_attempts=3)
throttling = standard.ThrottlingErrorDetector(adapter)


def classify(case):
    om = model(case["service"]).operation_model(case["operation"])
    http, parsed, exc = None, None, None
    if case.get("exception"):
        exc = EXCEPTIONS[case["exception"]]()
    else:
        http = AWSResponse("https://x/", case["status"], case["headers"], None)
        http._content = case["body"].encode("utf-8")
        sm = om.service_model
        parser = create_parser(getattr(sm, "resolved_protocol", None) or sm.protocol)
        try:
            parsed = parser.parse(convert_to_response_dict(http, om), om.output_shape)
        except Exception as e:  # noqa: BLE001
            # whatever the parser raises (ResponseParserError, or a KeyError for a 2xx without
            # the result element) goes to the caller from the endpoint: no retry
            return {"verdict": "no", "code": None, "raised": type(e).__name__}
    kwargs = {"response": None if exc else (http, parsed), "attempts": 1, "operation": om,
              "caught_exception": exc, "request_dict": {"context": {}}}
    ctx = adapter.create_retry_context(**kwargs)
    code = ctx.get_error_code()
    if not conditions.is_retryable(ctx):
        return {"verdict": "no", "code": code}
    return {"verdict": "throttling" if throttling.is_throttling_error(**kwargs) else "transient",
            "code": code}


if sys.argv[1] == "lists":
    print(json.dumps(lists(sys.argv[2:])))
else:
    with open(sys.argv[2]) as f:
        cases = json.load(f)
    print(json.dumps([classify(c) for c in cases]))
]==]

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_cmd(cmd)
  local p = io.popen(cmd)
  if not p then return nil end
  local out = p:read("*a")
  p:close()
  return out
end

local function version_key(v)
  local a, b, c = tostring(v):match("^(%d+)%.(%d+)%.(%d+)")
  if not a then return -1 end
  return (tonumber(a) * 1000 + tonumber(b)) * 1000 + tonumber(c)
end

-- The python3 with the newest importable botocore, and its version; nil when there is none.
local function find_python()
  local best, best_version
  for _, py in ipairs{ "python3", "/usr/bin/python3" } do
    local out = read_cmd("env -u LD_PRELOAD " .. py
      .. " -c 'import botocore; print(botocore.__version__)' 2>/dev/null")
    local v = out and out:match("^%s*(%d+%.%d+%.%d+)")
    if v and (not best or version_key(v) > version_key(best_version)) then best, best_version = py, v end
  end
  return best, best_version
end

local PY, PY_VERSION = find_python()
local probe_path

local function run_probe(args)
  if not probe_path then
    probe_path = os.tmpname()
    local f = assert(io.open(probe_path, "wb"))
    f:write(PROBE)
    f:close()
  end
  local out = assert(read_cmd("env -u LD_PRELOAD " .. PY .. " " .. shq(probe_path) .. " " .. args .. " 2>&1"))
  local ok, v = pcall(cjson.decode, out)
  assert(ok and type(v) == "table", "botocore probe failed: " .. out:sub(1, 2000))
  return v
end

---------------------------------------------------------------------------------------------
-- The cases
---------------------------------------------------------------------------------------------

local SERVICES = { invite.services[1], invite.services[2], invite.services[3], "sts", "detective" }

local function sts_error_xml(code)
  return '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>'
    .. code .. '</Code><Message>m</Message></Error><RequestId>rid-1</RequestId></ErrorResponse>'
end

local HTML = "<html><body><h1>Error</h1></body></html>"

-- One HTTP answer: headers as {name, value} pairs (what the transports return).
local function answer(service, code, shape, n)
  local headers = { { "x-amzn-requestid", "rid-1" } }
  local body
  if shape == "empty" then
    body = ""
  elseif shape == "html" then
    headers[2] = { "content-type", "text/html" }
    body = HTML
  elseif service == "sts" then
    headers[2] = { "content-type", "text/xml" }
    body = sts_error_xml(code)
  else
    headers[2] = { "content-type", "application/json" }
    if n % 2 == 0 then -- the two ways a rest-json service names the error
      headers[3] = { "x-amzn-errortype", code .. ":http://internal.amazon.com/coral/com.amazonaws.x/" }
      body = '{"message":"m"}'
    else
      body = '{"__type":"com.amazonaws.' .. service .. '#' .. code .. '","message":"m"}'
    end
  end
  return headers, body
end

local function build_cases(lists)
  local codes, seen = {}, {}
  local function add(c)
    if not seen[c] then seen[c] = true; codes[#codes + 1] = c end
  end
  for _, c in ipairs(lists.throttling) do add(c) end
  for _, c in ipairs(lists.transient) do add(c) end
  for _, s in ipairs(SERVICES) do for _, c in ipairs(lists.errors[s]) do add(c) end end
  for _, c in ipairs(UNKNOWN_CODES) do add(c) end
  local cases = {}
  for _, service in ipairs(SERVICES) do
    local n = 0
    local function push(c)
      n = n + 1
      c.service, c.operation = service, OPERATION[service]
      cases[#cases + 1] = c
    end
    for _, code in ipairs(codes) do
      for _, status in ipairs(STATUSES) do
        local headers, body = answer(service, code, "code", n)
        push{ name = code, status = status, code = code, headers = headers, body = body }
      end
    end
    for _, shape in ipairs{ "empty", "html" } do
      for _, status in ipairs(STATUSES) do
        local headers, body = answer(service, nil, shape, n)
        push{ name = "(" .. shape .. " body)", status = status, headers = headers, body = body }
      end
    end
    local cut = service == "sts" and "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
      or '{"InvitationsCount": 3'
    push{ name = "2xx, cut body", status = 200, headers = { { "x-amzn-requestid", "rid-1" } }, body = cut }
    push{ name = "2xx, HTML body", status = 200, headers = { { "x-amzn-requestid", "rid-1" },
      { "content-type", "text/html" } }, body = HTML }
    for _, t in ipairs(TRANSPORT) do
      push{ name = t.name, err = t.err, raise = t.raise, exception = t.botocore }
    end
  end
  return cases
end

-- The JSON botocore reads: headers as a map.
local function for_python(cases)
  local out = {}
  for i, c in ipairs(cases) do
    local h = {}
    for _, p in ipairs(c.headers or {}) do h[p[1]] = p[2] end
    out[i] = { service = c.service, operation = c.operation, status = c.status, headers = h,
      body = c.body, exception = c.exception }
  end
  return out
end

---------------------------------------------------------------------------------------------
-- invite
---------------------------------------------------------------------------------------------

local CREDS = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }

local function step_of(case)
  if case.raise then error("transport exploded", 0) end
  if case.err then
    local e = { message = case.name }
    for k, v in pairs(case.err) do e[k] = v end
    return nil, e
  end
  local headers = {}
  for i, p in ipairs(case.headers) do headers[i] = { p[1], p[2] } end
  return { status = case.status, headers = headers, body = case.body }
end

-- -> verdict, detail. The verdict comes from what happened (one attempt or two) and must match
-- what the error says.
local function verdict_of(res, err, attempts)
  if res ~= nil then return "no", "succeeded" end
  local flag = err.retryable and (err.throttle and "throttling" or "transient") or "no"
  local did = attempts == 2 and "retried" or "no"
  if (flag == "no") ~= (did == "no") then
    return "inconsistent", ("err.retryable = %s but %d attempt(s)"):format(tostring(err.retryable), attempts)
  end
  return flag, tostring(err.code)
end

local function invite_verdict(case, env)
  local attempts = 0
  if case.service == "sts" then
    local res, err = sts.assume_role_with_web_identity{
      role_arn = "arn:aws:iam::123456789012:role/r", role_session_name = "s", web_identity_token = "t",
      region = "us-east-1", env = env, max_attempts = 2, sleep = function() end,
      http = function()
        attempts = attempts + 1
        return step_of(case)
      end,
    }
    return verdict_of(res, err, attempts)
  end
  local transport = { kind = "scripted" }
  function transport.request()
    attempts = attempts + 1
    return step_of(case)
  end
  local c = invite[case.service].client{
    region = "us-east-1", endpoint = "http://127.0.0.1:1", credentials = CREDS, transport = transport,
    env = env, max_attempts = 2, sleep = function() end, random = function() return 0 end,
  }
  local res, err = c[INVITE_CALL[case.service] or "get_invitations_count"](c, {})
  return verdict_of(res, err, attempts)
end

---------------------------------------------------------------------------------------------

local function deviation_of(case)
  for _, d in ipairs(DEVIATIONS) do
    if d.match(case) then return d end
  end
end

local function docs_section()
  local f = assert(io.open("docs/clients.md", "rb"))
  local text = f:read("*a")
  f:close()
  local from = text:find("\n## Retries: where invite differs from botocore\n", 1, true)
  if not from then return nil end
  local to = text:find("\n## ", from + 1, true)
  return text:sub(from, to or #text)
end

describe("retry classification against botocore's standard mode", function()
  if not PY then
    pending("no python3 with botocore is importable")
    return
  end

  local lists, cases, boto, e
  setup(function()
    e = envh.new{}
    lists = run_probe("lists " .. table.concat(SERVICES, " "))
    cases = build_cases(lists)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(cjson.encode(for_python(cases)))
    f:close()
    boto = run_probe("classify " .. shq(path))
    os.remove(path)
  end)
  teardown(function()
    envh.cleanup()
    if probe_path then os.remove(probe_path) end
  end)

  it("invite's code and status lists are botocore's", function()
    local function set(list)
      local s = {}
      for _, v in ipairs(list) do s[v] = true end
      return s
    end
    assert.are.same(set(lists.throttling), retry.THROTTLING_CODES)
    assert.are.same(set(lists.transient), retry.TRANSIENT_CODES)
    assert.are.same(set(lists.transient_status), retry.TRANSIENT_STATUS)
    -- invite.retry knows no modeled `retryable` trait: none of the five models may carry one
    assert.are.same({}, lists.modeled_retryable)
  end)

  it("classifies every case as botocore does, apart from the documented deviations", function()
    assert.are.equal(#cases, #boto)
    local per = {}
    local used = {}
    local total, agree, documented = 0, 0, 0
    local failures = {}
    for i, case in ipairs(cases) do
      local mine, detail = invite_verdict(case, e.vars)
      local theirs = boto[i].verdict
      -- retry.classify on its own says what the code path did
      local direct
      if case.err then
        direct = retry.classify{ kind = case.err.kind, curl_code = case.err.curl_code }
      elseif case.status and case.status >= 300 then
        direct = retry.classify{ status = case.status, code = case.code, service = case.service }
      end
      if (case.err or (case.status and case.status >= 300)) and (direct or "no") ~= mine then
        failures[#failures + 1] = ("%s %s: retry.classify says %s, the call %s"):format(case.service, case.name,
          tostring(direct), mine)
      end
      local p = per[case.service] or { n = 0, agree = 0, dev = 0, decision = 0, class = 0 }
      per[case.service] = p
      p.n, total = p.n + 1, total + 1
      if mine == theirs then
        p.agree, agree = p.agree + 1, agree + 1
      else
        local d = deviation_of(case)
        if d and d.invite == mine and d.botocore == theirs then
          p.dev, documented = p.dev + 1, documented + 1
          used[d.doc] = true
        else
          if (mine == "no") ~= (theirs == "no") then p.decision = p.decision + 1 else p.class = p.class + 1 end
          failures[#failures + 1] = ("%s %s%s: invite %s (%s), botocore %s (code %s%s)"):format(case.service,
            case.name, case.status and (" HTTP " .. case.status) or "", mine, tostring(detail), theirs,
            tostring(boto[i].code), boto[i].raised and (", parser raised " .. boto[i].raised) or "")
        end
      end
    end
    print(("\n# retry classification: %d cases, %d agree, %d documented deviations (botocore %s)"):format(
      total, agree, documented, PY_VERSION))
    for _, s in ipairs(SERVICES) do
      local p = per[s]
      print(("#   %-11s %d cases, %d agree, %d documented deviations, %d disagree (%d on whether to retry, "
        .. "%d on throttling vs transient)"):format(s, p.n, p.agree, p.dev, p.n - p.agree - p.dev,
        p.decision, p.class))
    end
    assert(#failures == 0, #failures .. " disagreement(s) with botocore:\n" .. table.concat(failures, "\n"))
    -- every documented deviation still happens (else the docs and this table should lose it)
    for _, d in ipairs(DEVIATIONS) do
      assert(used[d.doc], "deviation never seen: " .. d.doc)
    end
  end)

  it("docs/clients.md lists the same deviations", function()
    local section = docs_section()
    assert(section, 'docs/clients.md has no "## Retries: where invite differs from botocore" section')
    for _, d in ipairs(DEVIATIONS) do
      assert(section:find(d.doc, 1, true), "docs section does not mention: " .. d.doc)
    end
  end)
end)
