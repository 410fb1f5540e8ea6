-- invite.sigv4 against the official SigV4 test suite (spec/fixtures/sigv4: every case, header and
-- query variants, byte for byte), botocore, and its own contract: session tokens, sign_body, the
-- key cache, verification mode, bad input, and that no secret ever reaches an error.
local sigv4 = require "invite.sigv4"
local cjson = require "cjson"

local FIXTURES = "spec/fixtures/sigv4"
local PYTHON = "/usr/bin/python3"
-- children run without LD_PRELOAD (the ASan run preloads libasan into this process)
local CLEAN = "exec env -u LD_PRELOAD "

local SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

-- plain assert returning one value (busted's assert is luassert's)
local function must(v, err)
  if not v then error(tostring(err), 2) end
  return v
end

local function readfile(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function capture(cmd)
  local f = must(io.popen(CLEAN .. cmd, "r"))
  local out = f:read("*a")
  f:close()
  return out
end

local function case_names()
  local names = {}
  local p = must(io.popen("ls -1 " .. FIXTURES, "r"))
  for line in p:lines() do
    if readfile(FIXTURES .. "/" .. line .. "/request.txt") then names[#names + 1] = line end
  end
  p:close()
  table.sort(names)
  return names
end

-- seconds since the epoch of a UTC civil time (no os.time: it is local time)
local function timegm(y, mo, d, h, mi, s)
  if mo <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (mo + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + h * 3600 + mi * 60 + s
end

local function parse_timestamp(ts)
  local y, mo, d, h, mi, s = ts:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)Z$")
  return timegm(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s))
end

-- request.txt: the request line taken literally (method, target, version split at the first and
-- last space: the target may hold a raw space or raw UTF-8), then Name:value lines where a line
-- starting with a space or tab continues the previous value (kept as a fold), a blank line and
-- the body.
local function parse_request(text)
  local head, body = text, ""
  local sep = text:find("\n\n", 1, true)
  if sep then head, body = text:sub(1, sep - 1), text:sub(sep + 2) end
  local lines = {}
  for line in (head .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local rl = lines[1]
  local first = rl:find(" ", 1, true)
  local last = #rl - (rl:reverse():find(" ", 1, true)) + 1
  local method, target = rl:sub(1, first - 1), rl:sub(first + 1, last - 1)
  local path, query = target, ""
  local q = target:find("?", 1, true)
  if q then path, query = target:sub(1, q - 1), target:sub(q + 1) end
  local headers = {}
  for i = 2, #lines do
    local line = lines[i]
    if line:find("^[ \t]") then
      local h = headers[#headers]
      h[2] = h[2] .. "\n" .. line
    elseif line ~= "" then
      local colon = must(line:find(":", 1, true), "header line without ':'")
      headers[#headers + 1] = { line:sub(1, colon - 1), line:sub(colon + 1) }
    end
  end
  return { method = method, path = path, query = query, headers = headers, body = body }
end

local function load_case(name)
  local dir = FIXTURES .. "/" .. name .. "/"
  local ctx = cjson.decode(must(readfile(dir .. "context.json")))
  local req = parse_request(must(readfile(dir .. "request.txt")))
  local function expected(variant)
    return {
      canonical_request = must(readfile(dir .. variant .. "-canonical-request.txt")),
      string_to_sign = must(readfile(dir .. variant .. "-string-to-sign.txt")),
      signature = must(readfile(dir .. variant .. "-signature.txt")),
      signed_request = must(readfile(dir .. variant .. "-signed-request.txt")),
    }
  end
  return ctx, req, expected("header"), expected("query")
end

local function opts_for(ctx, req, presign)
  return {
    method = req.method, path = req.path, query = req.query, headers = req.headers, body = req.body,
    access_key = ctx.credentials.access_key_id, secret_key = ctx.credentials.secret_access_key,
    session_token = ctx.credentials.token,
    region = ctx.region, service = ctx.service, time = parse_timestamp(ctx.timestamp),
    normalize_path = ctx.normalize, sign_body = ctx.sign_body,
    omit_session_token = ctx.omit_session_token == true,
    presign = presign, expires = ctx.expiration_in_seconds,
  }
end

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- "a=1&b=2" -> { a = "1", b = "2" }, keys and values as sent (raw) or percent-decoded
local function query_set(q, decode)
  local t = {}
  for piece in (q .. "&"):gmatch("([^&]*)&") do
    if piece ~= "" then
      local k, v = piece:match("^([^=]*)=?(.*)$")
      if decode then k, v = unescape(k), unescape(v) end
      t[k] = v
    end
  end
  return t
end

local function header_value(headers, name)
  local found
  for _, h in ipairs(headers) do
    if h[1]:lower() == name then
      must(found == nil, "header " .. name .. " appears twice")
      found = h[2]
    end
  end
  return found
end

local CASES = case_names()
local passed = 0

describe("SigV4 test suite", function()
  it("has 38 cases", function()
    assert.equal(38, #CASES)
  end)

  for _, name in ipairs(CASES) do
    it(name .. " (header)", function()
      local ctx, req, exp = load_case(name)
      local out, err = sigv4.sign(opts_for(ctx, req, false))
      assert.is_nil(err)
      assert.equal(exp.canonical_request, out.canonical_request)
      assert.equal(exp.string_to_sign, out.string_to_sign)
      assert.equal(exp.signature, out.signature)
      -- the signed request's Authorization line and added headers match too
      local auth = exp.signed_request:match("\nAuthorization:([^\n]*)")
      assert.equal(auth, out.authorization)
      assert.equal(auth, header_value(out.headers, "authorization"))
      assert.equal("20150830T123600Z", header_value(out.headers, "x-amz-date"))
      assert.equal(exp.signed_request:match("\n[Xx]%-[Aa]mz%-[Ss]ecurity%-[Tt]oken:([^\n]*)"),
        header_value(out.headers, "x-amz-security-token"))
      assert.equal(exp.signed_request:match("\n[Xx]%-[Aa]mz%-[Cc]ontent%-[Ss]ha256:([^\n]*)"),
        header_value(out.headers, "x-amz-content-sha256"))
      passed = passed + 1
    end)

    it(name .. " (query)", function()
      local ctx, req, _, exp = load_case(name)
      local out, err = sigv4.sign(opts_for(ctx, req, true))
      assert.is_nil(err)
      assert.equal(exp.canonical_request, out.canonical_request)
      assert.equal(exp.string_to_sign, out.string_to_sign)
      assert.equal(exp.signature, out.signature)
      assert.is_nil(out.authorization)
      assert.is_nil(header_value(out.headers, "x-amz-date"))
      assert.is_nil(header_value(out.headers, "authorization"))
      -- the presigned query has the same parameters as the suite's signed request line
      local line = exp.signed_request:match("^[^\n]*")
      local target = line:match("^%S+ (.*) HTTP/1%.1$")
      assert.same(query_set(target:match("%?(.*)$"), true), query_set(out.query, true))
      passed = passed + 1
    end)
  end

  it("passed all 76 variants (38 cases x 2)", function()
    print(("\n# SigV4 suite: %d of %d variants passed byte for byte"):format(passed, 2 * #CASES))
    assert.equal(76, passed)
  end)
end)

-- A GuardDuty DeclineInvitations request, as the clients send it.
local GD_BODY = '{"accountIds":["111122223333"]}'
local function gd(extra)
  local o = {
    method = "POST", path = "/invitation/decline",
    headers = { { "Host", "guardduty.us-east-1.amazonaws.com" }, { "Content-Type", "application/json" } },
    body = GD_BODY, access_key = "AKIDEXAMPLE", secret_key = SECRET,
    region = "us-east-1", service = "guardduty", time = 1440938160,
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

describe("invite.sigv4 against botocore", function()
  local function botocore_auth(token)
    local has = capture(PYTHON .. " -c 'import botocore.auth; print(\"yes\")' 2>/dev/null")
    if not has:find("yes") then return nil end
    local script = os.tmpname()
    local f = must(io.open(script, "w"))
    f:write([[
import datetime, sys
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

class Fixed(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return cls(2015, 8, 30, 12, 36, 0)

botocore.auth.datetime.datetime = Fixed
token = sys.argv[1] if len(sys.argv) > 1 else None
req = AWSRequest(method="POST", url="https://guardduty.us-east-1.amazonaws.com/invitation/decline",
                 data=b'{"accountIds":["111122223333"]}', headers={"Content-Type": "application/json"})
creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
botocore.auth.SigV4Auth(creds, "guardduty", "us-east-1").add_auth(req)
print(req.headers["Authorization"])
print(req.headers.get("X-Amz-Security-Token", ""))
]])
    f:close()
    local out = capture(PYTHON .. " " .. script .. (token and (" " .. token) or "") .. " 2>&1")
    os.remove(script)
    return out
  end

  for _, token in ipairs({ false, "FwoGZXIvYXdzEXAMPLETOKEN+/=" }) do
    it("signs GuardDuty DeclineInvitations like botocore.auth.SigV4Auth"
        .. (token and " (with a session token)" or ""), function()
      local py = botocore_auth(token or nil)
      if not py then
        pending("/usr/bin/python3 has no botocore: install python3-botocore to run this comparison")
        return
      end
      local auth, tok = py:match("^([^\n]*)\n([^\n]*)")
      assert.truthy(auth and auth:find("^AWS4%-HMAC%-SHA256 "), "botocore output: " .. py)
      local out = must(sigv4.sign(gd({ session_token = token or nil })))
      assert.equal(auth, out.authorization)
      assert.equal(tok ~= "" and tok or nil, header_value(out.headers, "x-amz-security-token"))
    end)
  end
end)

describe("invite.sigv4.sign", function()
  it("returns the headers to send: the input's, then X-Amz-Date and Authorization", function()
    local o = gd()
    local out = must(sigv4.sign(o))
    -- unchanged headers are the caller's own pairs, untouched
    assert.equal(o.headers[1], out.headers[1])
    assert.equal(o.headers[2], out.headers[2])
    assert.same({ "Host", "guardduty.us-east-1.amazonaws.com" }, out.headers[1])
    assert.same({ "Content-Type", "application/json" }, out.headers[2])
    assert.same({ "X-Amz-Date", "20150830T123600Z" }, out.headers[3])
    assert.same({ "Authorization", out.authorization }, out.headers[4])
    assert.equal(4, #out.headers)
    assert.equal("content-type;host;x-amz-date", out.signed_headers)
    assert.equal("20150830/us-east-1/guardduty/aws4_request", out.credential_scope)
    assert.equal("20150830T123600Z", out.amz_date)
    assert.equal(sigv4.sha256_hex(GD_BODY), out.canonical_request:match("[^\n]*$"))
    assert.equal("", out.query)
    assert.truthy(out.authorization:find("Signature=" .. out.signature, 1, true))
  end)

  it("signs a session token as X-Amz-Security-Token", function()
    local out = must(sigv4.sign(gd({ session_token = "TOKEN/abc+=" })))
    assert.equal("content-type;host;x-amz-date;x-amz-security-token", out.signed_headers)
    assert.equal("TOKEN/abc+=", header_value(out.headers, "x-amz-security-token"))
    assert.truthy(out.canonical_request:find("\nx-amz-security-token:TOKEN/abc+=\n", 1, true))
    local plain = must(sigv4.sign(gd()))
    assert.are_not.equal(plain.signature, out.signature)
  end)

  it("omit_session_token signs without the token and adds it after", function()
    local out = must(sigv4.sign(gd({ session_token = "TOKEN/abc+=", omit_session_token = true })))
    local plain = must(sigv4.sign(gd()))
    assert.equal(plain.signature, out.signature)
    assert.equal("content-type;host;x-amz-date", out.signed_headers)
    assert.equal("TOKEN/abc+=", header_value(out.headers, "x-amz-security-token"))
    local pre = must(sigv4.sign(gd({ session_token = "TOKEN/abc+=", omit_session_token = true, presign = true })))
    assert.is_nil(pre.canonical_request:find("Security-Token", 1, true))
    assert.equal("TOKEN%2Fabc%2B%3D", query_set(pre.query)["X-Amz-Security-Token"])
  end)

  it("sign_body adds and signs x-amz-content-sha256", function()
    local out = must(sigv4.sign(gd({ sign_body = true })))
    assert.equal("content-type;host;x-amz-content-sha256;x-amz-date", out.signed_headers)
    assert.equal(sigv4.sha256_hex(GD_BODY), header_value(out.headers, "x-amz-content-sha256"))
    local unsigned = must(sigv4.sign(gd({ sign_body = true, payload_hash = "UNSIGNED-PAYLOAD" })))
    assert.equal("UNSIGNED-PAYLOAD", header_value(unsigned.headers, "x-amz-content-sha256"))
    assert.equal("UNSIGNED-PAYLOAD", unsigned.canonical_request:match("[^\n]*$"))
  end)

  it("re-signing a signed header list replaces Authorization and X-Amz-Date", function()
    local first = must(sigv4.sign(gd({ session_token = "T1" })))
    local again = must(sigv4.sign(gd({ headers = first.headers, time = 1440938160 + 60, session_token = "T2" })))
    assert.equal(1, #(function()
      local n = {}
      for _, h in ipairs(again.headers) do if h[1]:lower() == "authorization" then n[#n + 1] = h end end
      return n
    end)())
    assert.equal("20150830T123700Z", header_value(again.headers, "x-amz-date"))
    assert.equal("T2", header_value(again.headers, "x-amz-security-token"))
    assert.equal(5, #again.headers)
  end)

  it("sends but does not sign User-Agent, Expect and X-Amzn-Trace-Id (as botocore)", function()
    local h = { { "Host", "h.example" }, { "User-Agent", "invite/0.1" }, { "Expect", "100-continue" },
      { "X-Amzn-Trace-Id", "Root=1" } }
    local out = must(sigv4.sign(gd({ headers = h })))
    assert.equal("host;x-amz-date", out.signed_headers)
    assert.equal("invite/0.1", header_value(out.headers, "user-agent"))
  end)

  it("unfolds folded values in the headers it returns, and signs them collapsed", function()
    local out = must(sigv4.sign(gd({ headers = { { "Host", "h.example" }, { "X-A", " v1\r\n  v2\n\tv3 " } } })))
    assert.equal(" v1 v2 v3 ", header_value(out.headers, "x-a"))
    assert.truthy(out.canonical_request:find("\nx-a:v1 v2 v3\n", 1, true))
  end)

  it("encodes the wire path again, keeps unreserved characters, and normalises it", function()
    local out = must(sigv4.sign(gd({ path = "/a%20b/./c//d/../e~f" })))
    assert.equal("/a%2520b/c/e~f", out.canonical_request:match("^[^\n]*\n([^\n]*)"))
    out = must(sigv4.sign(gd({ path = "/a%20b/./c", normalize_path = false })))
    assert.equal("/a%2520b/./c", out.canonical_request:match("^[^\n]*\n([^\n]*)"))
    out = must(sigv4.sign(gd({ path = "/a%20b/./c", normalize_path = false, encode_path = false })))
    assert.equal("/a%20b/./c", out.canonical_request:match("^[^\n]*\n([^\n]*)"))
    local o = gd()
    o.path = nil
    out = must(sigv4.sign(o))
    assert.equal("/", out.canonical_request:match("^[^\n]*\n([^\n]*)"))
  end)

  it("canonicalises the query: decoded, re-encoded, sorted by key then value", function()
    local out = must(sigv4.sign(gd({ query = "b=2&a=%7e+x&a=1&&flag&c=%zz&e=" })))
    -- %7e is '~' (unreserved, so kept), '+' is a literal plus, "%zz" is not an escape
    assert.equal("a=1&a=~%2Bx&b=2&c=%25zz&e=&flag=", out.canonical_request:match("^[^\n]*\n[^\n]*\n([^\n]*)"))
    -- header signing sends the query as given
    assert.equal("b=2&a=%7e+x&a=1&&flag&c=%zz&e=", out.query)
  end)

  it("signs large requests (the output arena grows and shrinks back)", function()
    local big = ("v"):rep(60000)
    local o = gd({ headers = { { "Host", "h.example" }, { "X-Big", big } }, query = ("k=%E1%88%B4&"):rep(400) })
    local a = must(sigv4.sign(o))
    assert.truthy(#a.canonical_request > 60000 + 400 * 12)
    local small = must(sigv4.sign(gd()))
    local b = must(sigv4.sign(o))
    assert.equal(a.signature, b.signature)
    assert.equal(small.signature, must(sigv4.sign(gd())).signature)
  end)

  it("presigns with the auth parameters in the canonical query", function()
    local out = must(sigv4.sign(gd({ presign = true, expires = 60, query = "z=1" })))
    local q = query_set(out.query)
    assert.equal("AWS4-HMAC-SHA256", q["X-Amz-Algorithm"])
    assert.equal("AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fguardduty%2Faws4_request", q["X-Amz-Credential"])
    assert.equal("60", q["X-Amz-Expires"])
    assert.equal("content-type%3Bhost", q["X-Amz-SignedHeaders"])
    assert.equal(out.signature, q["X-Amz-Signature"])
    assert.equal("1", q.z)
    assert.truthy(out.query:find("&X%-Amz%-Signature=%x+$"))
  end)

  it("recomputes a received request's signature (verification mode)", function()
    local signed = must(sigv4.sign(gd({ session_token = "TOK", headers = {
      { "Host", "guardduty.us-east-1.amazonaws.com" }, { "Content-Type", "application/json" },
      { "User-Agent", "x" } } })))
    local info = must(sigv4.parse_authorization(header_value(signed.headers, "authorization")))
    assert.equal("AKIDEXAMPLE", info.access_key)
    assert.equal("guardduty", info.service)
    assert.equal("content-type;host;x-amz-date;x-amz-security-token", info.signed_headers)
    local function check(body, secret)
      return sigv4.check_signature({
        method = "POST", path = "/invitation/decline", headers = signed.headers, body = body,
        access_key = info.access_key, secret_key = secret or SECRET, region = info.region,
        service = info.service, signed_headers = info.signed_headers,
        amz_date = header_value(signed.headers, "x-amz-date"),
      }, info.signature)
    end
    assert.is_true((check(GD_BODY)))
    assert.is_false((check(GD_BODY .. " ")))
    assert.is_false((check(GD_BODY, "other-secret")))
    -- a listed header the request lacks is an error, not a mismatch
    local ok, err = sigv4.check_signature({ method = "GET", headers = { { "Host", "h" } },
      access_key = "AK", secret_key = "s", region = "r", service = "s",
      signed_headers = "host;x-amz-date", amz_date = "20150830T123600Z" }, info.signature)
    assert.is_nil(ok)
    assert.equal("missing_signed_header", err.reason)
    -- a presigned URL verifies with its own X-Amz-* parameters
    local pre = must(sigv4.sign(gd({ presign = true })))
    local q = query_set(pre.query)
    assert.is_true((sigv4.check_signature({
      method = "POST", path = "/invitation/decline", query = pre.query, headers = pre.headers, body = GD_BODY,
      access_key = "AKIDEXAMPLE", secret_key = SECRET, region = "us-east-1", service = "guardduty",
      signed_headers = q["X-Amz-SignedHeaders"]:gsub("%%3B", ";"), amz_date = q["X-Amz-Date"],
    }, q["X-Amz-Signature"])))
  end)

  it("parse_authorization rejects malformed headers", function()
    local _, err = sigv4.parse_authorization("AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request")
    assert.equal("IncompleteSignatureException", err.code)
    assert.truthy(tostring(err):find("Signature", 1, true))
    assert.is_nil((sigv4.parse_authorization("Basic abc")))
    assert.is_nil((sigv4.parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AK/2015/r/s/aws4_request, SignedHeaders=host, Signature=ab")))
    assert.has_error(function() sigv4.parse_authorization(nil) end)
  end)
end)

describe("the signing-key cache", function()
  local base = { time = 1440938160, secret_key = SECRET, region = "us-east-1", service = "guardduty" }
  local variants = {
    {},
    { secret_key = SECRET .. "x" },
    { secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ" }, -- same length, last byte differs
    { time = 1440938160 + 86400 },                                -- next day
    { region = "eu-west-1" },
    { service = "macie2" },
  }
  local function opts(v)
    local o = gd()
    for k, x in pairs(base) do o[k] = x end
    for k, x in pairs(v) do o[k] = x end
    -- keep the request identical so only the key can change the signature
    o.headers = { { "Host", "h.example" } }
    return o
  end

  it("gives a different signature for each secret, date, region and service", function()
    local seen = {}
    for i, v in ipairs(variants) do
      local out = must(sigv4.sign(opts(v)))
      assert.is_nil(seen[out.signature], "variant " .. i .. " reused another key")
      seen[out.signature] = i
    end
  end)

  it("returns the same signature after a key was evicted and derived again", function()
    local first = {}
    for round = 1, 3 do -- six keys through four slots: every round evicts
      for i, v in ipairs(variants) do
        local out = must(sigv4.sign(opts(v)))
        if round == 1 then first[i] = out.signature else assert.equal(first[i], out.signature) end
      end
    end
  end)

  it("hits the cache for repeated signatures with one key", function()
    must(sigv4.sign(opts({})))
    local h0, m0 = sigv4.cache_stats()
    for _ = 1, 10 do must(sigv4.sign(opts({ time = 1440938160 + 3600 }))) end -- same day: same key
    local h1, m1 = sigv4.cache_stats()
    assert.equal(10, h1 - h0)
    assert.equal(0, m1 - m0)
    must(sigv4.sign(opts({ region = "ap-south-2" })))
    local h2, m2 = sigv4.cache_stats()
    assert.equal(h1, h2)
    assert.equal(m1 + 1, m2)
  end)
end)

describe("bad input", function()
  local TOKEN = "SESSIONTOKENSECRETVALUE0123456789"
  local function with(extra)
    local o = gd({ secret_key = "SECRETKEYVALUE/do-not-print+0123456789", session_token = TOKEN })
    for k, v in pairs(extra) do o[k] = v end
    return o
  end
  local runtime = {
    { "relative path", { path = "invitation" }, "invalid_path", "path" },
    { "query in the path", { path = "/a?b=1" }, "invalid_path", "path" },
    { "CR LF in the path", { path = "/a\r\nX: y" }, "invalid_path", "path" },
    { "fragment in the query", { query = "a=1#x" }, "invalid_query", "query" },
    { "empty method", { method = "" }, "invalid_method", "method" },
    { "method with a space", { method = "GET /" }, "invalid_method", "method" },
    { "header injection", { headers = { { "Host", "h" }, { "X-A", "v\r\nX-Evil: 1" } } }, "invalid_header_value",
      "headers", 2 },
    { "NUL in a value", { headers = { { "Host", "h\0" } } }, "invalid_header_value", "headers", 1 },
    { "bad header name", { headers = { { "Host", "h" }, { "Bad Name", "v" } } }, "invalid_header_name", "headers", 2 },
    { "empty header name", { headers = { { "", "v" } } }, "invalid_header_name", "headers", 1 },
    { "no Host header", { headers = { { "Content-Type", "x" } } }, "missing_host", "headers" },
    { "no headers", { headers = {} }, "missing_host", "headers" },
    { "empty access key", { access_key = "" }, "invalid_access_key", "access_key" },
    { "access key with a comma", { access_key = "AK,ID" }, "invalid_access_key", "access_key" },
    { "empty secret key", { secret_key = "" }, "invalid_secret_key", "secret_key" },
    { "secret key too long", { secret_key = ("s"):rep(257) }, "too_large", "secret_key" },
    { "token with a newline", { session_token = "abc\ndef" .. TOKEN }, "invalid_session_token", "session_token" },
    { "empty region", { region = "" }, "invalid_region", "region" },
    { "region with a slash", { region = "us/east" }, "invalid_region", "region" },
    { "service with a space", { service = "guard duty" }, "invalid_service", "service" },
    { "negative time", { time = -1 }, "invalid_time", "time" },
    { "time after 9999", { time = 1e15 }, "invalid_time", "time" },
    { "NaN time", { time = 0 / 0 }, "invalid_time", "time" },
    { "expires 0", { presign = true, expires = 0 }, "invalid_expires", "expires" },
    { "expires over 7 days", { presign = true, expires = 604801 }, "invalid_expires", "expires" },
    { "bad amz_date", { amz_date = "2015-08-30" }, "invalid_amz_date", "amz_date" },
    { "bad payload hash", { payload_hash = "a b" }, "invalid_payload_hash", "payload_hash" },
    { "unsorted signed headers", { signed_headers = "x-amz-date;host" }, "invalid_signed_headers", "signed_headers" },
    { "empty signed headers", { signed_headers = "" }, "invalid_signed_headers", "signed_headers" },
    { "too many headers", { headers = (function()
      local t = { { "Host", "h" } }
      for i = 2, 257 do t[i] = { "X-H" .. i, "v" } end
      return t
    end)() }, "too_large", "headers" },
    { "header value over 64 KiB", { headers = { { "Host", ("h"):rep(65537) } } }, "too_large", "headers", 1 },
    { "path over 32 KiB", { path = "/" .. ("p"):rep(32768) }, "too_large", "path" },
    { "too many query parameters", { query = ("a=1&"):rep(513) }, "too_large", "query" },
  }

  local messages = {}

  for _, c in ipairs(runtime) do
    it("returns nil, err for " .. c[1], function()
      local out, err = sigv4.sign(with(c[2]))
      assert.is_nil(out)
      assert.equal("table", type(err))
      assert.equal("ValidationError", err.code)
      assert.equal(c[3], err.reason)
      assert.equal(c[4], err.field)
      if c[5] then assert.equal(c[5], err.index) end
      assert.is_false(err.retryable)
      assert.equal("string", type(err.message))
      local line = tostring(err)
      assert.truthy(line:find("^ValidationError: sigv4: "))
      assert.is_nil(line:find("\n", 1, true))
      messages[#messages + 1] = line
      for _, v in pairs(err) do messages[#messages + 1] = tostring(v) end
    end)
  end

  local misuse = {
    { "opts not a table", nil, "expected a table" },
    { "method not a string", { method = 1 }, "'method'" },
    { "method missing", { method = false }, "'method'" },
    { "secret_key missing", { secret_key = false }, "'secret_key'" },
    { "headers a string", { headers = "Host: x" }, "'headers'" },
    { "a header not a pair", { headers = { "Host: x" } }, "headers[1]" },
    { "a header name not a string", { headers = { { 1, "x" } } }, "headers[1][1]" },
    { "a header value missing", { headers = { { "Host" } } }, "headers[1][2]" },
    { "presign not a boolean", { presign = "yes" }, "'presign'" },
    { "time not a number", { time = "now" }, "'time'" },
    { "expires not a number", { expires = "1h" }, "'expires'" },
    { "body not a string", { body = {} }, "'body'" },
  }
  for _, c in ipairs(misuse) do
    it("raises for " .. c[1], function()
      local o
      if c[2] then
        o = with({})
        for k, v in pairs(c[2]) do
          if v == false then o[k] = nil else o[k] = v end
        end
      end
      local ok, e = pcall(sigv4.sign, o)
      assert.is_false(ok)
      assert.truthy(tostring(e):find(c[3], 1, true), tostring(e))
      messages[#messages + 1] = tostring(e)
    end)
  end

  it("never puts the secret key or session token in an error", function()
    assert.is_true(#messages > #runtime)
    for _, m in ipairs(messages) do
      assert.is_nil(m:find("SECRETKEYVALUE", 1, true), m)
      assert.is_nil(m:find("do-not-print", 1, true), m)
      assert.is_nil(m:find("SESSIONTOKENSECRET", 1, true), m)
      assert.is_nil(m:find("X-Evil", 1, true), m) -- header values are not echoed either
    end
  end)

  it("accepts a header value given as a number", function()
    local out = must(sigv4.sign(gd({ headers = { { "Host", "h" }, { "Content-Length", 31 } } })))
    assert.truthy(out.canonical_request:find("\ncontent-length:31\n", 1, true))
    assert.equal("31", header_value(out.headers, "content-length"))
  end)
end)
