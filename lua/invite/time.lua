--- Calendar arithmetic in UTC without os.time (which works in the host's local zone).
-- @module invite.time
local _M = {}

local type, tonumber, floor = type, tonumber, math.floor

--- Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
function _M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- ISO 8601 / RFC 3339 -> seconds since the epoch (integer part), or nil.
-- Accepts 2024-01-02T03:04:05Z, with fractional seconds, with +hh:mm / -hh:mm, or a lower-case t/z.
function _M.parse_iso8601(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, rest = s:match(
    "^%s*(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.-)%s*$")
  if not y then return nil end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi),
    tonumber(sec)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then return nil end
  rest = rest:gsub("^%.%d+", "")
  local offset
  if rest == "Z" or rest == "z" then
    offset = 0
  else
    local sign, oh, om = rest:match("^([%+%-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 60 + tonumber(om)) * 60
    if sign == "-" then offset = -offset end
  end
  return _M.days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset
end

return _M
