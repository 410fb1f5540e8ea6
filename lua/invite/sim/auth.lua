-- invite.sim.auth: SigV4 verification the way AWS does it, using the project's own signer.
--
-- The Authorization header (or the presigned X-Amz-* query parameters) is parsed, the access key
-- is looked up, session tokens and their expiry are checked, the request time must be within five
-- minutes of the simulator's clock, and the signature is recomputed with invite.sigv4 over the
-- signed headers exactly as received (the signer canonicalises them), the raw path and query, the
-- body and X-Amz-Date as the signing time. The two signatures are compared in constant time.
--
-- Failures are returned as { kind = ..., message = ... }; each service turns the kind into its
-- own status and error code (see rest.lua and sts.lua):
--   missing        no Authorization header and no presigned query
--   incomplete     Authorization (or presigned query) present but malformed
--   unknown_key    access key ID not known
--   bad_token      session token missing, wrong, or sent with a long-term key
--   expired_token  the session's credentials have expired
--   expired_sig    request time more than 5 minutes off (or presigned URL expired)
--   signature      signature does not match
local util = require "invite.sim.util"

local _M = {}

local ipairs, tonumber, format, concat = ipairs, tonumber, string.format, table.concat

_M.MAX_SKEW = 300
_M.ALGORITHM = "AWS4-HMAC-SHA256"

_M.MESSAGES = {
  missing = "Missing Authentication Token",
  unknown_key = "The security token included in the request is invalid.",
  bad_token = "The security token included in the request is invalid.",
  expired_token = "The security token included in the request is expired",
  signature = "The request signature we calculated does not match the signature you provided. "
    .. "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
}

local function fail(kind, message)
  return nil, { kind = kind, message = message or _M.MESSAGES[kind] }
end

