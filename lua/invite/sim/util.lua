-- invite.sim.util: small helpers shared by the simulator's modules: time formats, a JSON
-- encoder that keeps empty arrays as arrays and sorts object keys, query strings, base64,
-- a deterministic random-number generator and constant-time comparison. Percent-encoding, URL
-- parsing and the loopback test are the library's (invite.util), not repeated here.
-- Runs on Lua 5.4 and LuaJIT (no integer division, no bitwise operators).
local cjson = require "cjson.safe"
local mime = require "mime"

local _M = {}

local byte, char, concat, floor, format, sort, type, pairs, tostring, tonumber, setmetatable, getmetatable =
  string.byte, string.char, table.concat, math.floor, string.format, table.sort, type, pairs, tostring, tonumber,
  setmetatable, getmetatable

_M.null = cjson.null

---------------------------------------------------------------------------------------------------
-- Time
---------------------------------------------------------------------------------------------------

local days_from_civil = require("invite.time").days_from_civil

local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

local function valid_ymdhms(y, mo, d, h, mi, s)
  if mo < 1 or mo > 12 or d < 1 or h > 23 or mi > 59 or s > 60 then return false end
  local dim = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  local max = (mo == 2 and leap) and 29 or dim[mo]
  return d <= max
end

local function to_epoch(y, mo, d, h, mi, s)
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
end

