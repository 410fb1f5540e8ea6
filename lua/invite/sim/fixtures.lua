-- invite.sim.fixtures: loads and validates the simulator's fixture file (JSON) and returns a
-- normalised description of the simulated organisation. The format is documented in
-- docs/simulator.md. Every problem is reported with its field path and the rule it breaks,
-- e.g. `accounts[2].access_keys[0].id: must start with AKIA`. Paths use 0-based indexes, as the
-- JSON file itself does.
local cjson = require "cjson.safe"
local util = require "invite.sim.util"

local _M = {}

local type, pairs, ipairs, format, concat, sort = type, pairs, ipairs, string.format, table.concat, table.sort

local served -- { list, by_name }, once per process

--- The invitation services the simulator serves: those of invite (invite.model.SERVICES, in their
-- order) that have a simulator module invite.sim.<name>, loaded on first call.
-- @treturn {string,...} names
-- @treturn table name -> that module (routes, ops, names, words; see invite.sim.macie2)
function _M.services()
  if not served then
    local list, by_name = {}, {}
    for _, name in ipairs(require("invite.model").SERVICES) do
      local module = "invite.sim." .. name
      local ok, mod = pcall(require, module)
      if ok then
        list[#list + 1], by_name[name] = name, mod
      elseif not tostring(mod):find("module '" .. module .. "' not found", 1, true) then
        error(mod, 0)
      end
    end
    served = { list = list, by_name = by_name }
  end
  return served.list, served.by_name
end

--- The invitation kinds whose simulator module declares a `fixture` table (statuses, default_status,
-- fields, global: see docs/simulator.md, "Invitation kinds"), by service name; found on first call.
-- @treturn table name -> that module
local kinds_cache
function _M.kinds()
  if not kinds_cache then
    local by_name = {}
    for _, name in ipairs(require("invite.model").declared()) do
      local module = "invite.sim." .. name
      local ok, mod = pcall(require, module)
      if ok and type(mod) == "table" and type(mod.fixture) == "table" then
        by_name[name] = mod
      elseif not ok and not tostring(mod):find("module '" .. module .. "' not found", 1, true) then
        error(mod, 0)
      end
    end
    kinds_cache = by_name
  end
  return kinds_cache
end

_M.STATUSES = { Invited = true, Enabled = true, Resigned = true, Removed = true }
local MAX_ERRORS = 25

local Checker = {}
Checker.__index = Checker

local function new_checker(now)
  return setmetatable({ errors = {}, now = math.floor(now or os.time()) }, Checker)
end

function Checker:fail(path, rule)
  if #self.errors < MAX_ERRORS then
    self.errors[#self.errors + 1] = (path ~= "" and path or "(top level)") .. ": " .. rule
  end
  return nil
end

local function is_list(v)
  if type(v) ~= "table" then return false end
  local n = #v
  for k in pairs(v) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then return false end
  end
  return true
end

local function is_object(v)
  if type(v) ~= "table" then return false end
  for k in pairs(v) do
    if type(k) ~= "string" then return false end
  end
  return true
end

-- Keys starting with "_" and "comment"/"description" are free-form notes everywhere.
local function is_note(k)
  return type(k) == "string" and (k:sub(1, 1) == "_" or k == "comment" or k == "description")
end

function Checker:object(v, path, allowed)
  if not is_object(v) then return self:fail(path, "must be an object") end
  local unknown = {}
  for k in pairs(v) do
    if not allowed[k] and not is_note(k) then unknown[#unknown + 1] = k end
  end
  sort(unknown)
  for _, k in ipairs(unknown) do
    local names = {}
    for a in pairs(allowed) do names[#names + 1] = a end
    sort(names)
    self:fail(path == "" and k or (path .. "." .. k), "unknown field (allowed: " .. concat(names, ", ") .. ")")
  end
  return v
end

function Checker:list(v, path, optional)
  if v == nil and optional then return {} end
  if not is_list(v) then return self:fail(path, "must be an array") end
  return v
end

function Checker:string(v, path, optional)
  if v == nil and optional then return nil end
  if type(v) ~= "string" or v == "" then return self:fail(path, "must be a non-empty string") end
  return v
end

function Checker:account_id(v, path)
  if not util.is_account_id(v) then return self:fail(path, "must be a 12-digit account ID string") end
  return v
end

function Checker:region(v, path)
  if not util.is_region(v) and not require("invite.regions").known(v) then
    return self:fail(path, "must be a region name like us-east-1")
  end
  return v
end

-- `service` exists in `region` (invite.sim.regions.exists: the simulator answers 404 UnknownEndpoint
-- where it does not, as AWS has no endpoint there).
function Checker:exists(service, region, path)
  if require("invite.sim.regions").exists(service, region) then return true end
  local regions = require "invite.regions"
  if not regions.known(region) then
    return self:fail(path, "is not a region invite knows (its region table is from botocore " .. regions.BOTOCORE
      .. "); the simulator answers no service there")
  end
  local partition = regions.partition(region)
  return self:fail(path, service .. " does not exist in " .. region .. " (it has " .. #regions.of(service, partition)
    .. " regions in partition " .. partition .. ", botocore " .. regions.BOTOCORE
    .. "); the simulator answers 404 UnknownEndpoint there")
end

function Checker:service(v, path)
  local list, by_name = _M.services()
  local kinds = _M.kinds()
  if not by_name[v] and not kinds[v] then
    local names = {}
    for i, n in ipairs(list) do names[i] = n end
    for n in pairs(kinds) do
      if not by_name[n] then names[#names + 1] = n end
    end
    return self:fail(path, "must be one of " .. concat(names, ", "))
  end
  return v
end

-- An extra field of an invitation kind's entry (its module's fixture.fields): "string", "strings"
-- (an array of non-empty strings), "account" (a 12-digit ID) or a list of the allowed values.
function Checker:kind_field(v, path, rule)
  if v == nil then return nil end
  if rule == "string" then return self:string(v, path) end
  if rule == "account" then return self:account_id(v, path) end
  if rule == "strings" then
    if not self:list(v, path) then return nil end
    for i, s in ipairs(v) do
      if type(s) ~= "string" or s == "" then
        return self:fail(path .. "[" .. (i - 1) .. "]", "must be a non-empty string")
      end
    end
    return v
  end
  for _, allowed in ipairs(rule) do
    if v == allowed then return v end
  end
  return self:fail(path, "must be one of " .. concat(rule, ", "))
end

local UNIT = { s = 1, m = 60, h = 3600, d = 86400 }

-- An ISO-8601 time, or a time relative to when the fixture is loaded: "now", "now-3d", "now+12h"
-- (units s, m, h, d), so that "recent" invitations stay recent.
function Checker:time(v, path)
  local t
  if type(v) == "string" then
    if v == "now" then
      t = self.now
    else
      local sign, n, unit = v:match("^now([%+%-])(%d+)([smhd])$")
      if sign then
        t = self.now + (sign == "+" and 1 or -1) * tonumber(n) * UNIT[unit]
      else
        t = util.parse_iso8601(v)
      end
    end
  end
  if not t then
    return self:fail(path, "must be an ISO-8601 UTC time like 2026-01-31T12:00:00Z or now-3d / now+12h")
  end
  return t
end

local function idx(path, i)
  return format("%s[%d]", path, i - 1)
end

local function check_accounts(c, fx, out)
  if fx.accounts == nil then return c:fail("accounts", "is required (an array of at least one account)") end
  local accounts = c:list(fx.accounts, "accounts")
  if not accounts then return end
  if #accounts == 0 then c:fail("accounts", "must list at least one account") end
  for i, a in ipairs(accounts) do
    local p = idx("accounts", i)
    -- status, email, parent, joined: the account in the organisation (check_organization);
    -- enabled_regions: the opt-in regions it has enabled, denied: operations refused to it (check_regions)
    if c:object(a, p, { id = true, name = true, access_keys = true, roles = true, status = true, email = true,
                        parent = true, joined = true, enabled_regions = true, denied = true }) then
      local id = c:account_id(a.id, p .. ".id")
      local name = c:string(a.name, p .. ".name", true)
      local acct = { id = id, name = name or id, roles = {}, role_list = {} }
      if id then
        if out.accounts[id] then c:fail(p .. ".id", "duplicate account " .. id) end
        out.accounts[id] = acct
        out.account_list[#out.account_list + 1] = acct
      end
      if name then
        if out.names[name] then c:fail(p .. ".name", "duplicate account name " .. name) end
        out.names[name] = acct
      end
      local keys = c:list(a.access_keys, p .. ".access_keys", true) or {}
      for j, k in ipairs(keys) do
        local kp = idx(p .. ".access_keys", j)
        if c:object(k, kp, { id = true, secret = true, user = true, user_id = true }) then
          local kid = c:string(k.id, kp .. ".id")
          if kid and not kid:find("^AKIA[A-Z0-9]+$") then
            c:fail(kp .. ".id", "must start with AKIA followed by capital letters or digits")
            kid = nil
          elseif kid and (#kid < 16 or #kid > 128) then
            c:fail(kp .. ".id", "must be 16 to 128 characters long")
            kid = nil
          end
          local secret = c:string(k.secret, kp .. ".secret")
          local user = c:string(k.user, kp .. ".user", true) or "sim-user"
          if user and not user:find("^[%w%+=,%.@_%-]+$") then c:fail(kp .. ".user", "must be an IAM user name") end
          local user_id = c:string(k.user_id, kp .. ".user_id", true)
          if kid then
            if out.keys[kid] then c:fail(kp .. ".id", "duplicate access key " .. kid) end
            out.keys[kid] = {
              access_key_id = kid, secret = secret, account = id, user = user, kind = "user",
              user_id = user_id or ("AIDA" .. kid:sub(5, 20)),
            }
          end
        end
      end
      local roles = c:list(a.roles, p .. ".roles", true) or {}
      for j, r in ipairs(roles) do
        local rp = idx(p .. ".roles", j)
        if c:object(r, rp, { name = true, trusted_accounts = true, max_session_duration = true,
                             web_identity_tokens = true, role_id = true, external_id = true }) then
          local rname = c:string(r.name, rp .. ".name")
          if rname and (not rname:find("^[%w%+=,%.@_%-]+$") or #rname > 64) then
            c:fail(rp .. ".name", "must be an IAM role name (1-64 of letters, digits, +=,.@_-)")
          end
          local trusted = {}
          for t, acc in ipairs(c:list(r.trusted_accounts, rp .. ".trusted_accounts", true) or {}) do
            if c:account_id(acc, idx(rp .. ".trusted_accounts", t)) then trusted[acc] = true end
          end
          local maxd = r.max_session_duration
          if maxd == nil then
            maxd = 3600
          elseif type(maxd) ~= "number" or maxd % 1 ~= 0 or maxd < 3600 or maxd > 43200 then
            c:fail(rp .. ".max_session_duration", "must be an integer from 3600 to 43200")
          end
          local tokens = {}
          for t, tok in ipairs(c:list(r.web_identity_tokens, rp .. ".web_identity_tokens", true) or {}) do
            local tp = idx(rp .. ".web_identity_tokens", t)
            if type(tok) == "string" then
              if #tok < 4 then c:fail(tp, "must be at least 4 characters") end
              tokens[tok] = { token = tok, subject = "sim-web-identity-subject", audience = "sts.amazonaws.com",
                              provider = "sim.invalid" }
            elseif c:object(tok, tp, { token = true, subject = true, audience = true, provider = true }) then
              local tt = c:string(tok.token, tp .. ".token")
              if tt then
                tokens[tt] = { token = tt, subject = tok.subject or "sim-web-identity-subject",
                               audience = tok.audience or "sts.amazonaws.com",
                               provider = tok.provider or "sim.invalid" }
              end
            end
          end
          if rname and acct.roles[rname] then c:fail(rp .. ".name", "duplicate role " .. rname) end
          if rname then
            local role = {
              name = rname, account = id, trusted = trusted, max_session_duration = maxd, web_identity = tokens,
              arn = format("arn:aws:iam::%s:role/%s", id or "?", rname),
              role_id = c:string(r.role_id, rp .. ".role_id", true),
              external_id = c:string(r.external_id, rp .. ".external_id", true),
            }
            acct.roles[rname] = role
            acct.role_list[#acct.role_list + 1] = role
          end
        end
      end
    end
  end
end

local function check_sessions(c, fx, out)
  for i, s in ipairs(c:list(fx.sessions, "sessions", true) or {}) do
    local p = idx("sessions", i)
    if c:object(s, p, { access_key_id = true, secret = true, session_token = true, account = true, role = true,
                        session_name = true, expiration = true }) then
      local kid = c:string(s.access_key_id, p .. ".access_key_id")
      if kid and (not kid:find("^ASIA[A-Z0-9]+$") or #kid < 16) then
        c:fail(p .. ".access_key_id", "must start with ASIA and be at least 16 characters")
        kid = nil
      end
      local secret = c:string(s.secret, p .. ".secret")
      local token = c:string(s.session_token, p .. ".session_token")
      local account = c:account_id(s.account, p .. ".account")
      if account and not out.accounts[account] then c:fail(p .. ".account", "is not an account of this fixture") end
      local role = c:string(s.role, p .. ".role")
      if role and account and out.accounts[account] and not out.accounts[account].roles[role] then
        c:fail(p .. ".role", "is not a role of account " .. account)
      end
      local sname = c:string(s.session_name, p .. ".session_name", true) or "sim-session"
      local exp = c:time(s.expiration, p .. ".expiration")
      if kid then
        if out.keys[kid] then c:fail(p .. ".access_key_id", "duplicate access key " .. kid) end
        out.keys[kid] = { access_key_id = kid, secret = secret, session_token = token, account = account, role = role,
                          session_name = sname, expiration = exp, kind = "session" }
      end
    end
  end
end

local function check_detectors(c, fx, out)
  local seen_ids = {}
  for i, d in ipairs(c:list(fx.detectors, "detectors", true) or {}) do
    local p = idx("detectors", i)
    if c:object(d, p, { account = true, region = true, id = true }) then
      local account = c:account_id(d.account, p .. ".account")
      if account and not out.accounts[account] then c:fail(p .. ".account", "is not an account of this fixture") end
      local region = c:region(d.region, p .. ".region")
      if region and not c:exists("guardduty", region, p .. ".region") then region = nil end
      local id = c:string(d.id, p .. ".id")
      if id and (#id > 300 or not id:find("^[%w%-]+$")) then
        c:fail(p .. ".id", "must be 1-300 letters, digits or '-'")
      end
      if account and region and id then
        local key = account .. "/" .. region
        if out.detector_by_key[key] then
          c:fail(p, "account " .. account .. " already has a detector in " .. region .. " (GuardDuty allows one)")
        end
        if seen_ids[id] then c:fail(p .. ".id", "duplicate detector id " .. id) end
        seen_ids[id] = true
        local det = { account = account, region = region, id = id }
        out.detector_by_key[key] = det
        out.detectors[#out.detectors + 1] = det
      end
    end
  end
end

-- The services whose simulator modules honour an account's `denied` list (their OPERATIONS).
local DENIABLE = { "account", "ec2" }

-- accounts[].enabled_regions (opt-in regions of invite.sim.regions.OPT_IN, each once) and
-- accounts[].denied ("service:Operation" of DENIABLE), kept on the account as sets.
local function check_regions(c, fx, out)
  if not is_list(fx.accounts) then return end
  local regions = require "invite.sim.regions"
  for i, a in ipairs(fx.accounts) do
    local p = idx("accounts", i)
    local acct = type(a) == "table" and util.is_account_id(a.id) and out.accounts[a.id] or nil
    if type(a) == "table" and a.enabled_regions ~= nil then
      local set = {}
      for j, r in ipairs(c:list(a.enabled_regions, p .. ".enabled_regions") or {}) do
        local rp = idx(p .. ".enabled_regions", j)
        if c:region(r, rp) then
          if not regions.OPT_IN[r] then
            c:fail(rp, "must be an opt-in region (" .. concat(regions.opt_in_list(), ", ")
              .. "); the others are enabled by default")
          elseif set[r] then
            c:fail(rp, "duplicate region " .. r)
          end
          set[r] = true
        end
      end
      if acct then acct.enabled_regions = set end
    end
    if type(a) == "table" and a.denied ~= nil then
      local names, known, set = {}, {}, {}
      for _, svc in ipairs(DENIABLE) do
        local ops = {}
        for op in pairs(require("invite.sim." .. svc).OPERATIONS) do ops[#ops + 1] = svc .. ":" .. op end
        sort(ops)
        for _, n in ipairs(ops) do names[#names + 1], known[n] = n, true end
      end
      for j, d in ipairs(c:list(a.denied, p .. ".denied") or {}) do
        if not known[d] then
          c:fail(idx(p .. ".denied", j), "must be an operation the simulator can deny (" .. concat(names, ", ") .. ")")
        end
        set[d] = true
      end
      if acct then acct.denied = set end
    end
  end
end

-- One invitations[] entry of an invitation kind whose simulator module declares `fixture`: its
-- statuses, extra fields, and (global) no region. Several invitations from one inviter are allowed;
-- an ID is unique per service, region and account.
-- What every invitation entry has: the invited account (one of the fixture's), the inviter (not
-- the account itself), the ID and the time. Returns account, inviter, id, invited_at (nil where wrong).
local function check_parties(c, v, p, out)
  local account = c:account_id(v.account, p .. ".account")
  if account and not out.accounts[account] then
    c:fail(p .. ".account", "the invited account must be an account of this fixture")
  end
  local inviter = c:account_id(v.inviter, p .. ".inviter")
  if inviter and inviter == account then c:fail(p .. ".inviter", "an account cannot invite itself") end
  local id = c:string(v.id, p .. ".id") -- before the time: the errors' order
  return account, inviter, id, c:time(v.invited_at, p .. ".invited_at")
end

local function check_kind_invitation(c, v, p, kind, out, seen)
  local allowed = { service = true, region = true, account = true, inviter = true, id = true,
                    invited_at = true, status = true }
  for f in pairs(kind.fields or {}) do allowed[f] = true end
  if not c:object(v, p, allowed) then return end
  local service = v.service
  local region
  if kind.global then
    if v.region ~= nil and v.region ~= "global" then
      c:fail(p .. ".region", service .. " is global: leave region out (or \"global\")")
    end
    region = "global"
  else
    region = c:region(v.region, p .. ".region")
    if region and not c:exists(service, region, p .. ".region") then region = nil end
  end
  local account, inviter, id, at = check_parties(c, v, p, out)
  local status = v.status == nil and kind.default_status or v.status
  local ok_status = false
  for _, s in ipairs(kind.statuses) do
    if s == status then ok_status = true end
  end
  if not ok_status then c:fail(p .. ".status", "must be one of " .. concat(kind.statuses, ", ")) end
  local extra = {}
  for f, rule in pairs(kind.fields or {}) do extra[f] = c:kind_field(v[f], p .. "." .. f, rule) end
  if region and account and inviter and id then
    local key = service .. "/" .. region .. "/" .. account .. "/" .. id
    if seen[key] then c:fail(p .. ".id", "duplicate invitation ID " .. id .. " for " .. account .. " in " .. service
      .. " " .. region) end
    seen[key] = true
    out.invitations[#out.invitations + 1] = {
      service = service, region = region, account = account, inviter = inviter, id = id,
      invited_at = at, status = status, extra = extra, keyed_by_id = true,
    }
  end
end

local function check_invitations(c, fx, out)
  local seen = {}
  local enabled = {}
  local kinds = _M.kinds()
  for i, v in ipairs(c:list(fx.invitations, "invitations", true) or {}) do
    local p = idx("invitations", i)
    local kind = type(v) == "table" and kinds[v.service] and kinds[v.service].fixture
    if kind then
      check_kind_invitation(c, v, p, kind, out, seen)
    elseif c:object(v, p, { service = true, region = true, account = true, inviter = true, id = true,
                        invited_at = true, status = true }) then
      local service = c:service(v.service, p .. ".service")
      local region = c:region(v.region, p .. ".region")
      if service and region and not c:exists(service, region, p .. ".region") then region = nil end
      local account, inviter, id, at = check_parties(c, v, p, out)
      local status = v.status == nil and "Invited" or v.status
      if not _M.STATUSES[status] then
        c:fail(p .. ".status", "must be one of Invited, Enabled, Resigned, Removed")
      end
      if service and region and account and inviter then
        local key = service .. "/" .. region .. "/" .. account .. "/" .. inviter
        if seen[key] then
          c:fail(p, "duplicate invitation: " .. account .. " already has an invitation from " .. inviter
                 .. " in " .. service .. " " .. region)
        end
        seen[key] = true
        if status == "Enabled" then
          local akey = service .. "/" .. region .. "/" .. account
          if enabled[akey] then
            c:fail(p .. ".status", "only one Enabled (accepted) invitation per service, region and account")
          end
          enabled[akey] = true
        end
        out.invitations[#out.invitations + 1] = {
          service = service, region = region, account = account, inviter = inviter, id = id,
          invited_at = at, status = status,
        }
      end
    end
  end
  for i, a in ipairs(c:list(fx.administrators, "administrators", true) or {}) do
    local p = idx("administrators", i)
    if c:object(a, p, { service = true, region = true, account = true, administrator = true }) then
      local service = c:service(a.service, p .. ".service")
      local region = c:region(a.region, p .. ".region")
      if service and region and not c:exists(service, region, p .. ".region") then region = nil end
      local account = c:account_id(a.account, p .. ".account")
      if account and not out.accounts[account] then c:fail(p .. ".account", "is not an account of this fixture") end
      local admin = c:account_id(a.administrator, p .. ".administrator")
      if service and region and account and admin then
        local akey = service .. "/" .. region .. "/" .. account
        if enabled[akey] then
          c:fail(p, "account " .. account .. " already has an administrator in " .. service .. " " .. region)
        end
        enabled[akey] = true
        out.administrators[#out.administrators + 1] = { service = service, region = region, account = account,
                                                         administrator = admin }
      end
    end
  end
  for i, d in ipairs(c:list(fx.disabled, "disabled", true) or {}) do
    local p = idx("disabled", i)
    if c:object(d, p, { service = true, region = true, account = true }) then
      local service = c:service(d.service, p .. ".service")
      local list, by_name = _M.services()
      local mod = service and (by_name[service] or _M.kinds()[service])
      if mod and not mod.disabled_error then
        -- a service that cannot be turned off (GuardDuty is 'disabled' by having no detector)
        local can = {}
        for _, n in ipairs(list) do
          if by_name[n].disabled_error then can[#can + 1] = n end
        end
        c:fail(p .. ".service", (mod.disabled_note or (service .. " has no disabled state"))
          .. "; list " .. require("invite.model").join(can, " or ") .. " here")
      end
      local region = c:region(d.region, p .. ".region")
      if service and region and not c:exists(service, region, p .. ".region") then region = nil end
      local account = c:account_id(d.account, p .. ".account")
      if service and region and account then
        out.disabled[service .. "/" .. region .. "/" .. account] = true
      end
    end
  end
end

-- The organisation (AWS Organizations): the top-level `organization` and, per account, its
-- `status`, `email`, `parent` and `joined`. Every account of the fixture is a member unless
-- listed in organization.outside. Normalised into out.organization (nil without one):
--   id, arn, management_account, root, root_arn, feature_set, empty_first_page,
--   units (sorted by id), unit_by_id, members (id -> member), member_list (sorted by id);
--   a unit: id, name, parent, arn; a member: id, name, email, status, parent, joined, joined_method
local ORG_KEYS = { id = true, management_account = true, root = true, units = true, feature_set = true,
                   empty_first_page = true, outside = true }
local ACCOUNT_STATUSES = { ACTIVE = true, SUSPENDED = true, PENDING_CLOSURE = true }
local FEATURE_SETS = { ALL = true, CONSOLIDATED_BILLING = true }

local function check_organization(c, fx, out)
  local ids = require "invite.discover.org_ids"
  local o = fx.organization
  local accounts = is_list(fx.accounts) and fx.accounts or {}
  if o == nil then
    -- the per-account organisation keys need an organisation
    for i, a in ipairs(accounts) do
      for _, k in ipairs{ "status", "email", "parent", "joined" } do
        if type(a) == "table" and a[k] ~= nil then
          c:fail(idx("accounts", i) .. "." .. k, "needs a top-level organization (accounts are not in one without it)")
        end
      end
    end
    return
  end
  if not c:object(o, "organization", ORG_KEYS) then return end
  local org = { units = {}, unit_by_id = {}, members = {}, member_list = {} }
  local ok = true
  if not ids.is_org_id(o.id) then
    c:fail("organization.id", "must be an organization ID: " .. ids.RULES.org); ok = false
  end
  local mgmt = c:account_id(o.management_account, "organization.management_account")
  if mgmt and not out.accounts[mgmt] then
    c:fail("organization.management_account", "must be an account of this fixture"); ok = false
  end
  if not mgmt then ok = false end
  local root = o.root
  if root == nil and ids.is_org_id(o.id) then root = "r-" .. o.id:sub(3, 6) end
  if not ids.is_root_id(root) then c:fail("organization.root", "must be a root ID: " .. ids.RULES.root); ok = false end
  local fs = o.feature_set == nil and "ALL" or o.feature_set
  if not FEATURE_SETS[fs] then c:fail("organization.feature_set", "must be ALL or CONSOLIDATED_BILLING"); ok = false end
  if o.empty_first_page ~= nil and type(o.empty_first_page) ~= "boolean" then
    c:fail("organization.empty_first_page", "must be true or false"); ok = false
  end
  local outside = {}
  for i, id in ipairs(c:list(o.outside, "organization.outside", true) or {}) do
    local p = idx("organization.outside", i)
    if c:account_id(id, p) then
      if not out.accounts[id] then c:fail(p, "is not an account of this fixture")
      elseif id == mgmt then c:fail(p, "the management account is in the organisation")
      else outside[id] = true end
    end
  end
  local arn_base = format("arn:aws:organizations::%s:", tostring(mgmt))
  -- units: IDs unique, parents the root or another unit, no cycles
  local parents = {}
  for i, u in ipairs(c:list(o.units, "organization.units", true) or {}) do
    local p = idx("organization.units", i)
    if c:object(u, p, { id = true, name = true, parent = true }) then
      local uid = u.id
      if not ids.is_ou_id(uid) then
        c:fail(p .. ".id", "must be an OU ID: " .. ids.RULES.ou); uid = nil
      elseif org.unit_by_id[uid] then
        c:fail(p .. ".id", "duplicate unit " .. uid); uid = nil
      end
      local name = c:string(u.name, p .. ".name")
      if name and #name > 128 then c:fail(p .. ".name", "must be at most 128 characters") end
      local parent = u.parent == nil and root or u.parent
      if uid then
        local unit = { id = uid, name = name or uid, parent = parent,
                       arn = arn_base .. "ou/" .. tostring(o.id) .. "/" .. uid }
        org.unit_by_id[uid] = unit
        org.units[#org.units + 1] = unit
        parents[#parents + 1] = { p .. ".parent", unit }
      end
    end
  end
  for _, pu in ipairs(parents) do
    local path, unit = pu[1], pu[2]
    if unit.parent ~= root and not org.unit_by_id[unit.parent] then
      c:fail(path, "must be the root (" .. tostring(root) .. ") or the id of another unit")
      ok = false
    else
      local at, steps = unit, 0
      while at and at.parent ~= root and steps <= #org.units do
        at, steps = org.unit_by_id[at.parent], steps + 1
      end
      if steps > #org.units then c:fail(path, "makes a cycle of units"); ok = false end
    end
  end
  sort(org.units, function(a, b) return a.id < b.id end)
  for i, a in ipairs(accounts) do
    local p = idx("accounts", i)
    local acct = type(a) == "table" and is_object(a) and util.is_account_id(a.id) and out.accounts[a.id]
    if acct and outside[a.id] then
      for _, k in ipairs{ "status", "email", "parent", "joined" } do
        if a[k] ~= nil then c:fail(p .. "." .. k, "is for accounts in the organisation (this one is outside)") end
      end
    elseif acct then
      local status = a.status == nil and "ACTIVE" or a.status
      if not ACCOUNT_STATUSES[status] then
        c:fail(p .. ".status", "must be ACTIVE, SUSPENDED or PENDING_CLOSURE")
      end
      local email = a.email
      if email == nil then
        email = a.id .. "@accounts.sim.invalid"
      elseif type(email) ~= "string" or #email < 6 or #email > 64 or not email:find("^[^%s@]+@[^%s@]+%.[^%s@]+$") then
        c:fail(p .. ".email", "must be an email address of 6 to 64 characters like aws@example.com")
      end
      local parent = a.parent == nil and root or a.parent
      if parent ~= root and not org.unit_by_id[parent] then
        c:fail(p .. ".parent", "must be the root (" .. tostring(root) .. ") or the id of a unit of organization.units")
      end
      local joined = a.joined == nil and c.now or c:time(a.joined, p .. ".joined")
      local m = { id = a.id, name = acct.name, email = email, status = status, parent = parent, joined = joined,
                  joined_method = a.id == mgmt and "INVITED" or "CREATED",
                  arn = arn_base .. "account/" .. tostring(o.id) .. "/" .. a.id }
      org.members[a.id] = m
      org.member_list[#org.member_list + 1] = m
    end
  end
  sort(org.member_list, function(a, b) return a.id < b.id end)
  if not ok then return end
  org.id, org.management_account, org.root, org.feature_set = o.id, mgmt, root, fs
  org.empty_first_page = o.empty_first_page ~= false
  org.arn = arn_base .. "organization/" .. o.id
  org.root_arn = arn_base .. "root/" .. o.id .. "/" .. root
  org.management = org.members[mgmt]
  out.organization = org
end

-- Validates a decoded fixture table. Returns the normalised fixture or nil and a message listing
-- every problem found (up to 25), one per line, each prefixed with `source`. opts.now (seconds)
-- anchors relative times ("now-3d"); default: the current time.
function _M.validate(fx, source, opts)
  source = source or "fixture"
  local c = new_checker(opts and opts.now)
  local out = {
    source = source, accounts = {}, account_list = {}, names = {}, keys = {}, detectors = {},
    detector_by_key = {}, invitations = {}, administrators = {}, disabled = {},
  }
  if c:object(fx, "", { accounts = true, sessions = true, detectors = true, invitations = true,
                        administrators = true, disabled = true, organization = true }) then
    check_accounts(c, fx, out)
    check_regions(c, fx, out)
    check_sessions(c, fx, out)
    check_detectors(c, fx, out)
    check_invitations(c, fx, out)
    check_organization(c, fx, out)
  end
  if #c.errors > 0 then
    local lines = {}
    for i, e in ipairs(c.errors) do lines[i] = source .. ": " .. e end
    if #c.errors >= MAX_ERRORS then lines[#lines + 1] = source .. ": (more errors not shown)" end
    return nil, concat(lines, "\n")
  end
  return out
end

function _M.decode(text, source, opts)
  local fx, err = cjson.decode(text)
  if fx == nil then return nil, (source or "fixture") .. ": invalid JSON: " .. tostring(err) end
  return _M.validate(fx, source, opts)
end

function _M.load(path, opts)
  if type(path) ~= "string" then error("fixtures.load: path must be a string", 2) end
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot read fixture file: " .. tostring(err) end
  local text, rerr = f:read("*a")
  f:close()
  -- io.open succeeds on a directory; the read is where it fails
  if text == nil then return nil, "cannot read fixture file: " .. path .. ": " .. tostring(rerr or "read failed") end
  return _M.decode(text, path, opts)
end

return _M
