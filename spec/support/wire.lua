-- support.wire: reading what a client put on the wire, for the specs that record requests.
--   wire.header(req, "Content-Type")   -- a header's value (names compared case-insensitively)
--   wire.form_pairs(body)              -- a form body as { {name, value}, ... } in order, decoded
--   wire.form(body)                    -- the same as a name -> value table
local _M = {}

function _M.header(req, name)
  for _, h in ipairs(req.headers) do
    if h[1]:lower() == name:lower() then return h[2] end
  end
end

local function decode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

function _M.form_pairs(body)
  local out = {}
  for k, v in ((body or "") .. "&"):gmatch("([^&=]*)=([^&]*)&") do out[#out + 1] = { decode(k), decode(v) } end
  return out
end

function _M.form(body)
  local t = {}
  for _, p in ipairs(_M.form_pairs(body)) do t[p[1]] = p[2] end
  return t
end

return _M
