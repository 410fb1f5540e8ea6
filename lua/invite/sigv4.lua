--- AWS Signature Version 4 (AWS4-HMAC-SHA256) for any AWS service, signed in C (OpenSSL).
--
--     local sigv4 = require "invite.sigv4"
--     local out, err = sigv4.sign{
--       method = "POST", path = "/invitation/decline", query = "a=1&b=2",  -- as on the wire
--       headers = { {"Host", "guardduty.us-east-1.amazonaws.com"}, {"Content-Type", "application/json"} },
--       body = '{"accountIds":["111122223333"]}',
--       access_key = "AKID...", secret_key = "...", session_token = nil,
--       region = "us-east-1", service = "guardduty",
--     }
--
-- Header signing signs every header given except User-Agent, Expect and X-Amzn-Trace-Id
-- (sent, not signed, as botocore does: proxies rewrite them).
--
-- Misuse (a field of the wrong type, a missing required field) raises an error naming the
-- field. Runtime failures (a value the signer refuses: bad path, bad header, too large...)
-- return `nil, err`: `err.code` "ValidationError" (or "SignerError" for an OpenSSL failure),
-- `err.message`, `err.reason` (e.g. "invalid_path"), `err.field`, `err.index` (headers), and
-- `err.retryable = false`; `tostring(err)` is one line. No error ever contains a secret key,
-- session token or header value.
--
-- The derived signing key is cached per (secret, date, region, service) inside the signer.
-- @module invite.sigv4
local core = require "invite.core"

local type, tostring, setmetatable, ipairs, error = type, tostring, setmetatable, ipairs, error
local find, sub, lower, gsub = string.find, string.sub, string.lower, string.gsub
local concat = table.concat

local _M = { _VERSION = "0.1.0" }

--- The algorithm name, "AWS4-HMAC-SHA256".
_M.ALGORITHM = "AWS4-HMAC-SHA256"

local c_sign = core.sigv4_sign

-- The fields are read here and handed to C as arguments: field access is cheap in the Lua VM
-- (and honours __index), the C side checks every type and raises naming the field.

--- Signs one request.
-- @tparam table o the request and the keys:
-- @tparam string o.method HTTP method (required)
-- @tparam[opt="/"] string o.path wire path, already URI-encoded; sent byte for byte as given
-- @tparam[opt=""] string o.query wire query string without `?`
-- @tparam table o.headers list of `{name, value}` pairs (repeated names are legal); a Host header is required
-- @tparam[opt=""] string o.body request body (hashed)
-- @tparam string o.access_key access key ID (required)
-- @tparam string o.secret_key secret access key (required)
-- @tparam[opt] string o.session_token signed as X-Amz-Security-Token
-- @tparam[opt=false] boolean o.omit_session_token true: sign without the token, then add it unsigned
-- @tparam string o.region region of the credential scope (required)
-- @tparam string o.service signing name of the service (required)
-- @tparam[opt=now] number o.time seconds since the epoch (fractions dropped)
-- @tparam[opt=true] boolean o.normalize_path false for S3: keep `.` and `..` segments and `//`
-- @tparam[opt=true] boolean o.encode_path false for S3: the path is used as is (not encoded a second time)
-- @tparam[opt=false] boolean o.presign true: the signature goes into the query string (`out.query`)
-- @tparam[opt=3600] number o.expires presigned URL lifetime, 1..604800 seconds
-- @tparam[opt=false] boolean o.sign_body true: add and sign x-amz-content-sha256 (header signing)
-- @tparam[opt] string o.payload_hash use this instead of hashing body (e.g. "UNSIGNED-PAYLOAD")
-- @tparam[opt] string o.signed_headers verification of a received request (nothing is added or
--   dropped): its SignedHeaders list, e.g. "host;x-amz-date"
-- @tparam[opt] string o.amz_date verification: the request's X-Amz-Date, e.g. "20150830T123600Z"
--   (instead of time)
-- @treturn table `out`: `canonical_request`, `string_to_sign`, `signature` (64 hex),
--   `signed_headers`, `credential_scope`, `amz_date`; `authorization` (header signing: the
--   Authorization header value); `headers`, the full list of pairs to send: the input headers
--   (minus Authorization, X-Amz-Date and any the signer replaces; folded values unfolded), then
--   X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-Sha256 and Authorization as they apply
--   (presigned: the input headers only; a header passed through unchanged is your own pair table,
--   never modified); `query`, the query string to send (the presigned one, with X-Amz-Signature,
--   when presigning, else the query as given)
-- @return[2] nil
-- @return[2] err (`code` ValidationError or SignerError, `message`, `reason`, `field`, `index`)
-- @raise when a field has the wrong type or a required one is missing
function _M.sign(o)
  if type(o) ~= "table" then
    error("invite.sigv4.sign: expected a table of options (got " .. type(o) .. ")", 2)
  end
  local creq, sts, sig, auth, headers, query, signed, scope, date = c_sign(o.method, o.path, o.query,
    o.headers, o.body, o.access_key, o.secret_key, o.session_token, o.region, o.service, o.time,
    o.normalize_path, o.encode_path, o.presign, o.expires, o.omit_session_token, o.sign_body,
    o.payload_hash, o.amz_date, o.signed_headers)
  if not creq then return nil, sts end
  return {
    canonical_request = creq, string_to_sign = sts, signature = sig, authorization = auth,
    headers = headers, query = query, signed_headers = signed, credential_scope = scope, amz_date = date,
  }
