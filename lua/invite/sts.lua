-- invite.sts: the two STS calls the credential chain and the policy runner need, over the AWS
-- query protocol (form-encoded POST, Version=2011-06-15, XML responses).
--
--   sts.assume_role{ role_arn=, role_session_name=, external_id=, duration_seconds=,
--                    serial_number=, token_code=, policy=,
--                    credentials = provider | {access_key_id=, secret_access_key=, session_token=},
--                    region=, endpoint=, http=, env=, home=, profile=, sign=, sign_time=,
--                    timeout_ms=, max_attempts=, sleep= }
--   sts.assume_role_with_web_identity{ role_arn=, role_session_name=, web_identity_token=,
--                    duration_seconds=, region=, endpoint=, ... }   (unsigned, like botocore)
--     -> { credentials = { access_key_id, secret_access_key, session_token, expiration (epoch) },
--          assumed_role_user = { arn, assumed_role_id }, request_id } | nil, err
--
-- The endpoint is opts.endpoint, else invite.config's endpoint("sts", region) (which honours
-- AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile, FIPS and regional STS endpoints); with no
-- region at all the global https://sts.amazonaws.com is used, signed for us-east-1.
-- AssumeRole is signed with invite.sigv4 (opts.sign may replace invite.sigv4.sign).
--
-- XML: with Debian's lua-expat (`lxp`, for Lua 5.4 and LuaJIT) the response is parsed by expat;
-- without it, by the small strict reader below that understands exactly what STS sends:
-- elements, text, the five predefined entities and numeric references, CDATA, comments and the
-- XML declaration. It refuses DOCTYPE (no entity expansion), mismatched tags and trailing text.
-- Either way the result is a flat map "A/B/C" -> text of the leaf elements, and only the known
-- elements are read from it.

local common = require "invite.credentials.common"
local config = require "invite.config"
local errors = require "invite.errors"
local redact = require "invite.redact"
local retry = require "invite.retry"

local _M = { _VERSION = "0.1.0" }

local type, tostring, tonumber, pairs, ipairs, pcall, require = type, tostring, tonumber, pairs,
  ipairs, pcall, require
local concat, floor = table.concat, math.floor
local char = string.char
local new_error = common.new_error

local API_VERSION = "2011-06-15"

---------------------------------------------------------------------------------------------
-- XML
---------------------------------------------------------------------------------------------

