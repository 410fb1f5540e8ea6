-- invite.sigv4's LuaJIT FFI path against its C binding: every result field equal, the caller's
-- header pairs passed through as the same tables, the same errors and raises, arena growth, one
-- shared key cache. (spec/core/sigv4_spec.lua runs the official suite through sign(), which on LuaJIT
-- takes the FFI path; this spec compares the two paths directly on the options that choose
-- between them.) Under PUC Lua there is no FFI path and only that is checked.
local sigv4 = require "invite.sigv4"

local IS_JIT = type(rawget(_G, "jit")) == "table"
local SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
local HOST = { "Host", "guardduty.us-east-1.amazonaws.com" }
local FIELDS = { "canonical_request", "string_to_sign", "signature", "authorization", "query",
  "signed_headers", "credential_scope", "amz_date" }

local function base(extra)
  local o = {
    method = "POST", path = "/invitation/decline",
    headers = { HOST, { "Content-Type", "application/json" } },
    body = '{"accountIds":["111122223333"]}',
    access_key = "AKIDEXAMPLE", secret_key = SECRET, region = "us-east-1", service = "guardduty",
    time = 1440938160,
  }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- sign(o) on one path: ok, out | ok, nil, err | false, message (raised)
local function on_path(ffi, o)
  sigv4.use_ffi(ffi)
  local r = { pcall(sigv4.sign, o) }
  sigv4.use_ffi(true)
  return r
end