end

--- SHA-256 of a string as 64 lowercase hex digits (e.g. to check x-amz-content-sha256).
-- @function sha256_hex
-- @tparam string s
-- @treturn string
_M.sha256_hex = core.sigv4_sha256_hex

--- Compares two strings in time independent of their content (compare signatures with it).
-- @function equal
-- @tparam string a
-- @tparam string b
-- @treturn boolean
_M.equal = core.sigv4_equal

--- Hits and misses of the signing-key cache.
-- @function cache_stats
-- @treturn int hits
-- @treturn int misses
_M.cache_stats = core.sigv4_cache_stats

local err_mt = {
  __tostring = function(e) return tostring(e.code) .. ": " .. tostring(e.message) end,
}

local function fail(message)
  return nil, setmetatable({ code = "IncompleteSignatureException", message = message, status = 400,
    retryable = false }, err_mt)
end

local function trim(s)
  return (gsub(s, "^%s+", ""):gsub("%s+$", ""))
end

--- Parses a SigV4 Authorization header value, e.g.
-- `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
-- SignedHeaders=host;x-amz-date, Signature=<hex>`.
-- @tparam string value the header value
-- @treturn table info: `algorithm`, `access_key`, `date`, `region`, `service`,
--   `credential_scope`, `signed_headers`, `signature`
-- @return[2] nil
-- @return[2] err with code IncompleteSignatureException (malformed header)
-- @raise when value is not a string
function _M.parse_authorization(value)
  if type(value) ~= "string" then
    error("invite.sigv4.parse_authorization: expected a string (got " .. type(value) .. ")", 2)
  end
  local sp = find(value, " ", 1, true)
  if not sp then return fail("Authorization header is not a SigV4 header: no credentials part") end
  local algorithm = sub(value, 1, sp - 1)
  if algorithm ~= _M.ALGORITHM then
    return fail("Unsupported authorization algorithm (expected " .. _M.ALGORITHM .. ")")
  end
  local parts = {}
  for item in (sub(value, sp + 1) .. ","):gmatch("([^,]*),") do
    item = trim(item)
    local eq = find(item, "=", 1, true)
    if eq then parts[sub(item, 1, eq - 1)] = sub(item, eq + 1) end
  end
  local missing = {}
  for _, k in ipairs({ "Credential", "SignedHeaders", "Signature" }) do
    if not parts[k] or parts[k] == "" then
      missing[#missing + 1] = "Authorization header requires '" .. k .. "' parameter."
    end
  end
  if #missing > 0 then return fail(concat(missing, " ")) end
  local c = {}
  for p in (parts.Credential .. "/"):gmatch("([^/]*)/") do c[#c + 1] = p end
  if #c ~= 5 or c[1] == "" or c[3] == "" or c[4] == "" or c[5] ~= "aws4_request"
      or not find(c[2], "^%d%d%d%d%d%d%d%d$") then
    return fail("Credential should be <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request")
  end
  if not find(parts.Signature, "^%x+$") then return fail("Signature must be hexadecimal") end
  return {
    algorithm = algorithm,
    access_key = c[1], date = c[2], region = c[3], service = c[4],
    credential_scope = c[2] .. "/" .. c[3] .. "/" .. c[4] .. "/aws4_request",
    signed_headers = lower(parts.SignedHeaders),
    signature = lower(parts.Signature),
  }
end

--- Verifies a received request's signature.
-- Recomputes the signature of a received request and compares it with `signature` in
-- constant time. opts are sign()'s, normally in verification form: the request's method,
-- raw path and query (a presigned query may keep its X-Amz-* parameters: X-Amz-Signature
-- is left out of the canonical query), the received headers, body, the secret looked up
-- for `access_key`, region and service from the credential scope, `signed_headers` and
-- `amz_date` from the request. ok is true or false; out is sign()'s result (its
-- `canonical_request` holds the signed headers' values, so keep it out of client-facing
-- errors when a session token was signed).
-- @tparam table opts @{sign}'s options, in verification form
-- @tparam string signature the hex signature received
-- @treturn boolean ok
-- @treturn table out, @{sign}'s result
-- @return[2] nil
-- @return[2] err as from @{sign}
-- @raise when signature is not a string
function _M.check_signature(opts, signature)
  if type(signature) ~= "string" then
    error("invite.sigv4.check_signature: signature must be a string (got " .. type(signature) .. ")", 2)
  end
  local out, err = _M.sign(opts)
  if not out then return nil, err end
  return core.sigv4_equal(out.signature, lower(signature)), out
end

return _M
