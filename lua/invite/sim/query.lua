-- invite.sim.query: what the simulator's query-protocol services (invite.sim.sts, and EC2's dialect
-- in invite.sim.ec2) share: the form parameters of a request, XML from nodes, the answer table and
-- the error answer, the front door's refusals and the faults from a service's table.
--
--   local query = require "invite.sim.query"
--   query.params(req) -> the parameters (the form body of a POST over the query string)
--   query.operation(req, OPERATIONS) -> Action, params when OPERATIONS[Action], else nil, params
--   query.nodes(nodes, indent, out) -> out: XML lines; nodes are { tag, text } or { tag, { nodes } }
--   query.response(status, body, headers, extra_headers) -> { status, headers, body }
--   query.error(status, code, body, headers, extra_headers) -> the same with error_code = code
--   query.auth_error(AUTH, answer, failure, rid), query.fault(FAULTS, answer, kind, retry_after, rid)
--   query.front_door(M, AUTH, FAULTS)  -- M.AUTH, M.auth_error(failure, rid), M.fault(kind, retry_after, rid)
local util = require "invite.sim.util"

local _M = {}

local ipairs, pairs, type, tostring = ipairs, pairs, type, tostring

--- The request's parameters: the query string's, and over them a POST's form-encoded body (no
-- Content-Type, or application/x-www-form-urlencoded), decoded, + as a space.
function _M.params(req)
  local _, p = util.parse_query(req.query, true)
  local ct = (req.header["content-type"] or ""):lower()
  if req.method == "POST" and (ct == "" or ct:find("application/x-www-form-urlencoded", 1, true)) then
    local _, b = util.parse_query(req.body, true)
    for k, v in pairs(b) do p[k] = v end
  end
  return p
end

--- The operation a request names (its Action, when `operations` has it) and its parameters.
function _M.operation(req, operations)
  local p = _M.params(req)
  local action = p.Action
  if action and operations[action] then return action, p end
  return nil, p
end

--- XML lines, one element a line, children indented two spaces more; text escaped, nil text
-- leaves the element out. Appends to `out` and returns it.
function _M.nodes(nodes, indent, out)
  for _, n in ipairs(nodes) do
    if type(n[2]) == "table" then
      out[#out + 1] = indent .. "<" .. n[1] .. ">\n"
      _M.nodes(n[2], indent .. "  ", out)
      out[#out + 1] = indent .. "</" .. n[1] .. ">\n"
    elseif n[2] ~= nil then
      out[#out + 1] = indent .. "<" .. n[1] .. ">" .. util.xml_escape(n[2]) .. "</" .. n[1] .. ">\n"
    end
  end
  return out
end

--- An answer: `headers` (copied) and then `extra_headers`.
function _M.response(status, body, headers, extra_headers)
  local hs = {}
  for _, h in ipairs(headers) do hs[#hs + 1] = h end
  for _, h in ipairs(extra_headers or {}) do hs[#hs + 1] = h end
  return { status = status, headers = hs, body = body }
end

--- An error answer: the service's error document `body`, with the error code the log records.
function _M.error(status, code, body, headers, extra_headers)
  local res = _M.response(status, body, headers, extra_headers)
  res.error_code = code
  return res
end

--- The front door's refusal from the service's table AUTH (failure kind -> { status, code,
-- message? }; an unknown kind is a signature mismatch, no message the failure's own):
-- answer(status, code, message, rid), the service's error function.
function _M.auth_error(auth, answer, failure, rid)
  local m = auth[failure.kind] or auth.signature
  return answer(m[1], m[2], m[3] or failure.message, rid)
end

--- A fault in the service's style from its table FAULTS (throttle, "500", "503"; any other kind
-- is a 503) of { status, code, message }, with Retry-After when given.
function _M.fault(faults, answer, kind, retry_after, rid)
  local extra = retry_after and { { "Retry-After", tostring(retry_after) } } or nil
  local f = faults[kind] or faults["503"]
  return answer(f[1], f[2], f[3], rid, extra)
end

--- Gives the service module `mod` (whose mod.error(status, code, message, rid, extra_headers) is its
-- error answer) its front door from its tables: mod.AUTH = auth, mod.auth_error(failure, rid) and
-- mod.fault(kind, retry_after, rid), the hooks invite.sim calls.
function _M.front_door(mod, auth, faults)
  mod.AUTH = auth
  function mod.auth_error(failure, rid) return _M.auth_error(auth, mod.error, failure, rid) end
  function mod.fault(kind, retry_after, rid) return _M.fault(faults, mod.error, kind, retry_after, rid) end
end

return _M
