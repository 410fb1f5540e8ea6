--- Policies: loading a policy file and checking what a policy decides.
-- A policy is a function `decide(inv) -> action [, reason]`, or a table with a
-- `decide` function and optional defaults (`services`, `regions`, `accounts`, `role`).
-- @module invite.policy
local _M = {}

local type, pcall, tostring, loadfile, ipairs, pairs = type, pcall, tostring, loadfile, ipairs, pairs
local model = require "invite.model"

--- The actions a policy may return.
_M.ACTIONS = { keep = true, decline = true, delete = true, decline_and_delete = true, accept = true }

local DEFAULT_KEYS = { decide = true, services = true, regions = true, accounts = true, role = true,
                       name = true, description = true }

-- A non-empty array of strings; -> true | false, what is wrong
local function strings(v)
  if type(v) ~= "table" then return false end
  if #v == 0 then return false, "an empty list" end
  for i, x in ipairs(v) do
    if type(x) ~= "string" then return false, "a " .. type(x) .. " at [" .. i .. "]" end
  end
  return true
end

-- The defaults a policy table may carry: field, check, what it must be (text, or a function
-- giving it: the services are found on first need). Values are checked
-- further by invite.run (region names, account ID lengths); here the message names the file.
local DEFAULT_RULES = {
  { "services", function(v)
      if type(v) == "string" then v = { v } end
      local ok, why = strings(v)
      if not ok then return false, why end
      for i, x in ipairs(v) do
        if not model.invitations(x) then return false, "'" .. x .. "' at [" .. i .. "]" end
      end
      return true
    end, function() return "a list of services (" .. table.concat(model.SERVICES, ", ") .. ")" end },
  { "regions", function(v) return type(v) == "string" or strings(v) end, '"all" or a list of region names' },
  { "accounts", strings, "a list of 12-digit account ID strings" },
  { "role", function(v) return type(v) == "string" and v ~= "" end, "a role name or an ARN template with {account}" },
  { "name", function(v) return type(v) == "string" end, "a string" },
  { "description", function(v) return type(v) == "string" end, "a string" },
}

--- The policy keys the invitation kinds' gates read, e.g. `handshake_actions` (the handshake
-- action types a policy decides; others are kept), with what their values are.
-- @treturn table key -> description of its values
function _M.gate_keys()
  local out, allowed = {}, {}
  for _, name in ipairs(model.SERVICES) do
    local g = model.invitations(name).gate
    if g then out[g.policy], allowed[g.policy] = g.values or "strings", g.allowed end
  end
  return out, allowed
end

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
  local gates, allowed = nil, nil -- the keys invitation kinds' gates read (handshake_actions), when needed
  for k in pairs(p) do
    if not DEFAULT_KEYS[k] then
      if not gates then gates, allowed = _M.gate_keys() end
      if not gates[k] then
        local names = { "decide", "services", "regions", "accounts", "role", "name", "description" }
        for g in pairs(gates) do names[#names + 1] = g end
        return nil, origin .. ": unknown policy field '" .. tostring(k) .. "' (allowed: " .. table.concat(names, ", ")
          .. ")"
      end
      local ok, why = strings(p[k])
      if not ok then
        return nil, origin .. ": policy field '" .. k .. "' must be a list of " .. gates[k] .. ", got "
          .. (why or type(p[k]))
      end
      local known = {}
      for _, a in ipairs(allowed[k] or {}) do known[a] = true end
      for i, v in ipairs(allowed[k] and p[k] or {}) do
        if not known[v] then
          local hint = require("invite.validate").closest(v, allowed[k])
          return nil, origin .. ": policy field '" .. k .. "'[" .. i .. "] = '" .. v .. "': not one of "
            .. table.concat(allowed[k], ", ") .. (hint and (" (did you mean '" .. hint .. "'?)") or "")
        end
      end
    end
  end
  for _, rule in ipairs(DEFAULT_RULES) do
    local k, check, want = rule[1], rule[2], rule[3]
    local v = p[k]
    if v ~= nil then
      local ok, detail = check(v)
      if not ok then
        if type(want) == "function" then want = want() end
        return nil, origin .. ": policy field '" .. k .. "' must be " .. want .. ", got "
          .. (detail or (type(v) == "string" and ("'" .. v .. "'") or type(v)))
      end
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
