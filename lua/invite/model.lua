-- invite.model - loads the service declarations (invite.services.*) and gives
-- the pipeline indexed views of them. The declarations stay plain data; the
-- indexes are built once per service, on first use.
--
-- The services are the files lua/invite/services/<name>.lua: nothing lists them. A declaration
-- with an `invitations` table is an invitation service (the runner, the CLI and the simulator
-- work on it); one without is a client only (e.g. sts). The directory beside this file is
-- listed once per process, on first need (LuaFileSystem when it loads, else `ls` through
-- io.popen); modules in package.preload named invite.services.<name> count too, for bundles
-- that ship no files. Requiring this module does no I/O.
local _M = {}

local pairs, ipairs, require, error, tostring, type, pcall = pairs, ipairs, require, error, tostring, type, pcall
local concat, sort = table.concat, table.sort

local PREFIX = "invite.services."
local NAME = "^[%a_][%w_]*$"

-- Where this file was loaded from, e.g. "lua/invite/" (a string operation; nothing is read).
local HERE = (function()
  local info = debug and debug.getinfo and debug.getinfo(1, "S")
  local src = info and info.source or ""
  return src:match("^@(.-)model%.lua$")
end)()

local cache = {}

-- Index an array of member specs by boto3 name, keeping the array order.
local function index_members(list)
  local by_name = {}
  for _, m in ipairs(list or {}) do by_name[m.name] = m end
  return by_name
end

-- The declaration of `name`, or nil when there is none (a broken file still raises).
local function declaration(name)
  if type(name) ~= "string" or not name:find(NAME) then return nil end
  local module = PREFIX .. name
  local ok, def = pcall(require, module)
  if ok then return def end
  if tostring(def):find("module '" .. module .. "' not found", 1, true) then return nil end
  error(def, 0)
end

-- model.service("guardduty") -> the declaration with, per operation, `key`
-- (snake_case), `by_name` (input members by boto3 name) and, per service,
-- `by_api_name` (operations by API name, e.g. "DeclineInvitations").
function _M.service(name)
  local svc = cache[name]
  if svc then return svc end
  local def = declaration(name)
  if not def then error("invite: unknown service '" .. tostring(name) .. "'", 2) end
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

---------------------------------------------------------------------------------------------------
-- Invitation services: the `invitations` table of a declaration, checked against its operations
---------------------------------------------------------------------------------------------------

local each_view -- defined below

-- invite's statuses of an invitation, whatever the service calls them
local NORMALISED = { pending = true, declined = true, accepted = true, member = true, other = true }

-- The member `name` of a member list, or nil.
local function member_of(list, name)
  for _, m in ipairs(list or {}) do
    if m.name == name then return m end
  end
  return nil
end

-- The members of the structures in the list member `name` of `list`, or nil.
local function entries_of(list, name)
  local m = member_of(list, name)
  return m and m.type == "list" and m.member and m.member.type == "structure" and m.member.members or nil
end