local function parse_credential(cred, info)
  local a, d, r, sv = cred:match("^([^/]+)/(%d%d%d%d%d%d%d%d)/([^/]+)/([^/]+)/aws4_request$")
  if a then
    info.access_key_id, info.date, info.region, info.service = a, d, r, sv
    return true
  end
  local parts = {}
  for p in (cred .. "/"):gmatch("([^/]*)/") do parts[#parts + 1] = p end
  if #parts ~= 5 or parts[1] == "" then
    return false, "Credential should have exactly 5 slash-separated elements: "
      .. "<access key id>/<date>/<region>/<service>/aws4_request"
  end
  if parts[5] ~= "aws4_request" then
    return false, "Credential should be scoped with a valid terminator: 'aws4_request', not '" .. parts[5] .. "'."
  end
  if not parts[2]:find("^%d%d%d%d%d%d%d%d$") then
    return false, "Credential should be scoped to a valid date (YYYYMMDD), not '" .. parts[2] .. "'."
  end
  if parts[3] == "" or parts[4] == "" then
    return false, "Credential should be scoped to a region and a service."
  end
  info.access_key_id, info.date, info.region, info.service = parts[1], parts[2], parts[3], parts[4]
  return true
end

local function split_signed_headers(s)
  local list, set = {}, {}
  for h in s:gmatch("[^;]+") do
    list[#list + 1] = h
    set[h:lower()] = true
  end
  return list, set
end

-- Reads the authentication parts of a request without checking them. Returns info, or nil and a
-- failure. info: mode ("header" | "query"), access_key_id, date, region, service, signed_headers
-- (string), signed (set of lower-case names), signature, amz_date, time, expires, token.
function _M.parse(req)
  local header = req.header
  local auth = header.authorization
  local info = {}
  if auth then
    info.mode = "header"
    local alg, rest = auth:match("^%s*(%S+)%s*(.*)$")
    if alg ~= _M.ALGORITHM then
      return fail("incomplete", "Unsupported AWS 'algorithm': '" .. tostring(alg) .. "' (expected "
        .. _M.ALGORITHM .. ")")
    end
    local params = {}
    -- the usual shape first (one pattern, no backtracking), then any order and spacing
    local c, sh, sig = rest:match("^Credential=([^,%s]+),%s*SignedHeaders=([^,%s]+),%s*Signature=(%x+)$")
    if c then
      params.Credential, params.SignedHeaders, params.Signature = c, sh, sig
    else
      for item in rest:gmatch("[^,]+") do
        local k, v = item:match("^%s*([^=%s]+)%s*=%s*(%S*)")
        if k then params[k] = v end
      end
    end
    local missing = {}
    for _, need in ipairs({ "Credential", "Signature", "SignedHeaders" }) do
      if not params[need] or params[need] == "" then
        missing[#missing + 1] = "Authorization header requires '" .. need .. "' parameter."
      end
    end
    if not header["x-amz-date"] then
      missing[#missing + 1] = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    end
    if #missing > 0 then return fail("incomplete", concat(missing, " ")) end
    local ok, why = parse_credential(params.Credential, info)
    if not ok then return fail("incomplete", why) end
    info.signed_headers, info.signature, info.amz_date = params.SignedHeaders, params.Signature, header["x-amz-date"]
    info.token = header["x-amz-security-token"]
  else
    local _, q = util.parse_query(req.query)
    if not q["X-Amz-Algorithm"] and not q["X-Amz-Signature"] and not q["X-Amz-Credential"] then
      return fail("missing")
    end
    info.mode = "query"
    local missing = {}
    for _, need in ipairs({ "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders",
                            "X-Amz-Date" }) do
      if not q[need] or q[need] == "" then missing[#missing + 1] = "'" .. need .. "'" end
    end
    if #missing > 0 then
      return fail("incomplete", "AWS query-string parameters must include " .. concat(missing, ", ")
        .. ". Re-examine the query-string parameters.")
    end
    if q["X-Amz-Algorithm"] ~= _M.ALGORITHM then
      return fail("incomplete", "X-Amz-Algorithm only supports '" .. _M.ALGORITHM .. "'")
    end
    local ok, why = parse_credential(q["X-Amz-Credential"], info)
    if not ok then return fail("incomplete", why) end
    info.signed_headers, info.signature, info.amz_date = q["X-Amz-SignedHeaders"], q["X-Amz-Signature"],
      q["X-Amz-Date"]
    info.expires = tonumber(q["X-Amz-Expires"] or "")
    if q["X-Amz-Expires"] and (not info.expires or info.expires < 1 or info.expires > 604800) then
      return fail("incomplete", "X-Amz-Expires must be a whole number of seconds from 1 to 604800")
    end
    info.token = q["X-Amz-Security-Token"]
  end
  info.time = util.parse_amz_date(info.amz_date)
  if not info.time then
    return fail("incomplete", "Date must be in ISO-8601 'basic format'. Got '" .. tostring(info.amz_date)
      .. "'. See http://en.wikipedia.org/wiki/ISO_8601")
  end
  info.signed_list, info.signed = split_signed_headers(info.signed_headers)
  if info.mode == "header" and not info.signed.host then
    return fail("signature", "'Host' must be a signed header.")
  end
  return info
end

local function principal(cred, info)
  local p = {
    access_key_id = cred.access_key_id, account = cred.account, kind = cred.kind, region = info.region,
    service = info.service, user = cred.user, user_id = cred.user_id, role = cred.role,
    session_name = cred.session_name, role_id = cred.role_id, source = cred.source,
  }
  if cred.kind == "session" then
    p.arn = format("arn:aws:sts::%s:assumed-role/%s/%s", cred.account, cred.role or "sim-role",
      cred.session_name or "sim-session")
    p.user_id = (cred.role_id or "AROASIMROLE") .. ":" .. (cred.session_name or "sim-session")
  else
    p.arn = format("arn:aws:iam::%s:user/%s", cred.account, cred.user or "sim-user")
  end
  return p
end
_M.principal = principal

-- Verifies a request. ctx: lookup(access_key_id) -> credential record or nil; now (seconds);
-- token_now (seconds, for session expiry; default now); signer (invite.sigv4 or compatible).
-- Returns principal, info or nil, failure, info.
function _M.verify(req, ctx)
  local info, err = _M.parse(req)
  if not info then return nil, err end
  local cred = ctx.lookup(info.access_key_id)
  if not cred or not cred.secret then
    local f = { kind = "unknown_key", message = _M.MESSAGES.unknown_key }
    return nil, f, info
  end
  if cred.kind == "session" then
    if not info.token or not util.ct_equal(info.token, cred.session_token) then
      return nil, { kind = "bad_token", message = _M.MESSAGES.bad_token }, info
    end
    if cred.expiration and cred.expiration <= (ctx.token_now or ctx.now) then
      return nil, { kind = "expired_token", message = _M.MESSAGES.expired_token }, info
    end
  elseif info.token then
    return nil, { kind = "bad_token", message = _M.MESSAGES.bad_token }, info
  end
  local now, t = ctx.now, info.time
  local skew = ctx.max_skew or _M.MAX_SKEW
  if info.date ~= info.amz_date:sub(1, 8) then
    return nil, { kind = "signature", message = format("Date in Credential scope does not match YYYYMMDD from "
      .. "ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", info.date, info.amz_date:sub(1, 8),
      info.amz_date) }, info
  end
  if info.mode == "query" then
    local expires = info.expires or 3600
    if now > t + expires then
      return nil, { kind = "expired_sig", message = format("Signature expired: the presigned request expired at "
        .. "%s (now %s).", util.amz_date(t + expires), util.amz_date(now)) }, info
    end
  elseif now - t > skew then
    return nil, { kind = "expired_sig", message = format("Signature expired: %s is now earlier than %s (%s - 5 min.)",
      info.amz_date, util.amz_date(now - skew), util.amz_date(now)) }, info
  end
  if t - now > skew then
    return nil, { kind = "expired_sig", message = format("Signature not yet current: %s is still later than %s "
      .. "(%s + 5 min.)", info.amz_date, util.amz_date(now + skew), util.amz_date(now)) }, info
  end
  if not info.signature:find("^%x+$") or #info.signature ~= 64 then
    return nil, { kind = "signature", message = _M.MESSAGES.signature }, info
  end
  -- Recompute with the signer's verification form: exactly the signed headers as received, the
  -- raw path and query (a presigned query keeps its X-Amz-* parameters; the signer leaves
  -- X-Amz-Signature out), the body, and the request's own X-Amz-Date.
  local headers = {}
  for _, h in ipairs(req.headers) do
    if info.signed[h[1]:lower()] then headers[#headers + 1] = h end
  end
  local body = req.body or ""
  local payload_hash
  local content_sha = req.header["x-amz-content-sha256"]
  if content_sha and info.signed["x-amz-content-sha256"] then
    payload_hash = content_sha
    if content_sha ~= "UNSIGNED-PAYLOAD" and ctx.signer.sha256_hex
        and content_sha:lower() ~= ctx.signer.sha256_hex(body) then
      return nil, { kind = "signature", message = "The provided 'x-amz-content-sha256' header does not match "
        .. "what was computed." }, info
    end
  end
  local ok, out, serr = pcall(ctx.signer.sign, {
    method = req.method, path = req.path, query = req.query or "", headers = headers, body = body,
    payload_hash = payload_hash, access_key = info.access_key_id, secret_key = cred.secret,
    region = info.region, service = info.service, normalize_path = info.service ~= "s3",
    signed_headers = info.signed_headers:lower(), amz_date = info.amz_date,
  })
  if not ok or not out then
    return nil, { kind = "signature", message = _M.MESSAGES.signature, detail = tostring(ok and serr or out) }, info
  end
  local equal = ctx.signer.equal or util.ct_equal
  if not equal(out.signature, info.signature:lower()) then
    return nil, { kind = "signature", message = _M.MESSAGES.signature }, info
  end
  return principal(cred, info), info
end

return _M
