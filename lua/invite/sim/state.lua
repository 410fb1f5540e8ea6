-- invite.sim.state: the simulator's mutable world, built from a validated fixture: invitations per
-- (service, region, invited account), administrator relationships, GuardDuty detectors, and the
-- credentials the simulator accepts (fixture access keys, fixture sessions, sessions issued by
-- sts:AssumeRole*). The lifecycle implemented here is documented in docs/simulator.md:
--   Invited --decline--> Resigned (still listed and counted, can be deleted)
--   Invited/Resigned --delete--> gone
--   Invited --accept--> Enabled (the administrator; listed, not counted, cannot be declined/deleted)
--   Enabled --disassociate--> Resigned
local util = require "invite.sim.util"

local _M = {}

local pairs, ipairs, sort, setmetatable = pairs, ipairs, table.sort, setmetatable

local State = {}
State.__index = State

local function key3(service, region, account)
  return service .. "/" .. region .. "/" .. account
end

function _M.new(fixture)
  local self = setmetatable({ fixture = fixture }, State)
  self:reset()
  return self
end

-- Back to the fixture's initial state (sessions issued since start are forgotten too).
function State:reset()
  local fx = self.fixture
  self.inv = {}      -- key3 -> { [inviter] = record }
  self.sorted = {}   -- key3 -> cached array sorted by inviter
  self.admin = {}    -- key3 -> record (from an invitation) or { inviter = id, org = true }
  self.keys = {}
  self.version = 0
  for kid, k in pairs(fx.keys) do self.keys[kid] = util.copy(k) end
  for _, v in ipairs(fx.invitations) do
    local rec = { service = v.service, region = v.region, account = v.account, inviter = v.inviter, id = v.id,
                  invited_at = v.invited_at, status = v.status, extra = v.extra and util.copy(v.extra) }
    local k = key3(v.service, v.region, v.account)
    self.inv[k] = self.inv[k] or {}
    -- an invitation kind's records (a module with `fixture`) are keyed by ID: one inviter may send several
    rec.key = v.keyed_by_id and ("id:" .. v.id) or v.inviter
    self.inv[k][rec.key] = rec
    if v.status == "Enabled" and not v.keyed_by_id then self.admin[k] = rec end
  end
  for _, a in ipairs(fx.administrators) do
    self.admin[key3(a.service, a.region, a.account)] = { inviter = a.administrator, status = "Enabled", org = true }
  end
end

function State:changed(k)
  self.version = self.version + 1
  if k then self.sorted[k] = nil end
end

-- Every invitation the account holds in that service and region, sorted by inviter account ID.
function State:list(service, region, account)
  local k = key3(service, region, account)
  local cached = self.sorted[k]
  if cached then return cached end
  local out = {}
  for _, rec in pairs(self.inv[k] or {}) do out[#out + 1] = rec end
  sort(out, function(a, b)
    if a.inviter ~= b.inviter then return a.inviter < b.inviter end
    return tostring(a.id) < tostring(b.id)
  end)
  self.sorted[k] = out
  return out
end

-- Number of invitations, not counting the currently accepted one (as the services document).
function State:count(service, region, account)
  local n = 0
  for _, rec in ipairs(self:list(service, region, account)) do
    if rec.status ~= "Enabled" then n = n + 1 end
  end
  return n
end

function State:find(service, region, account, inviter)
  local t = self.inv[key3(service, region, account)]
  return t and t[inviter]
end

function State:find_by_id(service, region, account, id)
  for _, rec in ipairs(self:list(service, region, account)) do
    if rec.id == id then return rec end
  end
end

--- Sets the status of an invitation kind's record (from @{State:list} or @{State:find_by_id}).
function State:set_status(rec, status)
  if rec.status ~= status then
    rec.status = status
    self:changed(key3(rec.service, rec.region, rec.account))
  end
end

--- Removes an invitation kind's record (Detective's rejected invitations are no longer listed).
function State:remove(rec)
  local k = key3(rec.service, rec.region, rec.account)
  local t = self.inv[k]
  if t and t[rec.key or rec.inviter] == rec then
    t[rec.key or rec.inviter] = nil
    self:changed(k)
  end
end

-- Returns true, or nil and "not_found" | "associated".
function State:decline(service, region, account, inviter)
  local rec = self:find(service, region, account, inviter)
  if not rec then return nil, "not_found" end
  if rec.status == "Enabled" then return nil, "associated" end
  if rec.status ~= "Resigned" then
    rec.status = "Resigned"
    self:changed()
  end
  return true
end

-- Returns true, or nil and "not_found" | "associated".
function State:delete(service, region, account, inviter)
  local k = key3(service, region, account)
  local rec = self.inv[k] and self.inv[k][inviter]
  if not rec then return nil, "not_found" end
  if rec.status == "Enabled" then return nil, "associated" end
  self.inv[k][inviter] = nil
  self:changed(k)
  return true
