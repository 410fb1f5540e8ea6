--- invite - decline, delete or accept AWS Macie, Security Hub and GuardDuty
-- membership invitations from Lua.
--
--     local invite = require "invite"
--     local res, err = invite.macie2.decline_invitations{accountIds = {"111122223333"}}
--     local gd = invite.guardduty.client{region = "eu-west-1", profile = "audit"}
--     local res, err = gd:decline_invitations{AccountIds = {"111122223333"}}
--
-- Every field below is loaded on first access: requiring "invite" does no I/O
-- and loads no C code.
-- @module invite
local require, rawset, setmetatable, ipairs, type = require, rawset, setmetatable, ipairs, type

local _M = { _VERSION = require "invite.version" }

--- The `invite.<name>` module table of a service: `client{...}`, `configure{...}` (options of the
-- default client), `default_client()`, `paginate(op, params)` and every operation as a plain
-- function using a default client made on first use. `invite.<name>` is this, made once.
-- Documented per service in @{invite.macie2}, @{invite.securityhub}, @{invite.guardduty}.
-- @tparam string name service name
-- @treturn table
function _M.service_module(name)
  local client = require "invite.client"
  local svc = require("invite.model").service(name)
  local M = { service = name, api_version = svc.def.api_version, operations = {} }
  local default_opts, default = {}, nil
  --- `invite.<service>.client(opts)`: a new client (see the service pages).
  -- @local
  function M.client(opts) return client.new(name, opts) end
  --- `invite.<service>.configure(opts)`: options of the default client; checked now.
  -- @local
  function M.configure(opts)
    if opts ~= nil and type(opts) ~= "table" then error("configure: options must be a table", 2) end
    client.new(name, opts) -- check the options now
    default_opts, default = opts or {}, nil
  end
  --- `invite.<service>.default_client()`: the client module-level calls use.
  -- @local
  function M.default_client()
    if not default then default = client.new(name, default_opts) end
    return default
  end
  local function forward(method)
    return function(...)
      -- accept invite.macie2:decline_invitations{...} as well as .decline_invitations{...}
      local n = select("#", ...)
      local a, b = ...
      local params = a
      if a == M then params = b; n = n - 1 end
      if n > 1 then error(("invite.%s.%s takes one table of parameters"):format(name, method), 2) end
      local c = M.default_client()
      return c[method](c, params)
    end
  end
  for key, op in pairs(svc.ops) do
    M.operations[#M.operations + 1] = key
    M[key] = forward(key)
    if op.paginator then
      M[op.paginator.all] = forward(op.paginator.all)
      M[op.paginator.each] = forward(op.paginator.each)
    end
  end
  table.sort(M.operations)
  --- `invite.<service>.paginate(op, params)`: `Client:paginate` on the default client.
  -- @local
  function M.paginate(key, params) local c = M.default_client(); return c:paginate(key, params) end
  return M
end

local lazy = {
  --- The invitation services in their order, `{"macie2", "securityhub", "guardduty"}`: one for
  -- each `lua/invite/services/<name>.lua` with an `invitations` table (found on first access).
  -- `invite.<name>` is each one's module (boto3 names): `invite.macie2.client{...}` and
  -- module-level calls such as `invite.macie2.decline_invitations{accountIds = {...}}`; see
  -- @{invite.macie2}, @{invite.securityhub} and @{invite.guardduty}. A service declared without
  -- invitations (a client only) is `invite.<name>` as well.
  -- @table services
  services = function()
    local list = {}
    for i, name in ipairs(require("invite.model").SERVICES) do list[i] = name end
    return list
  end,
  --- The SigV4 signer, usable on its own for any AWS service. See @{invite.sigv4}.
  -- @table sigv4
  sigv4 = function() return require "invite.sigv4" end,
  --- The client factory and request pipeline (`invite.client.new(service, options)`), for advanced
  -- use. See @{invite.client}.
  -- @table client
  client = function() return require "invite.client" end,
  --- Error objects (`invite.errors`): every `err` returned has `code`, `message`, `status`,
  -- `request_id`, `retryable` and a one-line `__tostring`.
  -- @table errors
  errors = function() return require "invite.errors" end,
  --- Transports (`invite.transport`): libcurl outside nginx, cosockets inside.
  -- @table transport
  transport = function() return require "invite.transport" end,
  --- `invite.run{...}`: the policy runner, @{invite.runner.run} (same options, same report).
  -- @function run
  -- @tparam table opts services, regions, policy, apply, ... (see @{invite.runner.run})
  -- @treturn table report
  run = function() return require("invite.runner").run end,
  --- The runner module (@{invite.runner}): `run`, `exit_code`, `summary`, ...
  -- @table runner
  runner = function() return require "invite.runner" end,
}

return setmetatable(_M, {
  __index = function(t, k)
    local load = lazy[k]
    if not load then
      -- invite.<service>: any declared service
      if type(k) ~= "string" or not require("invite.model").is_service(k) then return nil end
      load = function() return _M.service_module(k) end
    end
    local v = load()
    rawset(t, k, v)
    return v
  end,
})
