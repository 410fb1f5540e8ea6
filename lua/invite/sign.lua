-- invite.sign - the signing stage: adds SigV4 headers (Authorization,
-- X-Amz-Date, X-Amz-Security-Token) to a built request with invite.sigv4, and
-- redacts a signed request for dry-run output.
--
-- The secret key and session token only pass through here into the signer;
-- they are never stored on the request, in errors, or in redacted output.
local require, pcall, tostring, ipairs = require, pcall, tostring, ipairs
local lower, gsub, floor = string.lower, string.gsub, math.floor

local _M = {}

local sigv4

-- sigv4.sign's options, one table reused by every call (signing never yields and
-- sign() keeps no reference to it); emptied after each call.
local opts = {}

-- sign.headers(req, access_key, secret_key, session_token, region, service, time)
--   -> the list of {name, value} pairs to send (a new list) | nil, err-message
-- The signing of sign.request without its tables: what the client pipeline calls per attempt.
function _M.headers(req, ak, sk, tok, region, service, time)
  if not sigv4 then
    local ok, mod = pcall(require, "invite.sigv4")
    if not ok then return nil, "the SigV4 signer (invite.sigv4) could not be loaded: " .. tostring(mod) end
    sigv4 = mod
  end
  local o = opts
  o.method, o.path, o.query, o.headers, o.body = req.method, req.path, req.query, req.headers, req.body
  o.access_key, o.secret_key, o.session_token = ak, sk, tok
  o.region, o.service, o.time = region, service, floor(time)
  -- sign_headers: the same signature without the fields of sign()'s result nobody reads here
  local sign_headers = sigv4.sign_headers
  local ok, out, serr = pcall(sign_headers or sigv4.sign, o)
  -- drop every reference: nothing of this request, least of all a key, stays reachable from here
  o.method, o.path, o.query, o.headers, o.body = nil, nil, nil, nil, nil
  o.access_key, o.secret_key, o.session_token, o.region, o.service, o.time = nil, nil, nil, nil, nil, nil
  if not ok or not out then
    -- the signer never puts secrets in its messages; keep only its text
    return nil, "signing failed: " .. tostring(ok and serr or out)
  end
  if sign_headers then return out end
  return out.headers
end

-- sign.redact(headers) -> a copy with the signature and the token hidden.
function _M.redact(headers)
  local out = {}
  for i, h in ipairs(headers) do
    local n, v = h[1], h[2]
    local ln = lower(n)
    if ln == "authorization" then
      v = gsub(tostring(v), "Signature=%x+", "Signature=REDACTED")
    elseif ln == "x-amz-security-token" then
      v = "REDACTED"
    end
    out[i] = { n, v }
  end
  return out
end

return _M