end

-- inviter may be nil (macie2 accepts an invitation by its ID alone). Returns the accepted record,
-- or nil and "already_associated" | "not_found" | "wrong_id" | "declined".
function State:accept(service, region, account, inviter, invitation_id)
  local k = key3(service, region, account)
  local current = self.admin[k]
  local rec
  if inviter then
    rec = self:find(service, region, account, inviter)
  else
    rec = self:find_by_id(service, region, account, invitation_id)
  end
  if current then
    if rec and current == rec and rec.id == invitation_id then return rec end -- accepting twice: no-op
    return nil, "already_associated"
  end
  if not rec then return nil, "not_found" end
  if rec.id ~= invitation_id then return nil, "wrong_id" end
  if rec.status == "Resigned" or rec.status == "Removed" then return nil, "declined" end
  rec.status = "Enabled"
  self.admin[k] = rec
  self:changed()
  return rec
end

function State:administrator(service, region, account)
  return self.admin[key3(service, region, account)]
end

-- Returns true, or nil and "not_associated".
function State:disassociate(service, region, account)
  local k = key3(service, region, account)
  local current = self.admin[k]
  if not current then return nil, "not_associated" end
  if not current.org then current.status = "Resigned" end
  self.admin[k] = nil
  self:changed()
  return true
end

function State:detectors(account, region)
  local d = self.fixture.detector_by_key[account .. "/" .. region]
  return d and { d.id } or {}
end

function State:owns_detector(account, region, id)
  local d = self.fixture.detector_by_key[account .. "/" .. region]
  return d ~= nil and d.id == id
end

function State:is_disabled(service, region, account)
  return self.fixture.disabled[key3(service, region, account)] == true
end

function State:credential(access_key_id)
  return self.keys[access_key_id]
end

function State:add_session(rec)
  self.keys[rec.access_key_id] = rec
  self:changed()
end

function State:account(id)
  return self.fixture.accounts[id]
end

function State:role_by_arn(arn)
  local acct, name = tostring(arn):match("^arn:aws[%w%-]*:iam::(%d%d%d%d%d%d%d%d%d%d%d%d):role/(.+)$")
  if not acct then return nil, "malformed" end
  name = name:match("([^/]+)$")
  local a = self.fixture.accounts[acct]
  local role = a and a.roles[name]
  if not role then return nil, "unknown" end
  return role
end

-- A JSON-ready picture of the state for GET /__sim/state (no secrets, no session tokens).
function State:snapshot(now)
  local invs, admins, sessions, detectors = {}, {}, {}, {}
  local keys = {}
  for k in pairs(self.inv) do keys[#keys + 1] = k end
  sort(keys)
  for _, k in ipairs(keys) do
    local service, region, account = k:match("^([^/]+)/([^/]+)/([^/]+)$")
    for _, rec in ipairs(self:list(service, region, account)) do
      local inv = { service = service, region = region, account = account, inviter = rec.inviter,
                    id = rec.id, invited_at = util.iso8601(rec.invited_at, true), status = rec.status }
      for f, v in pairs(rec.extra or {}) do inv[f] = v end
      invs[#invs + 1] = inv
    end
  end
  keys = {}
  for k in pairs(self.admin) do keys[#keys + 1] = k end
  sort(keys)
  for _, k in ipairs(keys) do
    local service, region, account = k:match("^([^/]+)/([^/]+)/([^/]+)$")
    local rec = self.admin[k]
    admins[#admins + 1] = { service = service, region = region, account = account, administrator = rec.inviter,
                            invitation_id = rec.id }
  end
  keys = {}
  for kid, c in pairs(self.keys) do
    if c.kind == "session" then keys[#keys + 1] = kid end
  end
  sort(keys)
  for _, kid in ipairs(keys) do
    local c = self.keys[kid]
    sessions[#sessions + 1] = { access_key_id = kid, account = c.account, role = c.role,
                                session_name = c.session_name, expiration = util.iso8601(c.expiration),
                                expired = now and c.expiration <= now or nil, source = c.source or "fixture" }
  end
  for _, d in ipairs(self.fixture.detectors) do
    detectors[#detectors + 1] = { account = d.account, region = d.region, id = d.id }
  end
  local accounts = {}
  for _, a in ipairs(self.fixture.account_list) do
    accounts[#accounts + 1] = { id = a.id, name = a.name }
  end
  return {
    version = self.version,
    accounts = util.array(accounts),
    invitations = util.array(invs),
    administrators = util.array(admins),
    detectors = util.array(detectors),
    sessions = util.array(sessions),
  }
end

return _M