-- "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123Z", "...+02:00" -> seconds since the epoch
-- (a number, fractional seconds kept). nil for anything else.
function _M.parse_iso8601(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if not valid_ymdhms(y, mo, d, h, mi, sec) then return nil end
  local frac = 0
  local f, tz = rest:match("^%.(%d+)(.*)$")
  if f then frac = tonumber("0." .. f); rest = tz end
  local offset
  if rest == "Z" then
    offset = 0
  else
    local sign, oh, om = rest:match("^([%+%-])(%d%d):(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  return to_epoch(y, mo, d, h, mi, sec) - offset + frac
end

-- "20150830T123600Z" -> seconds since the epoch, or nil.
function _M.parse_amz_date(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec = s:match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  if not y then return nil end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if not valid_ymdhms(y, mo, d, h, mi, sec) then return nil end
  return to_epoch(y, mo, d, h, mi, sec)
end

local function parts(t)
  local secs = floor(t)
  local days = floor(secs / 86400)
  local rem = secs - days * 86400
  local y, m, d = civil_from_days(days)
  return y, m, d, floor(rem / 3600), floor(rem % 3600 / 60), rem % 60, t - secs
end

-- Seconds since the epoch -> "2026-01-02T03:04:05.123Z" (millis = true) or "...05Z".
function _M.iso8601(t, millis)
  local y, m, d, h, mi, s, frac = parts(t)
  if millis then
    local ms = floor(frac * 1000 + 0.5)
    if ms > 999 then ms = 999 end
    return format("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, h, mi, s, ms)
  end
  return format("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi, s)
end

function _M.amz_date(t)
  local y, m, d, h, mi, s = parts(t)
  return format("%04d%02d%02dT%02d%02d%02dZ", y, m, d, h, mi, s)
end

-- RFC 7231 date for the Date header.
local WDAY = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" }
local MON = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }
function _M.http_date(t)
  local y, m, d, h, mi, s = parts(t)
  local wd = WDAY[floor(t / 86400) % 7 + 1]
  return format("%s, %02d %s %04d %02d:%02d:%02d GMT", wd, d, MON[m], y, h, mi, s)
end

---------------------------------------------------------------------------------------------------
-- JSON encoding: strings go through cjson (escaping), structure is ours so that empty arrays stay
-- arrays (`_M.array(t)`) and object keys come out sorted (stable logs and responses).
---------------------------------------------------------------------------------------------------

local ARRAY = {}
function _M.array(t)
  return setmetatable(t or {}, ARRAY)
end

local function is_array(t)
  if getmetatable(t) == ARRAY then return true end
  if next(t) == nil then return false end
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= floor(k) then return false end
  end
  return true
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if n == floor(n) and n > -1e15 and n < 1e15 then return format("%d", n) end
  return format("%.14g", n)
end

-- Strings go through cjson (C, and faster than any Lua-side scan), which escapes '/' as "\/":
-- valid JSON, but noisy in logs and ARNs; undo it. (In cjson's output a backslash followed by a
-- raw '/' only ever comes from that escape.) Object keys are memoised.
local function encode_string(s)
  local e = cjson.encode(s)
  if e:find("\\/", 1, true) then e = e:gsub("\\/", "/") end
  return e
end
_M.json_string = encode_string

local key_cache = setmetatable({}, { __mode = "k" })
local function encode_key(k)
  local e = key_cache[k]
  if not e then
    e = encode_string(k) .. ":"
    key_cache[k] = e
  end
  return e
end

-- Appends v's JSON to out after index n; returns the new last index.
local function encode(v, out, n)
  local tv = type(v)
  if tv == "string" then
    n = n + 1
    out[n] = encode_string(v)
  elseif tv == "number" then
    n = n + 1
    out[n] = encode_number(v)
  elseif tv == "boolean" then
    n = n + 1
    out[n] = v and "true" or "false"
  elseif v == nil or v == cjson.null then
    n = n + 1
    out[n] = "null"
  elseif tv == "table" then
    if is_array(v) then
      n = n + 1
      out[n] = "["
      for i = 1, #v do
        if i > 1 then n = n + 1; out[n] = "," end
        n = encode(v[i], out, n)
      end
      n = n + 1
      out[n] = "]"
    else
      local keys, nk = {}, 0
      for k in pairs(v) do
        nk = nk + 1
        keys[nk] = type(k) == "string" and k or tostring(k)
      end
      sort(keys)
      n = n + 1
      out[n] = "{"
      for i = 1, nk do
        local k = keys[i]
        if i > 1 then n = n + 1; out[n] = "," end
        n = n + 1
        out[n] = encode_key(k)
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        n = encode(val, out, n)
      end
      n = n + 1
      out[n] = "}"
    end
  else
    error("cannot encode a " .. tv .. " as JSON", 3)
  end
  return n
end

function _M.json_encode(v)
  local out = {}
  encode(v, out, 0)
  return concat(out)
end

-- An object with the keys listed in `order` first (in that order), then any others sorted.
function _M.json_encode_ordered(t, order)
  local out, n, done = { "{" }, 1, {}
  local first = true
  for _, k in ipairs(order) do
    local v = t[k]
    if v ~= nil then
      done[k] = true
      if not first then n = n + 1; out[n] = "," end
      first = false
      n = n + 1
      out[n] = encode_key(k)
      n = encode(v, out, n)
    end
  end
  local rest = {}
  for k in pairs(t) do
    if not done[k] then rest[#rest + 1] = k end
  end
  if #rest > 0 then
    sort(rest)
    for _, k in ipairs(rest) do
      if not first then n = n + 1; out[n] = "," end
      first = false
      n = n + 1
      out[n] = encode_key(k)
      n = encode(t[k], out, n)
    end
  end
  out[n + 1] = "}"
  return concat(out)
end

_M.json_decode = cjson.decode

---------------------------------------------------------------------------------------------------
-- Query strings (decoding: the library only encodes, with invite.util.percent_encode), XML
---------------------------------------------------------------------------------------------------

function _M.url_decode(s)
  s = s:gsub("%+", " ")
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- Like url_decode but a '+' stays a '+' (SigV4 paths and AWS query values use %20 for space).
function _M.percent_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- "a=1&b=2&a=3" -> list of {name, value} (decoded) and a map of the first value per name.
function _M.parse_query(q, plus_is_space)
  local list, map = {}, {}
  if not q or q == "" then return list, map end
  local dec = plus_is_space and _M.url_decode or _M.percent_decode
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    k, v = dec(k), dec(v)
    list[#list + 1] = { k, v }
    if map[k] == nil then map[k] = v end
  end
  return list, map
end

-- Text content only needs &, < and > escaped (quotes are left alone, as AWS's XML does).
local XML_ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;" }
function _M.xml_escape(s)
  return (tostring(s):gsub("[&<>]", XML_ESC))
end

---------------------------------------------------------------------------------------------------
-- base64 (url-safe variant for pagination tokens)
---------------------------------------------------------------------------------------------------

function _M.b64(s)
  return (mime.b64(s))
end

function _M.unb64(s)
  if type(s) ~= "string" or s == "" or s:find("[^%w%+/=]") then return nil end
  local ok, out = pcall(mime.unb64, s)
  if not ok then return nil end
  return out
end

---------------------------------------------------------------------------------------------------
-- Deterministic random numbers: Park-Miller "minimal standard" generator. Every intermediate
-- product stays below 2^53, so Lua 5.4 integers/floats and LuaJIT doubles give the same stream.
---------------------------------------------------------------------------------------------------

local PM_M, PM_A = 2147483647, 48271

local Rng = {}
Rng.__index = Rng

function _M.rng(seed)
  seed = floor(tonumber(seed) or 1) % PM_M
  if seed <= 0 then seed = seed + PM_M - 1 end
  local r = setmetatable({ x = seed }, Rng)
  -- The first outputs of a small seed are tiny (x1 = seed * 48271 < 0.05 * M for every seed
  -- below ~2200), so "5% 503" would fire on the first request whatever the seed. A few
  -- discarded steps spread the first draws of nearby seeds over [0, 1).
  for _ = 1, 8 do r:next_int() end
  return r
end

function Rng:next_int()
  self.x = (self.x * PM_A) % PM_M
  return self.x
end

-- Uniform in [0, 1).
function Rng:random()
  return (self:next_int() - 1) / (PM_M - 1)
end

-- Uniform integer in [1, n].
function Rng:int(n)
  return floor(self:random() * n) + 1
end

function Rng:chars(alphabet, n)
  local out, len = {}, #alphabet
  for i = 1, n do
    local k = self:int(len)
    out[i] = alphabet:sub(k, k)
  end
  return concat(out)
end

-- Request ids shaped like AWS's (8-4-4-4-12 lowercase hex).
function Rng:uuid()
  local a, b, c, d = self:next_int(), self:next_int(), self:next_int(), self:next_int()
  return format("%08x-%04x-4%03x-a%03x-%04x%08x", a, b % 65536, floor(b / 65536) % 4096, c % 4096,
    floor(c / 4096) % 65536, d)
end

---------------------------------------------------------------------------------------------------
-- Misc
---------------------------------------------------------------------------------------------------

-- Compares two strings without an early exit on the first differing byte.
function _M.ct_equal(a, b)
  if type(a) ~= "string" or type(b) ~= "string" then return false end
  local la, lb = #a, #b
  local diff = la == lb and 0 or 1
  local n = la > lb and la or lb
  for i = 1, n do
    local x, y = byte(a, i) or 0, byte(b, i) or 0
    diff = diff + (x == y and 0 or 1)
  end
  return diff == 0
end

function _M.is_account_id(s)
  return type(s) == "string" and #s == 12 and s:find("^%d+$") ~= nil
end

-- "us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-3"...
function _M.is_region(s)
  if type(s) ~= "string" or #s > 32 then return false end
  local fields = {}
  for f in s:gmatch("[^%-]+") do fields[#fields + 1] = f end
  if #fields < 3 or s:find("%-%-") or s:sub(1, 1) == "-" or s:sub(-1) == "-" then return false end
  if not fields[1]:find("^%l%l$") then return false end
  if not fields[#fields]:find("^%d+$") then return false end
  for i = 2, #fields - 1 do
    if not fields[i]:find("^%l+$") then return false end
  end
  return true
end

function _M.copy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = _M.copy(v) end
  return setmetatable(out, getmetatable(t))
end

return _M