local function same_result(label, a, b)
  assert.equal(a[1], b[1], label .. ": raised on one path only")
  if not a[1] then
    assert.equal(b[2], a[2], label .. ": raise message")
    return
  end
  if a[2] == nil or b[2] == nil then
    assert.is_nil(a[2], label .. ": failed on one path only")
    assert.is_nil(b[2], label .. ": failed on one path only")
    for _, k in ipairs({ "code", "message", "reason", "field", "index", "retryable" }) do
      assert.equal(b[3][k], a[3][k], label .. ": err." .. k)
    end
    assert.equal(tostring(b[3]), tostring(a[3]), label .. ": tostring(err)")
    return
  end
  local x, y = a[2], b[2]
  for _, k in ipairs(FIELDS) do assert.equal(y[k], x[k], label .. ": out." .. k) end
  if y.headers == nil then
    assert.is_nil(x.headers, label .. ": out.headers")
    return
  end
  assert.equal(#y.headers, #x.headers, label .. ": #out.headers")
  for i = 1, #y.headers do
    assert.same(y.headers[i], x.headers[i], label .. ": out.headers[" .. i .. "]")
    -- a pair passed through unchanged is the caller's own table on both paths
    assert.equal(rawequal(y.headers[i], x.headers[i]), y.headers[i] == x.headers[i])
  end
end

local CASES = {
  { "plain POST", base() },
  { "GET, query to re-encode, dot segments", base{ method = "GET", path = "/a/./b/../c//d/",
    query = "b=2&a=%E1%88%B4&c=x y&flag&a=1", body = nil } },
  { "raw space and UTF-8 in the path", base{ path = "/example space/\225\136\180" } },
  { "S3 style path", base{ path = "/a%20b/./c", normalize_path = false, encode_path = false } },
  { "repeated and folded headers, unsigned ones", base{ headers = { HOST, { "X-A", "  v1\n  v2  " },
    { "x-a", "v3" }, { "User-Agent", "invite/0.1" }, { "Expect", "100-continue" },
    { "X-Amz-Date", "stale" }, { "Authorization", "stale" } } } },
  { "folded values, nothing dropped", base{ headers = { HOST, { "X-A", "v1\r\n v2" }, { "X-B", "w1\n\tw2" } } } },
  { "folded value with a session token and sign_body", base{ headers = { HOST, { "X-A", "v1\n v2" } },
    session_token = "T0K", sign_body = true } },
  { "session token", base{ session_token = "TOKEN/abc+=" } },
  { "session token omitted from signing", base{ session_token = "TOKEN/abc+=", omit_session_token = true } },
  { "sign_body", base{ sign_body = true } },
  { "UNSIGNED-PAYLOAD", base{ sign_body = true, payload_hash = "UNSIGNED-PAYLOAD" } },
  { "presign", base{ method = "GET", body = nil, query = "X-Amz-Date=old&z=1", presign = true,
    expires = 86400, session_token = "T0K" } },
  { "fractional time", base{ time = 1440938160.75 } },
  { "verification mode", base{ signed_headers = "content-type;host;x-amz-date",
    headers = { HOST, { "Content-Type", "application/json" }, { "X-Amz-Date", "20150830T123600Z" } },
    amz_date = "20150830T123600Z" } },
  { "presigned verification", base{ method = "GET", body = nil, signed_headers = "host",
    amz_date = "20150830T123600Z", headers = { HOST },
    query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc&X-Amz-SignedHeaders=host" } },
  { "no headers at all", base{ headers = nil } },
  { "empty header list", base{ headers = {} } },
  -- runtime errors: nil, err
  { "bad path", base{ path = "no-slash" } },
  { "control character in a header value", base{ headers = { HOST, { "X-A", "a\0b" } } } },
  { "bad header name", base{ headers = { HOST, { "Bad Name", "v" } } } },
  { "no Host", base{ headers = { { "Content-Type", "application/json" } } } },
  { "expires out of range", base{ presign = true, expires = 604801 } },
  { "expires not an integer", base{ presign = true, expires = 1.5 } },
  { "negative time", base{ time = -1 } },
  { "time NaN", base{ time = 0 / 0 } },
  { "bad access key", base{ access_key = "AK ID" } },
  { "bad region", base{ region = "us east" } },
  { "bad amz_date", base{ signed_headers = "host", amz_date = "2015-08-30" } },
  { "signed header missing", base{ signed_headers = "host;x-missing", amz_date = "20150830T123600Z" } },
  { "too many headers", (function()
    local h = { HOST }
    for i = 1, 300 do h[#h + 1] = { "X-H" .. i, "v" } end
    return base{ headers = h }
  end)() },
  -- what the FFI path leaves to the binding
  { "number header value", base{ headers = { HOST, { "Content-Length", 31 } } } },
  -- misuse: raises naming the field
  { "method missing", base{ method = false } },
  { "path a table", base{ path = {} } },
  { "headers a string", base{ headers = "Host: x" } },
  { "header pair not a table", base{ headers = { HOST, "X-A: b" } } },
  { "header name not a string", base{ headers = { HOST, { 1, "b" } } } },
  { "presign a string", base{ presign = "yes" } },
  { "time a string", base{ time = "1440938160" } },
}

describe("invite.sigv4 FFI path", function()
  if not IS_JIT then
    it("is off under PUC Lua", function()
      assert.is_false(sigv4.ffi_active())
      assert.is_false(sigv4.use_ffi(true))
      assert.equal("dd6d5c74f53db1465edeb9b834d886e7e73d7e61bbb8b760b35b6e446f9b3388", sigv4.sign(base()).signature)
    end)
    return
  end

  it("is on under LuaJIT and can be switched off and on", function()
    assert.is_true(sigv4.ffi_active())
    assert.is_false(sigv4.use_ffi(false))
    assert.is_false(sigv4.ffi_active())
    assert.is_true(sigv4.use_ffi(true))
    assert.is_true(sigv4.ffi_active())
  end)

  it("signs the known GuardDuty request as botocore does", function()
    assert.equal("dd6d5c74f53db1465edeb9b834d886e7e73d7e61bbb8b760b35b6e446f9b3388", sigv4.sign(base()).signature)
  end)

  for _, c in ipairs(CASES) do
    it("gives what the C binding gives: " .. c[1], function()
      same_result(c[1], on_path(true, c[2]), on_path(false, c[2]))
    end)
  end

  it("grows its arena for a large request and shrinks it again", function()
    local big = base{ headers = { HOST, { "X-Big", string.rep("v", 60000) } }, query = string.rep("a=b&", 400) }
    same_result("large", on_path(true, big), on_path(false, big))
    assert.truthy(#sigv4.sign(big).canonical_request > 60000)
    same_result("after the large one", on_path(true, base()), on_path(false, base()))
  end)

  it("shares the binding's signing-key cache", function()
    sigv4.sign(base{ time = 1440938160 + 86400 * 400 })
    local h0, m0 = sigv4.cache_stats()
    sigv4.sign(base{ time = 1440938160 + 86400 * 400 + 1 })
    local h1, m1 = sigv4.cache_stats()
    assert.equal(h0 + 1, h1)
    assert.equal(m0, m1)
  end)

  it("does not keep the caller's strings alive or move under collections", function()
    for i = 1, 200 do
      local o = base{ body = '{"accountIds":["' .. string.format("%012d", i) .. '"]}',
        headers = { { "Host", "guardduty.us-east-1.amazonaws.com" }, { "X-N", tostring(i) } } }
      local a = sigv4.sign(o)
      collectgarbage()
      local b = on_path(false, o)
      assert.equal(b[2].signature, a.signature)
      assert.equal(b[2].canonical_request, a.canonical_request)
    end
  end)
end)

describe("invite.sigv4.sign_headers", function()
  local function check(label, o)
    for _, ffi in ipairs(IS_JIT and { true, false } or { false }) do
      sigv4.use_ffi(ffi)
      local full = { pcall(sigv4.sign, o) }
      local lean = { pcall(sigv4.sign_headers, o) }
      sigv4.use_ffi(true)
      local where = label .. (ffi and " (FFI)" or " (binding)")
      assert.equal(full[1], lean[1], where .. ": raised on one side only")
      if not full[1] then
        local prefix = "^.-invite%.sigv4%.sign[_%w]*: "
        assert.equal(full[2]:gsub(prefix, ""), lean[2]:gsub(prefix, ""))
      elseif full[2] == nil then
        assert.is_nil(lean[2], where)
        assert.equal(tostring(full[3]), tostring(lean[3]), where)
      else
        assert.equal(#full[2].headers, #lean[2], where)
        for i, pair in ipairs(full[2].headers) do
          assert.same(pair, lean[2][i], where .. ": header " .. i)
          if rawequal(pair, o.headers and o.headers[i]) then assert.equal(pair, lean[2][i]) end
        end
      end
    end
  end

  for _, c in ipairs(CASES) do
    local o = c[2]
    if not o.presign and o.signed_headers == nil then
      it("gives sign()'s headers: " .. c[1], function() check(c[1], o) end)
    end
  end

  it("refuses presign and verification (they have no headers to send)", function()
    assert.has_error(function() sigv4.sign_headers(base{ presign = true }) end,
      "invite.sigv4.sign_headers: presign and signed_headers need sign()")
    assert.has_error(function() sigv4.sign_headers(base{ signed_headers = "host" }) end,
      "invite.sigv4.sign_headers: presign and signed_headers need sign()")
    assert.has_error(function() sigv4.sign_headers("x") end,
      "invite.sigv4.sign_headers: expected a table of options (got string)")
  end)
end)
