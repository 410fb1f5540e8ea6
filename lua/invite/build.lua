-- invite.build - the second pipeline stage: turn validated boto3-named
-- parameters into an HTTP request on the service's wire, the way botocore's
-- rest-json serializer does:
--   * `uri` members fill the URI template's {labels}, percent-encoded
--     (RFC 3986: everything but A-Z a-z 0-9 - _ . ~ is %XX-encoded);
--   * `querystring` members become name=value pairs in declaration order;
--   * `body` members become one JSON object (wire names, declaration order);
--     when the operation has body members but none was given the body is {},
--     when it has none at all the body is empty (botocore does the same);
--   * Content-Type: application/json whenever there is a body.
local type, tostring, error, setmetatable = type, tostring, error, setmetatable
local format, byte, gsub, find, match, sub, lower =
  string.format, string.byte, string.gsub, string.find, string.match, string.sub, string.lower
local concat = table.concat
local floor = math.floor

local _M = { _VERSION = "0.1.0" }

local function encode_char(c) return format("%%%02X", byte(c)) end

-- RFC 3986 percent-encoding of a URI label or query component.
function _M.percent_encode(s)
  return (gsub(tostring(s), "[^%w%-%._~]", encode_char))
end

local function int_string(v)
  if math.tointeger then
    local i = math.tointeger(v)
    if i then return format("%d", i) end
  end
  return format("%.0f", floor(v))
end

-- JSON --------------------------------------------------------------------
-- A small ordered encoder: objects keep declaration order so a request body
-- is the same bytes every time (dry-run output, logs, tests). Strings are
-- escaped per RFC 8259; UTF-8 passes through.
local ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function esc_char(c) return ESC[c] or format("\\u%04x", byte(c)) end

function _M.json_string(s)
  if not find(s, '[%c"\\]') then return '"' .. s .. '"' end -- nothing to escape (the usual case)
  return '"' .. gsub(s, '[%c"\\]', esc_char) .. '"'
end
local json_string = _M.json_string

-- '"wire name":' of a body member, made once per member declaration
local member_keys = setmetatable({}, { __mode = "k" })
local function member_key(m)
  local k = member_keys[m]
  if not k then
    k = json_string(m.wire or m.name) .. ":"
    member_keys[m] = k
  end
  return k
end

local encode_value

