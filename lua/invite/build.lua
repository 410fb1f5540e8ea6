-- invite.build - what every protocol's request builder shares (invite.protocols.*): RFC 3986
-- percent-encoding, integer formatting, the endpoint's root URL, and the ordered JSON encoder of
-- the JSON protocols (rest-json, awsJson):
--   * a structure becomes one JSON object of its given members (wire names, declaration order),
--     so a request body is the same bytes every time (dry runs, logs, tests);
--   * lists become arrays, integers are written without a fraction, booleans as true/false,
--     everything else as a JSON string (escaped per RFC 8259; UTF-8 passes through).
-- A member placed elsewhere (`location = "uri"` or `"querystring"`: rest-json's) is not in the
-- body.
local tostring, setmetatable = tostring, setmetatable
local format, byte, gsub, find = string.format, string.byte, string.gsub, string.find
local concat = table.concat
local floor = math.floor

local _M = {}

-- RFC 3986 percent-encoding of a URI label or query component (invite.util's, the project's one).
_M.percent_encode = require("invite.util").percent_encode

-- An integer member's decimal text, whatever its Lua number subtype (cjson's 3600.0 is "3600").
local function int_string(v)
  if math.tointeger then
    local i = math.tointeger(v)
    if i then return format("%d", i) end
  end
  return format("%.0f", floor(v))
end
_M.int_string = int_string

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

--- build.encode_members(members, params, out): appends the JSON object of params' body members
-- to the array `out` (pieces to concatenate).
_M.encode_members = encode_members

--- build.json_object(members, params) -> the JSON text of params' body members ("{}" for none).
function _M.json_object(members, params)
  local out = {}
  encode_members(members, params, out)
  return concat(out)
end

--- build.root_url(endpoint) -> the endpoint's URL with the path "/" (where the query and awsJson
-- protocols POST), made once per endpoint.
function _M.root_url(endpoint)
  local url = endpoint.root_url
  if not url then
    url = endpoint.url .. "/"
    endpoint.root_url = url
  end
  return url
end

return _M
