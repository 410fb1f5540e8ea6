--- Helpers every layer shares (the library and the simulator): RFC 3986 percent-encoding, one URL
-- parser, the loopback test of a host, and the project's error type.
--
-- Pure Lua, no dependency, no I/O: it loads on Lua 5.1-5.4 and LuaJIT, inside OpenResty too.
-- @module invite.util
local type, tostring, tonumber, setmetatable, getmetatable = type, tostring, tonumber, setmetatable, getmetatable
local format, byte, gsub, find, match, sub, lower = string.format, string.byte, string.gsub, string.find,
  string.match, string.sub, string.lower
local concat = table.concat

local _M = {}

---------------------------------------------------------------------------------------------------
-- Percent-encoding
---------------------------------------------------------------------------------------------------

local function encode_char(c) return format("%%%02X", byte(c)) end

--- RFC 3986 percent-encoding of a URI path segment, label or query component: every byte but the
-- unreserved A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex), as SigV4 and botocore encode.
-- @param s a string (anything else goes through tostring)
-- @treturn string
function _M.percent_encode(s)
  return (gsub(tostring(s), "[^%w%-%._~]", encode_char))
end

---------------------------------------------------------------------------------------------------
-- URLs
---------------------------------------------------------------------------------------------------

local DEFAULT_PORT = { http = 80, https = 443 }