-- An unprocessed entry's reason, from the members `reason` names: the ones present joined with
-- ": ", the last one "unprocessed" when absent (e.g. macie2's "ClientError: no invitation ...").
local function reason_function(members)
  local last = #members
  return function(entry)
    local parts = {}
    for i = 1, last - 1 do
      local v = entry[members[i]]
      if v ~= nil then parts[#parts + 1] = tostring(v) end
    end
    local v = entry[members[last]]
    parts[#parts + 1] = v == nil and "unprocessed" or tostring(v)
    return concat(parts, ": ")
  end
end

-- An operation of an invitation kind that acts on one invitation (`decline`, `accept`, `details`):
-- `operation` and `params` (input member -> "invitation_id" | "account_id" | "account" | a record
-- field), checked against the operation's input.
local function one_call(ops, spec, field, need)
  need(type(spec) == "table" and type(spec.operation) == "string" and ops[spec.operation], field,
    "needs operation, the name of an operation")
  local input = ops[spec.operation].input
  need(type(spec.params) == "table", field, "needs params (input member -> record field)")
  for param, from in pairs(spec.params) do
    need(member_of(input, param) and type(from) == "string", field, "params: '" .. tostring(param)
      .. "' is not an input of " .. spec.operation)
  end
  for _, m in ipairs(input or {}) do
    need(not m.required or spec.params[m.name] ~= nil or m.idempotency_token, field, "params: the required input '"
      .. m.name .. "' of " .. spec.operation .. " is not given")
  end
  local map = spec.params
  return { operation = spec.operation, params = map, api_name = ops[spec.operation].name,
           done_codes = spec.done_codes or {}, gone_codes = spec.gone_codes or {}, one = spec.one,
           -- the call's parameters for a record (its fields named by `params`)
           params_of = function(rec)
             local out = {}
             for param, from in pairs(map) do out[param] = rec[from] end
             return out
           end }
end

-- The facts of an invitation kind acted on one invitation at a time (no `ids`: Detective,
-- Organizations handshakes, RAM): what decline and accept call, which statuses are open, the extra
-- fields a record carries, and (global) one scope per account.
each_view = function(v, inv, def, fields, need)
  local ops = def.operations or {}
  v.each = true
  v.decline = one_call(ops, inv.decline, "decline", need)
  v.accept = one_call(ops, inv.accept, "accept", need)
  v.accept_api_name = v.accept.api_name
  need(type(inv.no_delete) == "string", "no_delete", "must say why the service has no delete")
  v.no_delete = inv.no_delete
  need(inv.open == nil or type(inv.open) == "table", "open", "must be a list of statuses")
  if inv.open then
    v.open = {}
    for _, st in ipairs(inv.open) do v.open[st] = true end
  end
  v.fields = {}
  for field, member in pairs(inv.fields or {}) do
    need(member_of(fields, member), "fields", "'" .. tostring(member) .. "' is not a member of the invitations")
    v.fields[field] = member
  end
  need(inv.derive == nil or type(inv.derive) == "function", "derive", "must be a function(raw, rec)")
  v.derive = inv.derive
  v.global = inv.global == true
  need(inv.label == nil or type(inv.label) == "string", "label", "must name a record field")
  v.label = inv.label
  v.organization = inv.organization
  if inv.details ~= nil then
    local d = one_call(ops, inv.details, "details", need)
    local pag = def.paginators and def.paginators[inv.details.operation]
    need(pag and pag.all, "details", "the operation needs a paginator")
    local entries = entries_of(ops[inv.details.operation].output, inv.details.list)
    need(entries and member_of(entries, inv.details.member), "details", "list/member: not in the output of "
      .. inv.details.operation)
    need(type(inv.details.field) == "string", "details", "needs field, the record field it fills")
    d.all, d.list, d.member, d.field = pag.all, inv.details.list, inv.details.member, inv.details.field
    v.details = d
  end
  if inv.gate ~= nil then
    local g = inv.gate
    need(type(g) == "table" and type(g.field) == "string" and type(g.policy) == "string"
      and type(g.default) == "table", "gate", "needs field, policy (the policy key) and default (a list)")
    v.gate = g
  end
  return v
end

-- The invitation facts of a declaration as the runner and the CLI use them; raises naming the
-- file and the field when a name does not match the service's operations.
local function invitation_view(name, def)
  local inv = def.invitations
  local where = "lua/invite/services/" .. name .. ".lua: invitations."
  if type(inv) ~= "table" then error("invite: " .. where:sub(1, -2) .. " must be a table", 0) end
  local function need(ok, field, what)
    if ok then return end
    local val = inv[field]
    error("invite: " .. where .. field .. (type(val) == "table" and "" or (" = " .. tostring(val))) .. ": " .. what, 0)
  end
  local ops = def.operations or {}
  local v = {
    name = name, order = inv.order, title = def.title or name,
    short_title = ((def.title or name):gsub("^Amazon ", ""):gsub("^AWS ", "")), -- "Security Hub"
    list = inv.list, account = inv.account, id = inv.id, at = inv.at, status = inv.status,
    ids = inv.ids, unprocessed = inv.unprocessed, unprocessed_account = inv.unprocessed_account,
    count = inv.count, accept = inv.accept,
  }
  need(inv.order == nil or type(inv.order) == "number", "order", "must be a number")
  local list_name = inv.list_operation or "list_invitations"
  local list_op = ops[list_name] or {}
  local pag = def.paginators and def.paginators[list_name]
  need(pag and pag.all, "list", "the service needs " .. list_name .. " with a paginator")
  v.list_all, v.list_operation = pag.all, list_name
  local fields = entries_of(list_op.output, inv.list)
  need(fields, "list", "not a list of structures in the output of " .. list_name)
  for _, f in ipairs{ "account", "id", "at", "status" } do
    need(inv[f] == nil and f == "account" and type(inv.derive) == "function" or member_of(fields, inv[f]), f,
      "not a member of the invitations in '" .. tostring(inv.list) .. "'")
  end
  -- every status word the service sends, as one of invite's five; an unknown word is "other"
  need(type(inv.statuses) == "table", "statuses", "must map the service's status words to pending, declined, "
    .. "accepted, member or other")
  local map = {}
  for word, norm in pairs(inv.statuses) do
    need(NORMALISED[norm], "statuses", "'" .. tostring(word) .. "' = '" .. tostring(norm) .. "': not one of pending, "
      .. "declined, accepted, member, other")
    map[word:upper()] = norm
  end
  v.statuses = inv.statuses
  v.normalize = function(word)
    return type(word) == "string" and map[word:upper()] or "other"
  end
  if inv.ids == nil then return each_view(v, inv, def, fields, need) end
  for _, opname in ipairs{ "decline_invitations", "delete_invitations" } do
    local op = ops[opname] or {}
    local ids = member_of(op.input, inv.ids)
    need(ids and ids.type == "list", "ids", "not a list in the input of " .. opname)
    local un = entries_of(op.output, inv.unprocessed)
    need(un, "unprocessed", "not a list of structures in the output of " .. opname)
    need(member_of(un, inv.unprocessed_account), "unprocessed_account", "not a member of its entries")
    need(type(inv.reason) == "table" and #inv.reason > 0, "reason", "must list members of its entries")
    for _, r in ipairs(inv.reason) do need(member_of(un, r), "reason", "'" .. tostring(r) .. "' is not a member") end
  end
  v.reason = reason_function(inv.reason)
  local count_op = ops.get_invitations_count or {}
  need(member_of(count_op.output, inv.count), "count", "not a member of the output of get_invitations_count")
  local acc = inv.accept
  need(type(acc) == "table" and ops[acc.operation], "accept", "needs operation, the name of an operation")
  local input = ops[acc.operation].input
  for _, f in ipairs{ "administrator", "invitation" } do
    need(acc[f] == nil or member_of(input, acc[f]), "accept", f .. " '" .. tostring(acc[f]) .. "' is not an input of "
      .. acc.operation)
  end
  local look = acc.lookup
  if look ~= nil then
    need(type(look) == "table" and member_of(input, look.param) and ops[look.operation]
      and member_of(ops[look.operation].output, look.first) and type(look.missing) == "string", "accept",
      "lookup needs param (an input of " .. acc.operation .. "), operation, first (a list in its output) and missing")
  end
  v.accept_api_name = ops[acc.operation].name
  return v
end

local facts = {} -- name -> invitation_view
local declared -- { names = {...}, invitation_names = {...} }, once per process

-- Quotes a word for /bin/sh.
local function sh_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- The entries of directory `dir`, or nil and why not.
local function list_dir(dir)
  local ok, lfs = pcall(require, "lfs")
  if ok and type(lfs) == "table" and type(lfs.dir) == "function" then
    local entries = {}
    local lok, lerr = pcall(function()
      for entry in lfs.dir(dir) do entries[#entries + 1] = entry end
    end)
    if lok then return entries end
    return nil, tostring(lerr)
  end
  if type(io.popen) ~= "function" then return nil, "no LuaFileSystem and no io.popen to list " .. dir end
  local pok, p = pcall(io.popen, "ls -1a -- " .. sh_quote(dir) .. " 2>/dev/null")
  if not pok or not p then return nil, "cannot run ls on " .. dir end
  local entries = {}
  local text = p:read("*a") or ""
  p:close()
  for line in text:gmatch("[^\n]+") do entries[#entries + 1] = line end
  if #entries == 0 then return nil, "cannot list " .. dir end
  return entries
end

-- The declared names: the files of the services directory and package.preload's modules.
local function discover()
  local names, seen, why = {}, {}, nil
  local function add(n)
    if n and not seen[n] then seen[n], names[#names + 1] = true, n end
  end
  local here = HERE
  if not here then
    local model_file = require("invite.util").searchpath("invite.model", package.path)
    here = model_file and model_file:match("^(.-)model%.lua$")
  end
  local listed = false
  if here then
    local dir = here .. "services"
    local entries, err = list_dir(dir)
    if entries then
      listed = true
      for _, e in ipairs(entries) do add(e:match("^([%a_][%w_]*)%.lua$")) end
    else
      why = err
    end
  else
    why = "cannot tell where invite.model was loaded from"
  end
  for k in pairs(package.preload) do
    if type(k) == "string" then add(k:match("^invite%.services%.([%a_][%w_]*)$")) end
  end
  if #names == 0 then
    error("invite: cannot find the service declarations (lua/invite/services/<name>.lua"
      .. (listed and "" or (": " .. tostring(why))) .. "); install LuaFileSystem or allow io.popen, "
      .. "or preload invite.services.<name> modules", 0)
  end
  return names
end

-- Loads every declaration once and orders them: invitation services by their order (then by
-- name), clients-only after them by name.
local function load_all()
  if declared then return declared end
  local names = discover()
  local views = {}
  for _, n in ipairs(names) do
    local def = declaration(n)
    if type(def) ~= "table" then error("invite: invite.services." .. n .. " is not a service declaration", 0) end
    views[n] = _M.invitations(n)
  end
  local function key(n)
    local v = views[n]
    return v and 0 or 1, v and v.order or math.huge
  end
  sort(names, function(a, b)
    local ka, oa = key(a)
    local kb, ob = key(b)
    if ka ~= kb then return ka < kb end
    if oa ~= ob then return oa < ob end
    return a < b
  end)
  local invitations = {}
  for _, n in ipairs(names) do
    if views[n] then invitations[#invitations + 1] = n end
  end
  declared = { names = names, invitation_names = invitations }
  return declared
end

--- The invitation facts of service `name` (its declaration's `invitations` table, checked and
-- with `reason(entry)` and `list_all` added), or nil when `name` is not an invitation service.
-- Needs no listing of the services: a name the directory does not hold can still be required.
function _M.invitations(name)
  local v = facts[name]
  if v then return v end
  local def = declaration(name)
  if type(def) ~= "table" or def.invitations == nil then return nil end
  v = invitation_view(name, def)
  facts[name] = v
  return v
end

--- Every declared service, invitation services first (in order), then the clients-only.
function _M.declared()
  local out = {}
  for i, n in ipairs(load_all().names) do out[i] = n end
  return out
end

--- `name` is declared (an invitation service or a client only).
function _M.is_service(name)
  if cache[name] then return true end
  return declaration(name) ~= nil
end

--- The short titles of the invitation services, e.g. "Macie, Security Hub and GuardDuty" (`last`
-- in place of " and ").
function _M.titles(last)
  local t = {}
  for i, n in ipairs(_M.SERVICES) do t[i] = _M.invitations(n).short_title end
  return _M.join(t, last)
end

--- "a, b and c" (or with `last` in place of " and ").
function _M.join(list, last)
  if #list <= 1 then return list[1] or "" end
  return concat(list, ", ", 1, #list - 1) .. (last or " and ") .. list[#list]
end

-- model.SERVICES: the invitation services in their order, e.g. {"macie2", "securityhub",
-- "guardduty"}, found on first access.
return setmetatable(_M, {
  __index = function(t, k)
    if k ~= "SERVICES" then return nil end
    local list = {}
    for i, n in ipairs(load_all().invitation_names) do list[i] = n end
    rawset(t, k, list)
    return list
  end,
})
