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
local require, rawset, setmetatable = require, rawset, setmetatable

local _M = { _VERSION = "0.1.0" }

local function service(name)
  return function() return require("invite.client").service_module(name) end
end

local lazy = {
  -- service clients (boto3 names): invite.<service>.client{...} and module-level calls

  --- Amazon Macie's invitation API: `invite.macie2.client{...}` and module-level calls such as
  -- `invite.macie2.decline_invitations{accountIds = {...}}`. See @{invite.macie2}.
  -- @table macie2
  macie2 = service("macie2"),
  --- AWS Security Hub's invitation API (boto3 names, PascalCase). See @{invite.securityhub}.
  -- @table securityhub
  securityhub = service("securityhub"),
  --- Amazon GuardDuty's invitation API (boto3's PascalCase names over GuardDuty's camelCase wire
  -- JSON). See @{invite.guardduty}.
  -- @table guardduty
  guardduty = service("guardduty"),
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

--- The services invite has clients for, in a stable order: `{"macie2", "securityhub", "guardduty"}`.
_M.services = { "macie2", "securityhub", "guardduty" }

return setmetatable(_M, {
  __index = function(t, k)
    local load = lazy[k]
    if not load then return nil end
    local v = load()
    rawset(t, k, v)
    return v
  end,
})