--- Splits an absolute URL `scheme://host[:port][/path][?query][#fragment]`.
--
-- Refused (nil and a reason that does not repeat the URL, so a password in it never reaches a
-- message: the caller names the URL's source): anything but a string, no `scheme://`, spaces or
-- control characters, user information (`user:password@`), no host, a malformed host or port, a port
-- outside 1-65535. An IPv6 literal is written in brackets (`http://[::1]:8080/`).
-- @string url
-- @treturn table `scheme` (lower case), `host` (lower case; an IPv6 literal without its brackets),
--   `port` (the number given, else 80 for http and 443 for https, else nil), `port_given` (boolean),
--   `authority` (what a Host header carries: the host, bracketed if IPv6, then `:port` when a port is
--   given that is not the scheme's default), `origin` (`scheme://authority`), `path` ("" when the URL
--   has none), `query` (the text after `?`, nil without a `?`), `fragment` (after `#`, or nil)
-- @return[2] nil
-- @treturn[2] string why the URL is refused, e.g. "has a port outside 1-65535"
function _M.parse_url(url)
  if type(url) ~= "string" then return nil, "is not a string" end
  local scheme, rest = match(url, "^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "is not an absolute URL (scheme://host...)" end
  if find(url, "[%s%c]") then return nil, "contains spaces or control characters" end
  scheme = lower(scheme)
  local authority, tail = match(rest, "^([^/?#]*)(.*)$")
  if find(authority, "@", 1, true) then return nil, "contains user information (user:password@host)" end
  if authority == "" then return nil, "has no host" end
  local host, port, bracketed
  if sub(authority, 1, 1) == "[" then
    host, port = match(authority, "^%[([%x:.]+)%](.*)$")
    bracketed = true
  else
    host, port = match(authority, "^([^:]*)(.*)$")
  end
  if not host or host == "" or find(host, "[%[%]]") then return nil, "has a malformed host" end
  host = lower(host)
  local default = DEFAULT_PORT[scheme]
  local port_given = false
  if port == "" or port == ":" then
    port = default
  else
    local digits = match(port, "^:(%d+)$")
    if not digits then return nil, "has a malformed port" end
    port = tonumber(digits)
    if port < 1 or port > 65535 then return nil, "has a port outside 1-65535" end
    port_given = true
  end
  local path, query, fragment = tail, nil, nil
  local hash = find(path, "#", 1, true)
  if hash then path, fragment = sub(path, 1, hash - 1), sub(path, hash + 1) end
  local q = find(path, "?", 1, true)
  if q then path, query = sub(path, 1, q - 1), sub(path, q + 1) end
  local host_port = bracketed and "[" .. host .. "]" or host
  if port_given and port ~= default then host_port = host_port .. ":" .. port end
  return { scheme = scheme, host = host, port = port, port_given = port_given, authority = host_port,
           origin = scheme .. "://" .. host_port, path = path, query = query, fragment = fragment }
end

local function ipv6_groups(h)
  local function split(s)
    local t = {}
    if s == "" then return t end
    for g in (s .. ":"):gmatch("([^:]*):") do t[#t + 1] = g end
    return t
  end
  local head, tail = match(h, "^(.-)::(.*)$")
  if not head then return split(h) end
  local groups, hs, ts = {}, split(head), split(tail)
  for _, g in ipairs(hs) do groups[#groups + 1] = g end
  for _ = 1, 8 - #hs - #ts do groups[#groups + 1] = "0" end
  for _, g in ipairs(ts) do groups[#groups + 1] = g end
  return groups
end

local function ipv4_loopback(a, b, c, d)
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  return a == 127 and b <= 255 and c <= 255 and d <= 255
end

local function zero(group) return find(group, "^0+$") ~= nil end

--- Whether a host (or a peer address) is this machine's loopback: `localhost`, an IPv4 address in
-- 127.0.0.0/8, ::1 in any spelling (`0:0:0:0:0:0:0:1`, `0000::1`, with or without brackets), or
-- 127.0.0.0/8 mapped into IPv6 (`::ffff:127.0.0.1`, what a dual-stack socket reports).
-- @param host a host as parse_url returns it (or bracketed)
-- @treturn boolean
function _M.is_loopback(host)
  if type(host) ~= "string" then return false end
  host = lower(host)
  if host == "localhost" then return true end
  local a, b, c, d = match(host, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if a then return ipv4_loopback(a, b, c, d) end
  if not find(host, ":", 1, true) then return false end
  host = gsub(gsub(host, "^%[", ""), "%]$", "")
  local pre
  pre, a, b, c, d = match(host, "^(.*:)(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if pre then
    -- IPv4-mapped: the IPv4 part in two placeholder groups, then ::ffff:0:0 exactly
    local groups = ipv6_groups(pre .. "0:0")
    if #groups ~= 8 or not ipv4_loopback(a, b, c, d) then return false end
    for i = 1, 5 do
      if not zero(groups[i]) then return false end
    end
    return find(groups[6], "^0*ffff$") ~= nil
  end
  local groups = ipv6_groups(host)
  if #groups ~= 8 then return false end
  for i = 1, 7 do
    if not zero(groups[i]) then return false end
  end
  return find(groups[8], "^0*1$") ~= nil
end

---------------------------------------------------------------------------------------------------
-- Errors
---------------------------------------------------------------------------------------------------

--- package.searchpath on every Lua (5.1 lacks it): the first file of `path`'s templates that
-- `name` ("invite.core") names and that exists, or nil.
-- @tparam string name a module name
-- @tparam string path package.path or package.cpath
-- @treturn ?string
function _M.searchpath(name, path)
  if package.searchpath then return (package.searchpath(name, path)) end -- luacheck: ignore 143
  local sep = package.config:sub(1, 1)
  local rel = name:gsub("%.", sep == "\\" and "\\\\" or sep)
  for template in path:gmatch("[^;]+") do
    local candidate = template:gsub("%?", rel)
    local f = io.open(candidate, "rb")
    if f then
      f:close()
      return candidate
    end
  end
  return nil
end

--- The metatable of every error of the project (invite.errors builds its errors with it too).
-- @table error_mt
local error_mt = {}
error_mt.__index = error_mt
_M.error_mt = error_mt

-- One line: "guardduty DeclineInvitations: BadRequestException (HTTP 400): text
-- [request-id abc] after 3 attempts (retryable)".
function error_mt.__tostring(e)
  local parts = {}
  local where = e.service or ""
  if e.operation then where = (where ~= "" and where .. " " or "") .. e.operation end
  if where ~= "" then parts[#parts + 1] = where .. ": " end
  parts[#parts + 1] = tostring(e.code or "Error")
  if e.status then parts[#parts + 1] = " (HTTP " .. tostring(e.status) .. ")" end
  if e.message and e.message ~= "" then parts[#parts + 1] = ": " .. tostring(e.message) end
  if e.request_id then parts[#parts + 1] = " [request-id " .. tostring(e.request_id) .. "]" end
  if e.attempts and e.attempts > 1 then parts[#parts + 1] = " after " .. e.attempts .. " attempts" end
  if e.retryable then parts[#parts + 1] = " (retryable)" end
  -- one line: fold any newline a server put in its message
  return (gsub(concat(parts), "[\r\n]+", " "))
end

--- Makes t an error of the project: `code`, `message`, `status`, `request_id`, `retryable` (false
-- unless given) and whatever else t holds (service, operation, attempts...), printed on one line by
-- tostring. Build messages from names, paths and codes, never from secrets.
-- @tparam[opt] table t the fields (it becomes the error)
-- @treturn table the error
function _M.new_error(t)
  t = t or {}
  if t.retryable == nil then t.retryable = false end
  return setmetatable(t, error_mt)
end

--- Whether v is an error made by new_error (or by invite.errors).
-- @treturn boolean
function _M.is_error(v)
  return type(v) == "table" and getmetatable(v) == error_mt
end

return _M