local function encode_members(members, params, out)
  out[#out + 1] = "{"
  local first = true
  for i = 1, #members do -- declarations are plain arrays
    local m = members[i]
    local v = params[m.name]
    if v ~= nil and (m.location == nil or m.location == "body") then
      if not first then out[#out + 1] = "," end
      first = false
      out[#out + 1] = member_key(m)
      encode_value(m, v, out)
    end
  end
  out[#out + 1] = "}"
end

function encode_value(spec, v, out)
  local t = spec.type
  if t == "list" then
    local member = spec.member
    out[#out + 1] = "["
    for i = 1, #v do
      if i > 1 then out[#out + 1] = "," end
      encode_value(member, v[i], out)
    end
    out[#out + 1] = "]"
  elseif t == "structure" then
    encode_members(spec.members, v, out)
  elseif t == "integer" or t == "long" then
    out[#out + 1] = int_string(v)
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  else
    out[#out + 1] = json_string(tostring(v))
  end
end

-- Endpoint ----------------------------------------------------------------
-- build.parse_endpoint("http://127.0.0.1:4566/base") ->
--   {scheme=, host=, port=, authority= (what goes in Host), base_path=} | nil, msg
function _M.parse_endpoint(url)
  if type(url) ~= "string" then return nil, "endpoint must be a string URL" end
  local scheme, authority, rest = match(url, "^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  if not scheme then return nil, "endpoint is not an absolute URL: " .. url end
  scheme = lower(scheme)
  if scheme ~= "http" and scheme ~= "https" then
    return nil, "endpoint scheme must be http or https: " .. url
  end
  if authority == "" or find(authority, "@", 1, true) then
    return nil, "endpoint must have a host and no user information: " .. scheme .. "://..."
  end
  if find(rest, "[?#]") then return nil, "endpoint must not have a query or fragment: " .. url end
  local host, port
  if sub(authority, 1, 1) == "[" then
    host, port = match(authority, "^(%[[%x:.]+%])(.*)$")
  else
    host, port = match(authority, "^([^:]+)(.*)$")
  end
  if not host then return nil, "endpoint host is malformed: " .. url end
  if port ~= "" then
    port = match(port, "^:(%d+)$")
    if not port then return nil, "endpoint port is malformed: " .. url end
    port = tonumber(port)
  else
    port = nil
  end
  local default = scheme == "https" and 443 or 80
  local host_header = lower(host)
  if port and port ~= default then host_header = host_header .. ":" .. port end
  local base = gsub(rest, "/+$", "")
  return { scheme = scheme, host = lower(host), port = port or default, authority = host_header,
    base_path = base, url = scheme .. "://" .. host_header .. base }
end

-- Request -----------------------------------------------------------------
-- build.request(op, params, endpoint) -> req
-- op: an operation view from invite.model; params: validated boto3 params;
-- endpoint: from parse_endpoint. req = {method, path, query, url, headers =
-- {{name, value}...}, body}.
-- endpoint -> op -> URL, for operations whose URL does not depend on the parameters
local fixed_urls = setmetatable({}, { __mode = "k" })

function _M.request(op, params, endpoint)
  local has_body_members = false
  local body_given = false
  local query, labels -- made when a member needs them
  local input = op.input
  for i = 1, #input do
    local m = input[i]
    local v = params[m.name]
    local loc = m.location or "body"
    if loc == "body" then
      has_body_members = true
      if v ~= nil then body_given = true end
    elseif v ~= nil then
      local s = (m.type == "integer" or m.type == "long") and int_string(v) or tostring(v)
      if loc == "uri" then
        labels = labels or {}
        labels[m.wire] = s
      elseif loc == "querystring" then
        query = query or {}
        query[#query + 1] = _M.percent_encode(m.wire) .. "=" .. _M.percent_encode(s)
      else
        error("invite.build: unsupported location " .. tostring(loc) .. " for " .. m.name)
      end
    end
  end
  local path = op.uri
  local base = endpoint.base_path
  local q = query and concat(query, "&") or ""
  local url
  local templated = find(path, "{", 1, true)
  if not templated and q == "" then
    local by_op = fixed_urls[endpoint]
    if not by_op then
      by_op = setmetatable({}, { __mode = "k" })
      fixed_urls[endpoint] = by_op
    end
    url = by_op[op]
    if base ~= "" then path = base .. path end
    if not url then
      url = endpoint.scheme .. "://" .. endpoint.authority .. path
      by_op[op] = url
    end
  else
    if templated then
      local missing
      labels = labels or {}
      path = gsub(path, "{([^}]+)}", function(label)
        local greedy = sub(label, -1) == "+"
        if greedy then label = sub(label, 1, -2) end
        local v = labels[label]
        if v == nil then missing = label; return "" end
        local enc = _M.percent_encode(v)
        if greedy then enc = gsub(enc, "%%2F", "/") end
        return enc
      end)
      if missing then error("invite.build: URI label {" .. missing .. "} has no value", 2) end
    end
    if base ~= "" then path = base .. path end
    url = endpoint.scheme .. "://" .. endpoint.authority .. path .. (q ~= "" and ("?" .. q) or "")
  end
  local body = ""
  if body_given then
    local out = {}
    encode_members(op.input, params, out)
    body = concat(out)
  elseif has_body_members then
    body = "{}"
  end
  local headers = { { "Host", endpoint.authority } }
  if body ~= "" then headers[#headers + 1] = { "Content-Type", "application/json" } end
  return {
    method = op.method,
    path = path,
    query = q,
    url = url,
    headers = headers,
    body = body,
  }
end

return _M