local function utf8_char(cp)
  if cp < 0x80 then return char(cp) end
  if cp < 0x800 then return char(0xC0 + floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return char(0xE0 + floor(cp / 0x1000), 0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return char(0xF0 + floor(cp / 0x40000), 0x80 + floor(cp / 0x1000) % 0x40,
    0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local ENTITIES = { lt = "<", gt = ">", amp = "&", quot = '"', apos = "'" }

local function decode_text(s)
  if not s:find("&", 1, true) then return s end
  if s:gsub("&[#%w]+;", ""):find("&", 1, true) then return nil, "bare '&' in text" end
  local bad
  local out = s:gsub("&([#%w]+);", function(ent)
    if ENTITIES[ent] then return ENTITIES[ent] end
    local n
    if ent:match("^#x%x+$") then n = tonumber(ent:sub(3), 16)
    elseif ent:match("^#%d+$") then n = tonumber(ent:sub(2)) end
    if n and n > 0 and n <= 0x10FFFF then return utf8_char(n) end
    bad = ent
    return ""
  end)
  if bad then return nil, "unknown entity &" .. bad .. ";" end
  return out
end

-- The built-in reader. Returns the flat map or nil, message.
function _M.parse_xml_builtin(xml)
  if type(xml) ~= "string" then return nil, "no body" end
  local map, stack, texts = {}, {}, {}
  local pos, len = 1, #xml
  if xml:sub(1, 3) == "\239\187\191" then pos = 4 end
  local seen_root = false
  while pos <= len do
    local lt = xml:find("<", pos, true)
    local text = xml:sub(pos, (lt or len + 1) - 1)
    if #stack == 0 then
      if text:find("%S") then return nil, "text outside the root element" end
    elseif text ~= "" then
      local d, e = decode_text(text)
      if not d then return nil, e end
      texts[#stack][#texts[#stack] + 1] = d
    end
    if not lt then break end
    if xml:sub(lt, lt + 3) == "<!--" then
      local e = xml:find("-->", lt + 4, true)
      if not e then return nil, "unterminated comment" end
      pos = e + 3
    elseif xml:sub(lt, lt + 8) == "<![CDATA[" then
      local e = xml:find("]]>", lt + 9, true)
      if not e or #stack == 0 then return nil, "bad CDATA section" end
      texts[#stack][#texts[#stack] + 1] = xml:sub(lt + 9, e - 1)
      pos = e + 3
    elseif xml:sub(lt, lt + 1) == "<?" then
      local e = xml:find("?>", lt + 2, true)
      if not e then return nil, "unterminated processing instruction" end
      pos = e + 2
    elseif xml:sub(lt, lt + 1) == "<!" then
      return nil, "DOCTYPE and declarations are not accepted"
    else
      local gt = xml:find(">", lt + 1, true)
      if not gt then return nil, "unterminated tag" end
      local tag = xml:sub(lt + 1, gt - 1)
      pos = gt + 1
      if tag:sub(1, 1) == "/" then
        local name = tag:match("^/([%w_:%.%-]+)%s*$")
        if not name or stack[#stack] ~= name then
          return nil, "mismatched closing tag </" .. tostring(name or tag) .. ">"
        end
        local path = concat(stack, "/")
        if map[path] == nil then map[path] = concat(texts[#stack]) end
        texts[#stack] = nil
        stack[#stack] = nil
      else
        local selfclose = tag:sub(-1) == "/"
        if selfclose then tag = tag:sub(1, -2) end
        local name, attrs = tag:match("^([%a_][%w_:%.%-]*)(.*)$")
        if not name then return nil, "bad tag <" .. tag:sub(1, 40) .. ">" end
        -- attributes are accepted (xmlns) but not used
        if attrs ~= "" and not attrs:match("^%s") then return nil, "bad tag <" .. name .. ">" end
        if #stack == 0 then
          if seen_root then return nil, "more than one root element" end
          seen_root = true
        end
        stack[#stack + 1] = name
        if selfclose then
          local path = concat(stack, "/")
          if map[path] == nil then map[path] = "" end
          stack[#stack] = nil
        else
          texts[#stack] = {}
        end
      end
    end
  end
  if #stack > 0 then return nil, "unclosed element <" .. stack[#stack] .. ">" end
  if not seen_root then return nil, "no root element" end
  return map
end

local lxp_mod
local function get_lxp()
  if lxp_mod == nil then
    local ok, m = pcall(require, "lxp")
    lxp_mod = ok and type(m) == "table" and m.new and m or false
  end
  return lxp_mod
end

-- The expat reader (same result shape).
function _M.parse_xml_lxp(xml)
  local lxp = get_lxp()
  if not lxp then return nil, "lxp is not available" end
  local map, stack, texts = {}, {}, {}
  local refused
  local callbacks = {
    StartElement = function(_, name)
      stack[#stack + 1] = name
      texts[#stack] = {}
    end,
    EndElement = function(_, _)
      local path = concat(stack, "/")
      if map[path] == nil then map[path] = concat(texts[#stack]) end
      texts[#stack] = nil
      stack[#stack] = nil
    end,
    CharacterData = function(_, s)
      if texts[#stack] then texts[#stack][#texts[#stack] + 1] = s end
    end,
    -- no DTDs: refuse entity declarations (no "billion laughs")
    EntityDecl = function() refused = "entity declarations are not accepted" end,
    StartDoctypeDecl = function() refused = "DOCTYPE is not accepted" end,
  }
  local p = lxp.new(callbacks)
  local ok, msg, line = p:parse(xml)
  if ok then ok, msg, line = p:parse() end
  pcall(p.close, p)   -- close raises on an unfinished document; the parse result says why
  if refused then return nil, refused end
  if not ok then return nil, tostring(msg) .. (line and (" at line " .. line) or "") end
  return map
end

-- parse_xml(xml, how) ; how = "lxp" | "builtin" | nil (lxp when available)
function _M.parse_xml(xml, how)
  if type(xml) ~= "string" or xml == "" then return nil, "empty body" end
  if how == "builtin" or (how == nil and not get_lxp()) then
    return _M.parse_xml_builtin(xml)
  end
  return _M.parse_xml_lxp(xml)
end

function _M.xml_backend()
  return get_lxp() and "lxp" or "builtin"
end

---------------------------------------------------------------------------------------------
-- Requests
---------------------------------------------------------------------------------------------

local function form_body(params)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = common.urlencode(k) .. "=" .. common.urlencode(params[k])
  end
  return concat(parts, "&")
end
_M.form_body = form_body

local function resolve_endpoint(opts)
  if opts.endpoint then
    local url, e = config.check_endpoint_url(opts.endpoint, "sts endpoint option", opts)
    if not url then return nil, nil, e end
    return url, opts.region or "us-east-1"
  end
  -- endpoint_url in opts would be some other service's; STS uses its own configuration
  opts = common.copy(opts)
  opts.endpoint_url = nil
  local region = opts.region
  if not region then
    local r = config.region(opts)
    region = r
  end
  if not region then
    -- no region anywhere: the global endpoint, as botocore does for a region-less STS client
    local url, src, e = config.endpoint("sts", "aws-global", opts)
    if not url then return nil, nil, src or e end
    return url, "us-east-1"
  end
  local url, e = config.endpoint("sts", region, opts)
  if not url then return nil, nil, e end
  return url, config.signing_region("sts", region, url)
end

-- credentials as a provider or a plain table -> access, secret, token | nil, err
local function source_credentials(c)
  if type(c) ~= "table" then
    return nil, new_error("NoCredentials", "sts: no source credentials to sign AssumeRole with")
  end
  if type(c.get) == "function" then
    local ok, a, s, t = c:get()
    if not ok then return nil, a end
    return a, s, t
  end
  local a = c.access_key_id or c.access_key
  local s = c.secret_access_key or c.secret_key
  if not a or not s then
    return nil, new_error("NoCredentials", "sts: source credentials need access_key_id and secret_access_key")
  end
  return a, s, c.session_token
end

-- One call with retries on throttling/5xx/transport errors. `signed` tells whether to sign.
local function call(action, params, opts, signed)
  local url, signing_region, eerr = resolve_endpoint(opts)
  if not url then return nil, eerr end
  local u = common.parse_url(url)
  local path = u.path ~= "" and u.path or "/"
  params.Action = action
  params.Version = API_VERSION
  local body = form_body(params)
  -- signing uses the real time (opts.sign_time for tests), not opts.clock: a caller's clock may be
  -- moved to exercise credential expiry, and a signature must carry the time AWS sees
  local sign_time = opts.sign_time or os.time
  local attempts = opts.max_attempts or 3
  local sleep = common.sleep_fn(opts)
  local last_err
  local sk, tok -- this call's secrets: redacted from anything the server says back
  for attempt = 1, attempts do
    local headers = {
      { "Host", u.authority },
      { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
    }
    if signed then
      local ak
      ak, sk, tok = source_credentials(opts.credentials)
      if not ak then return nil, sk end
      redact.register(sk)
      redact.register(tok)
      local sign = opts.sign
      if not sign then
        local ok, sigv4 = pcall(require, "invite.sigv4")
        if not ok then
          return nil, new_error("SignerUnavailable", "sts: invite.sigv4 could not be loaded")
        end
        sign = sigv4.sign
      end
      local ok, out, serr = pcall(sign, {
        method = "POST", path = path, query = "", headers = headers, body = body,
        access_key = ak, secret_key = sk, session_token = tok,
        region = signing_region, service = "sts", time = floor(sign_time()),
      })
      if not ok or not out then
        return nil, new_error("SigningFailed", "sts: signing failed: " .. tostring(ok and serr or out))
      end
      headers = out.headers
    end
    local res, terr = common.http_request(opts, {
      method = "POST", url = url .. (u.path == "" and "/" or ""), headers = headers, body = body,
      timeout_ms = opts.timeout_ms or 10000,
    })
    if not res then
      local tk = type(terr) == "table" and terr or {}
      last_err = new_error("TransportError", ("sts %s: %s"):format(action, common.transport_message(terr)),
        { retryable = retry.classify_transport(tk.kind or "other", tk.curl_code) ~= nil, kind = tk.kind })
    else
      local map, xerr = _M.parse_xml(res.body, opts.xml)
      if res.status == 200 then
        if not map then
          return nil, redact.error(new_error("InvalidResponse", ("sts %s: unreadable XML response: %s")
            :format(action, errors.bounded(tostring(xerr))), { status = res.status }), sk, tok)
        end
        return map, nil, res
      end
      local code, message, request_id
      if map then
        code = map["ErrorResponse/Error/Code"]
        message = map["ErrorResponse/Error/Message"]
        request_id = map["ErrorResponse/RequestId"]
      end
      request_id = request_id or common.header(res, "x-amzn-requestid")
      local class = retry.classify_response(res.status, code, "sts") -- the code STS sent, if any
      code = code or ("HTTP" .. tostring(res.status))
      last_err = new_error(errors.bounded(code), ("sts %s: %s"):format(action,
          errors.bounded(message) or ("HTTP status " .. tostring(res.status))),
        { status = res.status, request_id = request_id, retryable = class ~= nil, throttle = class == "throttling" })
      redact.error(last_err, sk, tok)
    end
    if not last_err.retryable or attempt == attempts then break end
    sleep(math.min(0.1 * 2 ^ (attempt - 1), 1))
  end
  return nil, last_err
end

local function credentials_from(map, root, action)
  local base = root .. "/" .. action .. "Result/"
  local c = {
    access_key_id = map[base .. "Credentials/AccessKeyId"],
    secret_access_key = map[base .. "Credentials/SecretAccessKey"],
    session_token = map[base .. "Credentials/SessionToken"],
  }
  local exp_s = map[base .. "Credentials/Expiration"]
  if not c.access_key_id or not c.secret_access_key or not c.session_token or not exp_s then
    return nil, new_error("InvalidResponse", ("sts %s: the response has no complete Credentials element")
      :format(action))
  end
  c.expiration = common.parse_iso8601(exp_s)
  if not c.expiration then
    return nil, new_error("InvalidResponse", ("sts %s: Expiration is not an ISO 8601 time"):format(action))
  end
  return {
    credentials = c,
    assumed_role_user = {
      arn = map[base .. "AssumedRoleUser/Arn"],
      assumed_role_id = map[base .. "AssumedRoleUser/AssumedRoleId"],
    },
    request_id = map[root .. "/ResponseMetadata/RequestId"],
  }
end

--- DurationSeconds on the wire: a whole number of seconds (a number or a numeric string, of any
-- Lua number subtype: cjson's 3600.0 is "3600") -> its decimal string; nil for anything else.
function _M.whole_seconds(v)
  local n = tonumber(v)
  if not n or n ~= floor(n) or n >= 2 ^ 53 or n <= -2 ^ 53 then return nil end -- NaN, inf, fractions
  return string.format("%d", n)
end

local function check_common(o, fn)
  if type(o) ~= "table" then error(fn .. ": expects a table of options", 3) end
  if type(o.role_arn) ~= "string" or o.role_arn == "" then error(fn .. ": role_arn is required", 3) end
  if o.duration_seconds ~= nil and not _M.whole_seconds(o.duration_seconds) then
    error(fn .. ": duration_seconds must be a whole number of seconds, got " .. tostring(o.duration_seconds), 3)
  end
end

function _M.assume_role(o)
  check_common(o, "sts.assume_role")
  local clock = o.clock or common.default_clock
  local params = {
    RoleArn = o.role_arn,
    RoleSessionName = o.role_session_name or ("invite-session-" .. floor(clock())),
  }
  if o.external_id then params.ExternalId = o.external_id end
  if o.duration_seconds then params.DurationSeconds = _M.whole_seconds(o.duration_seconds) end
  if o.serial_number then params.SerialNumber = o.serial_number end
  if o.token_code then params.TokenCode = o.token_code end
  if o.policy then params.Policy = o.policy end
  local map, err = call("AssumeRole", params, o, true)
  if not map then return nil, err end
  return credentials_from(map, "AssumeRoleResponse", "AssumeRole")
end

function _M.assume_role_with_web_identity(o)
  check_common(o, "sts.assume_role_with_web_identity")
  if type(o.web_identity_token) ~= "string" or o.web_identity_token == "" then
    error("sts.assume_role_with_web_identity: web_identity_token is required", 2)
  end
  local clock = o.clock or common.default_clock
  local params = {
    RoleArn = o.role_arn,
    RoleSessionName = o.role_session_name or ("invite-session-" .. floor(clock())),
    WebIdentityToken = o.web_identity_token,
  }
  if o.duration_seconds then params.DurationSeconds = _M.whole_seconds(o.duration_seconds) end
  if o.policy then params.Policy = o.policy end
  local map, err = call("AssumeRoleWithWebIdentity", params, o, false)
  if not map then return nil, err end
  return credentials_from(map, "AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentity")
end

return _M
