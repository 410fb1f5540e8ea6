-- invite.model - loads the service declarations (invite.services.*) and gives
-- the pipeline indexed views of them. The declarations stay plain data; the
-- indexes are built once per service, on first use.
local _M = { _VERSION = "0.1.0" }

local pairs, ipairs, require, error, tostring = pairs, ipairs, require, error, tostring

-- The services this package declares, in a stable order.
_M.SERVICES = { "macie2", "securityhub", "guardduty" }

local known = {}
for _, n in ipairs(_M.SERVICES) do known[n] = true end

local cache = {}

-- Index an array of member specs by boto3 name, keeping the array order.
local function index_members(list)
  local by_name = {}
  for _, m in ipairs(list or {}) do by_name[m.name] = m end
  return by_name
end

-- model.service("guardduty") -> the declaration with, per operation, `key`
-- (snake_case), `by_name` (input members by boto3 name) and, per service,
-- `by_api_name` (operations by API name, e.g. "DeclineInvitations").
function _M.service(name)
  local svc = cache[name]
  if svc then return svc end
  if not known[name] then error("invite: unknown service '" .. tostring(name) .. "'", 2) end
  local def = require("invite.services." .. name)
  svc = { def = def, name = def.name, ops = {}, by_api_name = {} }
  for key, op in pairs(def.operations) do
    local view = {
      key = key, def = op, name = op.name, method = op.method, uri = op.uri,
      input = op.input or {}, output = op.output or {},
      by_name = index_members(op.input), batch = op.batch, deprecated = op.deprecated == true,
      twin_of = op.twin_of,
      paginator = def.paginators and def.paginators[key] or nil,
    }
    svc.ops[key] = view
    svc.by_api_name[op.name] = view
  end
  cache[name] = svc
  return svc
end

return _M
