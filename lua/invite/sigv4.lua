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
local core = require "invite.native"

local type, ipairs, error = type, ipairs, error
local find, sub, lower, gsub = string.find, string.sub, string.lower, string.gsub
local concat = table.concat

local _M = {}

--- The algorithm name, "AWS4-HMAC-SHA256".
_M.ALGORITHM = "AWS4-HMAC-SHA256"

local c_sign = core.sigv4_sign

-- LuaJIT FFI path ----------------------------------------------------------------------------
-- On LuaJIT, sign() signs the common case - every field of its documented type, at most 256
-- {string, string} header pairs - through the FFI: sigv4_sign() called by a function pointer
-- the C binding hands out (core.sigv4_ffi; no exported symbol), on the binding's own sigv4_ctx
-- (one key cache, one cache_stats), with a module-level FFI arena. Anything else, and every
-- failure, goes through the C binding, which raises or returns the error as documented. The
-- structs mirror src/sigv4.h; core.sigv4_ffi reports the C sizes and offsets, and any difference
-- leaves this path off. Lua strings are passed as pointers to their bytes: nothing allocates
-- between filling the request and the call, so no collection can run while C holds them.
local ffi_sign

local function setup_ffi()
  if type(rawget(_G, "jit")) ~= "table" or not core.sigv4_ffi then return nil end
  local ok, ffi = pcall(require, "ffi")
  if not ok then return nil end
  ok = pcall(ffi.cdef, [[
    typedef struct { const char *ptr; size_t len; } invite_sigv4_str;
    typedef struct { const char *name; size_t name_len; const char *value; size_t value_len; } invite_sigv4_header;
    typedef struct {
      invite_sigv4_str method, path, query;
      const invite_sigv4_header *headers; size_t nheaders;
      invite_sigv4_str body, payload_hash, access_key, secret_key, session_token, region, service;
      int64_t time; invite_sigv4_str amz_date; long expires; unsigned flags; invite_sigv4_str signed_headers;
    } invite_sigv4_request;
    typedef struct {
      const char *name; size_t name_len; const char *value; size_t value_len;
      size_t src; int value_changed; int added;
    } invite_sigv4_out_header;
    typedef struct {
      invite_sigv4_str amz_date, credential_scope, signed_headers, payload_hash, canonical_request,
        string_to_sign, signature, authorization, query;
      const invite_sigv4_out_header *headers; size_t nheaders;
      const char *err_field; size_t err_index; size_t buf_used;
    } invite_sigv4_result;
  ]])
  if not ok then return nil end
  local ctx, fnp, layout = core.sigv4_ffi()
  if ffi.sizeof("invite_sigv4_header") ~= layout.header or ffi.sizeof("invite_sigv4_request") ~= layout.request
      or ffi.offsetof("invite_sigv4_request", "signed_headers") ~= layout.request_signed_headers
      or ffi.sizeof("invite_sigv4_out_header") ~= layout.out_header
      or ffi.offsetof("invite_sigv4_out_header", "added") ~= layout.out_header_added
      or ffi.sizeof("invite_sigv4_result") ~= layout.result
      or ffi.offsetof("invite_sigv4_result", "buf_used") ~= layout.result_buf_used then
    return nil
  end
  ctx = ffi.cast("void *", ctx) -- a cdata once: light userdata arguments are not compiled
  local csign = ffi.cast("int (*)(void *, const invite_sigv4_request *, invite_sigv4_result *, char *, size_t)",
    fnp)
  local fstring, ffill, cnew = ffi.string, ffi.fill, ffi.new
  local floor, os_time, rawget, tonumber = math.floor, os.time, rawget, tonumber
  local MAX_HEADERS, MAX_TIME = layout.max_headers, 253402300799
  local ARENA_MIN, ARENA_KEEP, ARENA_MAX = 8192, 65536, 16 * 1048576
  local OK, E_BUFFER = 0, 4
  local ADDED_NAME = { "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256", "Authorization" }
  local req = cnew("invite_sigv4_request")
  local res = cnew("invite_sigv4_result")
  local hdr = cnew("invite_sigv4_header[?]", MAX_HEADERS)
  local cap = ARENA_MIN
  local arena = cnew("char[?]", cap)

  local function str(s) return fstring(s.ptr, s.len) end

  return function(o, headers_only)
    local method, path, query, headers, body = o.method, o.path, o.query, o.headers, o.body
    local ak, sk, tok, region, service = o.access_key, o.secret_key, o.session_token, o.region, o.service
    local t, expires, ph, amz, sh = o.time, o.expires, o.payload_hash, o.amz_date, o.signed_headers
    local norm, encp, pre, omit, sbody = o.normalize_path, o.encode_path, o.presign, o.omit_session_token,
      o.sign_body
    if type(method) ~= "string" or type(ak) ~= "string" or type(sk) ~= "string" or type(region) ~= "string"
        or type(service) ~= "string" then return nil end
    if (path ~= nil and type(path) ~= "string") or (query ~= nil and type(query) ~= "string")
        or (body ~= nil and type(body) ~= "string") or (tok ~= nil and type(tok) ~= "string")
        or (ph ~= nil and type(ph) ~= "string") or (amz ~= nil and type(amz) ~= "string")
        or (sh ~= nil and type(sh) ~= "string") then return nil end
    if (norm ~= nil and type(norm) ~= "boolean") or (encp ~= nil and type(encp) ~= "boolean")
        or (pre ~= nil and type(pre) ~= "boolean") or (omit ~= nil and type(omit) ~= "boolean")
        or (sbody ~= nil and type(sbody) ~= "boolean") then return nil end
    if t == nil then
      t = os_time()
    elseif type(t) ~= "number" or not (t >= 0 and t <= MAX_TIME) then
      return nil
    else
      t = floor(t)
    end
    if expires == nil then
      expires = 3600
    elseif type(expires) ~= "number" or not (expires >= 1 and expires <= 604800 and expires == floor(expires)) then
      return nil
    end
    local nh, simple = 0, true -- simple: no header value with a line break (a possible fold)
    if headers ~= nil then
      if type(headers) ~= "table" then return nil end
      nh = #headers
      if nh > MAX_HEADERS then return nil end
      for i = 1, nh do
        local p = rawget(headers, i)
        if type(p) ~= "table" then return nil end
        local n, v = rawget(p, 1), rawget(p, 2)
        if type(n) ~= "string" or type(v) ~= "string" then return nil end
        local h = hdr[i - 1]
        h.name, h.name_len, h.value, h.value_len = n, #n, v, #v
        if simple and find(v, "\n", 1, true) then simple = false end
      end
    end
    -- from here to the call nothing allocates (see above)
    if path == nil then path = "/" end
    req.method.ptr, req.method.len = method, #method
    req.path.ptr, req.path.len = path, #path
    req.query.ptr, req.query.len = query, query and #query or 0
    req.headers, req.nheaders = hdr, nh
    req.body.ptr, req.body.len = body, body and #body or 0
    req.payload_hash.ptr, req.payload_hash.len = ph, ph and #ph or 0
    req.access_key.ptr, req.access_key.len = ak, #ak
    req.secret_key.ptr, req.secret_key.len = sk, #sk
    req.session_token.ptr, req.session_token.len = tok, tok and #tok or 0
    req.region.ptr, req.region.len = region, #region
    req.service.ptr, req.service.len = service, #service
    req.time = t
    req.amz_date.ptr, req.amz_date.len = amz, amz and #amz or 0
    req.expires = expires
    req.flags = (norm ~= false and 1 or 0) + (pre and 2 or 0) + (omit and 4 or 0) + (sbody and 8 or 0)
      + (encp == false and 16 or 0)
    req.signed_headers.ptr, req.signed_headers.len = sh, sh and #sh or 0
    local rc = csign(ctx, req, res, arena, cap)
    while rc == E_BUFFER and cap < ARENA_MAX do
      cap = cap * 2
      arena = cnew("char[?]", cap)
      rc = csign(ctx, req, res, arena, cap)
    end
    if rc ~= OK then return nil end -- the C binding signs again and reports it
    local auth = res.authorization.len > 0 and str(res.authorization) or nil
    local out_headers
    if sh == nil and simple and tonumber(res.nheaders) == nh + (pre and 0
        or 2 + ((tok and #tok > 0) and 1 or 0) + (sbody and 1 or 0)) then
      -- Nothing was dropped (the count says so: X-Amz-Date and Authorization, a token and
      -- x-amz-content-sha256 when given, are all the signer adds) and no value had a fold (only a
      -- line break can make one): the caller's pairs in order, then the added ones. Reading
      -- res.headers costs LuaJIT more than building this.
      out_headers = {}
      for i = 1, nh do out_headers[i] = headers[i] end
      if not pre then
        out_headers[nh + 1] = { "X-Amz-Date", str(res.amz_date) }
        local k = nh + 2
        if tok and #tok > 0 then
          out_headers[k] = { "X-Amz-Security-Token", tok }
          k = k + 1
        end
        if sbody then
          out_headers[k] = { "X-Amz-Content-Sha256", str(res.payload_hash) }
          k = k + 1
        end
        out_headers[k] = { "Authorization", auth }
      end
    elseif sh == nil then
      local oh = res.headers
      out_headers = {}
      for i = 0, tonumber(res.nheaders) - 1 do
        local e = oh[i]
        local added = e.added
        if added == 0 then
          local pair = headers[tonumber(e.src) + 1]
          if e.value_changed ~= 0 then pair = { pair[1], fstring(e.value, e.value_len) } end
          out_headers[i + 1] = pair
        elseif added == 4 then
          out_headers[i + 1] = { "Authorization", auth }
        elseif added == 2 then
          out_headers[i + 1] = { "X-Amz-Security-Token", tok }
        else
          out_headers[i + 1] = { ADDED_NAME[added], fstring(e.value, e.value_len) }
        end
      end
    end
    local out
    if headers_only then
      out = out_headers
    else
      local q
      if res.query.ptr ~= nil then q = str(res.query) elseif query == nil then q = "" else q = query end
      out = {
        canonical_request = str(res.canonical_request), string_to_sign = str(res.string_to_sign),
        signature = str(res.signature), authorization = auth, headers = out_headers, query = q,
        signed_headers = str(res.signed_headers), credential_scope = str(res.credential_scope),
        amz_date = str(res.amz_date),
      }
    end
    if tok and #tok > 0 then ffill(arena, res.buf_used) end -- it held the token
    if cap > ARENA_KEEP then
      cap = ARENA_MIN
      arena = cnew("char[?]", cap)
    end
    return out
  end
end

ffi_sign = setup_ffi()

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
  if ffi_sign then
    local out = ffi_sign(o)
    if out then return out end
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

--- Signs one request for sending and returns only the headers to send: what `sign` returns as
-- `out.headers` (header signing), without creating its other fields. The client pipeline signs
-- every request this way. Same options, raises and errors as `sign`; `signed_headers` and
-- `presign` make no sense here and are refused.
-- @tparam table o the options of `sign`
-- @treturn table the list of {name, value} pairs to send
-- @return[2] nil
-- @return[2] err as from `sign`
function _M.sign_headers(o)
  if type(o) ~= "table" then
    error("invite.sigv4.sign_headers: expected a table of options (got " .. type(o) .. ")", 2)
  end
  if o.presign or o.signed_headers ~= nil then
    error("invite.sigv4.sign_headers: presign and signed_headers need sign()", 2)
  end
  if ffi_sign then
    local headers = ffi_sign(o, true)
    if headers then return headers end
  end
  local creq, sts, _, _, headers = c_sign(o.method, o.path, o.query, o.headers, o.body, o.access_key,
    o.secret_key, o.session_token, o.region, o.service, o.time, o.normalize_path, o.encode_path, false,
    o.expires, o.omit_session_token, o.sign_body, o.payload_hash, o.amz_date, nil, true)
  if creq == nil and sts ~= nil then return nil, sts end
  return headers
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

local function fail(message) -- the one error type (invite.util)
  return nil, require("invite.util").new_error{ code = "IncompleteSignatureException", message = message,
    status = 400, retryable = false }
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

--- LuaJIT: true when `sign` takes the FFI path for ordinary options (false on PUC Lua).
-- @treturn boolean
function _M.ffi_active() return ffi_sign ~= nil end

--- For tests and comparisons: `use_ffi(false)` sends every `sign` through the C binding,
-- `use_ffi(true)` restores the FFI path where there is one.
-- @tparam boolean on
-- @treturn boolean whether the FFI path is now on
function _M.use_ffi(on)
  if on then ffi_sign = ffi_sign or setup_ffi() else ffi_sign = nil end
  return ffi_sign ~= nil
end

return _M
