--- Policies: loading a policy file and checking what a policy decides.
-- A policy is a function `decide(inv) -> action [, reason]`, or a table with a
-- `decide` function and optional defaults (`services`, `regions`, `accounts`, `role`).
-- @module invite.policy
local _M = { _VERSION = "0.1.0" }

local type, pcall, tostring, loadfile = type, pcall, tostring, loadfile

--- The actions a policy may return.
_M.ACTIONS = { keep = true, decline = true, delete = true, decline_and_delete = true, accept = true }

local DEFAULT_KEYS = { decide = true, services = true, regions = true, accounts = true, role = true,
                       name = true, description = true }

--- Normalise a policy value (function or table) into a table with `decide`.
-- @return policy table, or nil and an error message
function _M.normalize(p, origin)
  origin = origin or "policy"
  if type(p) == "function" then return { decide = p } end
  if type(p) ~= "table" then
    return nil, origin .. ": a policy must be a function or a table with a decide function, got " .. type(p)
  end
  if type(p.decide) ~= "function" then
    return nil, origin .. ": policy table has no decide function (decide = function(inv) ... end)"
  end
  for k in pairs(p) do
    if not DEFAULT_KEYS[k] then
      return nil, origin .. ": unknown policy field '" .. tostring(k)
        .. "' (allowed: decide, services, regions, accounts, role, name, description)"
    end
  end
  return p
end

--- Load a policy file: plain Lua returning a function or a table.
-- Load and run errors carry the file name and line.
-- @return policy table, or nil and an error message
function _M.load(path)
  if type(path) ~= "string" then error("policy.load: path must be a string", 2) end
  local chunk, err = loadfile(path)
  if not chunk then return nil, "cannot load policy " .. tostring(err) end
  local ok, value = pcall(chunk)
  if not ok then return nil, "policy " .. path .. " failed while loading: " .. tostring(value) end
  return _M.normalize(value, path)
end

--- Ask the policy about one invitation.
-- @return action, reason; or nil and an error message naming the problem
function _M.decide(p, inv)
  local ok, action, reason = pcall(p.decide, inv)
  if not ok then return nil, "policy error: " .. tostring(action) end
  if type(action) ~= "string" or not _M.ACTIONS[action] then
    return nil, "policy returned an invalid action "
      .. (type(action) == "string" and ("'" .. action .. "'") or type(action))
      .. " (expected keep, decline, delete, decline_and_delete or accept)"
  end
  if reason ~= nil and type(reason) ~= "string" then
    return nil, "policy returned a " .. type(reason) .. " reason for '" .. action .. "' (a reason must be a string)"
  end
  return action, reason
end

return _M
