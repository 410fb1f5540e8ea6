-- invite - decline, delete or accept AWS Macie, Security Hub and GuardDuty
-- membership invitations from Lua.
--
--   local invite = require "invite"
--   local res, err = invite.macie2.decline_invitations{accountIds = {"111122223333"}}
--   local gd = invite.guardduty.client{region = "eu-west-1", profile = "audit"}
--   local res, err = gd:decline_invitations{AccountIds = {"111122223333"}}
--
-- Every field below is loaded on first access: requiring "invite" does no I/O
-- and loads no C code.
local require, rawset, setmetatable = require, rawset, setmetatable

local _M = { _VERSION = "0.1.0" }

local function service(name)
  return function() return require("invite.client").service_module(name) end
end

local lazy = {
  -- service clients (boto3 names): invite.<service>.client{...} and module-level calls
  macie2 = service("macie2"),
  securityhub = service("securityhub"),
  guardduty = service("guardduty"),
  -- the SigV4 signer, usable on its own for any AWS service
  sigv4 = function() return require "invite.sigv4" end,
  -- pipeline pieces for advanced use
  client = function() return require "invite.client" end,
  errors = function() return require "invite.errors" end,
  transport = function() return require "invite.transport" end,
  -- invite.run{...}: the policy runner (invite.runner.run)
  run = function() return require("invite.runner").run end,
  runner = function() return require "invite.runner" end,
}

-- The services invite has clients for, in a stable order.
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
