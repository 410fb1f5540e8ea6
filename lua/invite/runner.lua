--- The policy runner: `invite.run{...}` sweeps services x regions (x accounts), lists
-- every invitation, asks the policy about each one, and in apply mode carries the
-- decisions out in batched calls. Scopes run concurrently through invite.scheduler;
-- calls within one scope stay ordered. Every invitation ends with an outcome.
-- @module invite.runner
local _M = {}

local policy_mod = require "invite.policy"
local model = require "invite.model"
local scheduler = require "invite.scheduler"
local audit_mod = require "invite.audit"

local type, pairs, ipairs, tostring, error, next = type, pairs, ipairs, tostring, error, next
local concat, sort = table.concat, table.sort

-- What the runner knows of each service comes from its declaration's `invitations` table
-- (invite.model.invitations): the names of an invitation's members, of the account ID parameter
-- and of the unprocessed list, and how it accepts.

-- What an account ID (of an invitation, of an unprocessed entry, of an option) must look like.
local ACCOUNT_ID = "^%d%d%d%d%d%d%d%d%d%d%d%d$"

local each_fields, gated, details_of, apply_each -- invitation kinds acted on one at a time

-- What a decision comes to when it is already in effect, or cannot be sent (set on the record):
-- `resolved` (an outcome reached without a call) and `resolved_detail`, or `delete_only` (a
-- declined invitation that decline_and_delete only deletes). A second apply of the same policy
-- makes no mutating call: what it declined is `already_declined`, what it accepted
-- `already_accepted`. A kind acted on one invitation at a time sends nothing for an invitation
-- that is not open (its `open` statuses): it is kept, and the detail says why.
local function resolve(svc, rec)
  local a, st = rec.action, rec.status
  if a == "keep" then return end
  if a == "accept" and (st == "accepted" or st == "member") then
    rec.resolved, rec.resolved_detail = "already_accepted", "status " .. tostring(rec.raw_status)
    return
  end
  if st == "declined" and (a == "decline" or (svc.each and a ~= "accept")) then
    rec.resolved, rec.resolved_detail = "already_declined", "status " .. tostring(rec.raw_status)
    return
  end
  if st == "declined" and a == "decline_and_delete" then
    rec.delete_only, rec.note = true, "already declined (status " .. tostring(rec.raw_status) .. "): deleted only"
    return
  end
  if svc.open and not svc.open[rec.raw_status] then
    local open = {}
    for s in pairs(svc.open) do open[#open + 1] = s end
    sort(open)
    rec.resolved, rec.resolved_detail = "kept", "status " .. tostring(rec.raw_status) .. ": only "
      .. concat(open, ", ") .. " invitations can be acted on; " .. a .. " not sent"
  end
end

local OUTCOME_OF = { decline = "declined", delete = "deleted", decline_and_delete = "declined_and_deleted",
                     accept = "accepted" }

local function errstr(err)
  if err == nil then return "unknown error" end
  return tostring(err)
end

local function list_of_strings(v, field, pattern, rule)
  if type(v) == "string" then v = { v } end
  if type(v) ~= "table" or #v == 0 then
    error("invite.run: " .. field .. " must be a non-empty list of strings", 5)
  end
  for i, s in ipairs(v) do
    if type(s) ~= "string" or (pattern and not s:match(pattern)) then
      error("invite.run: " .. field .. "[" .. i .. "] = " .. tostring(s) .. ": " .. rule, 5)
    end
  end
  return v
end

local parse_iso = require("invite.time").parse_iso8601
--- An ISO 8601 time (an invitation's invited_at) as epoch seconds, or nil when it is not one.
-- @function parse_iso
-- @tparam string s
-- @treturn ?number
_M.parse_iso = parse_iso

--- Every option invite.run reads (see _M.run); anything else is a mistake, not silently ignored.
_M.OPTIONS = { "account", "accounts", "apply", "audit", "audit_log", "audit_meta", "client", "concurrency",
               "credentials", "endpoint", "exclude_accounts", "external_id", "identity", "max_attempts", "max_items",
               "max_pages",
               "now", "on_progress", "ous", "policy", "profile", "regions", "role", "role_session_name", "run_id",
               "services", "sts_endpoint", "sts_region", "unlisted_regions" }
local KNOWN_OPTION = {}
for _, k in ipairs(_M.OPTIONS) do KNOWN_OPTION[k] = true end

local function check_options(opts)
  if type(opts) ~= "table" then error("invite.run: expected a table of options", 4) end
  for k in pairs(opts) do
    if not KNOWN_OPTION[k] then
      local hint = type(k) == "string" and require("invite.validate").closest(k, _M.OPTIONS)
      error("invite.run: unknown option "
        .. (type(k) == "string" and ("'" .. k .. "'") or ("[" .. tostring(k) .. "]"))
        .. (hint and (" (did you mean '" .. hint .. "'?)") or "")
        .. " (options: " .. concat(_M.OPTIONS, ", ") .. ")", 4)
    end
  end
  -- an empty endpoint is a mistake, not "the AWS endpoints" (clients and botocore refuse it too)
  for _, k in ipairs{ "endpoint", "sts_endpoint" } do
    if opts[k] == "" then error("invite.run: " .. k .. " must be a URL like https://host, not empty", 4) end
  end
  local p = opts.policy
  local pol, perr = policy_mod.normalize(p, "invite.run: policy")
  if not pol then error(perr, 4) end
  local services = opts.services or pol.services or model.SERVICES
  services = list_of_strings(services, "services", nil, "")
  for i, s in ipairs(services) do
    if not model.invitations(s) then
      error("invite.run: services[" .. i .. "] = '" .. s .. "': unknown service ("
        .. concat(model.SERVICES, ", ") .. ")", 4)
    end
  end
  local unlisted = opts.unlisted_regions
  if unlisted ~= nil then
    unlisted = list_of_strings(unlisted, "unlisted_regions", "^%l[%l%d%-]*%d$",
      "a region name: lower-case letters, digits and '-', like us-east-1")
  end
  local regions = opts.regions or pol.regions
  if regions == nil then error("invite.run: regions is required (a list, \"all\" or \"enabled\")", 4) end
  if regions ~= "all" and regions ~= "enabled" then
    regions = list_of_strings(regions, "regions", nil, "")
    local ok, rerr = require("invite.regions").check(regions, { field = "regions", unlisted = unlisted })
    if not ok then error("invite.run: " .. rerr, 4) end
  end
  local accounts = opts.accounts or pol.accounts
  if accounts == "org" then accounts = "organization" end
  if accounts ~= nil and accounts ~= "organization" then
    accounts = list_of_strings(accounts, "accounts", "^%d+$", "account IDs are 12-digit strings")
    for i, a in ipairs(accounts) do
      if #a ~= 12 then error("invite.run: accounts[" .. i .. "] = " .. a .. ": account IDs are 12-digit strings", 4) end
    end
  end
  if accounts ~= nil then
    local role = opts.role or pol.role
    if type(role) ~= "string" or role == "" then
      error("invite.run: accounts needs role (a role name, or an ARN template with {account})", 4)
    end
  end
  if (opts.ous ~= nil or opts.exclude_accounts ~= nil) and accounts ~= "organization" then
    error("invite.run: " .. (opts.ous ~= nil and "ous" or "exclude_accounts")
      .. " needs accounts = \"organization\"", 4)
  end
  local more = { unlisted = unlisted }
  if opts.ous ~= nil then
    more.ous = list_of_strings(opts.ous, "ous", nil, "")
    local ids = require "invite.discover.org_ids"
    for i, ou in ipairs(more.ous) do
      if not ids.is_parent_id(ou) then
        error("invite.run: ous[" .. i .. "] = '" .. ou .. "': " .. ids.RULES.parent, 4)
      end
    end
  end
  if opts.exclude_accounts ~= nil then
    more.exclude = list_of_strings(opts.exclude_accounts, "exclude_accounts", ACCOUNT_ID,
      "account IDs are 12-digit strings")
  end
  if opts.external_id ~= nil and (type(opts.external_id) ~= "string" or #opts.external_id < 2
      or #opts.external_id > 1224 or not opts.external_id:find("^[%w%+=,%.@:/%-]+$")) then
    error("invite.run: external_id must be 2-1224 characters of letters, digits and +=,.@:/-", 4)
  end
  local session = opts.role_session_name
  if session ~= nil and (type(session) ~= "string" or #session < 2 or #session > 64
      or not session:find("^[%w%+=,%.@_%-]+$")) then
    error("invite.run: role_session_name must be 2-64 characters of letters, digits and +=,.@_-", 4)
  end
  for _, k in ipairs{ "max_pages", "max_items" } do
    local v = opts[k]
    if v ~= nil and (type(v) ~= "number" or v < 1 or v % 1 ~= 0 or v == math.huge) then
      error("invite.run: " .. k .. " must be a whole number >= 1, got " .. tostring(v), 4)
    end
  end
  local conc = opts.concurrency or 32
  if type(conc) ~= "number" or conc < 1 or conc % 1 ~= 0 then
    error("invite.run: concurrency must be an integer >= 1", 4)
  end
  return pol, services, regions, accounts, conc, more
end

--- The ARN of the role to assume in `account`.
-- @tparam string role a role name, or an ARN template with `{account}`
-- @tparam string account a 12-digit account ID
-- @tparam[opt="aws"] string partition
-- @treturn string e.g. "arn:aws:iam::222222222222:role/InviteAuditor"
function _M.role_arn(role, account, partition)
  if role:find("^arn:") then return (role:gsub("{account}", account)) end
  return "arn:" .. (partition or "aws") .. ":iam::" .. account .. ":role/" .. role
end


-- Writes one audit event. A log that cannot record (full disk, file size limit, I/O error) stops
-- every later mutating call of the run: `ctx.audit_error` is set and `ctx.stopped` names why.
local function log(ctx, event)
  local ok, err = ctx.audit:write(event)
  if ok then return true end
  if not ctx.audit_error then
    ctx.audit_error = tostring(err or "audit: write failed")
    ctx.stopped = "the audit log could not record (" .. ctx.audit_error .. ")"
  end
  return false
end

-- Gives an invitation its one outcome, in the record and in the audit log.
local function finish(ctx, rec, outcome, detail)
  rec.outcome, rec.detail = outcome, detail
  log(ctx, { event = "outcome", service = rec.service, region = rec.region, account = rec.account,
             account_id = rec.account_id, invitation_id = rec.invitation_id, action = rec.action,
             outcome = outcome, detail = detail })
end

-- Records the outcome of an invitation that was not acted on because the run stopped.
local function not_sent(ctx, rec, what)
  rec.failed = true
  finish(ctx, rec, "error", what .. " not sent: " .. ctx.stopped)
end

-- The reasons of an answer's unprocessed entries by account ID, and how many entries had no
-- usable account ID (a broken or hostile answer: which invitation they meant is unknown).
local function unprocessed_of(svc, answered)
  local by_account, malformed = {}, 0
  local list = answered and answered[svc.unprocessed]
  if type(list) ~= "table" then return by_account, 0 end
  for i = 1, #list do
    local u = list[i]
    local acc = type(u) == "table" and u[svc.unprocessed_account] or nil
    if type(acc) == "string" and acc:find(ACCOUNT_ID) then
      by_account[acc] = svc.reason(u)
    else
      malformed = malformed + 1
    end
  end
  return by_account, malformed
end

-- Accepts one invitation as the service's `invitations.accept` says: its operation with the
-- inviter and the invitation ID, and a parameter a lookup finds first (GuardDuty's detector).
local function accept(client, svc, rec)
  local a = svc.accept
  local params = {}
  if a.administrator then params[a.administrator] = rec.account_id end
  if a.invitation then params[a.invitation] = rec.invitation_id end
  local look = a.lookup
  if look then
    local found, err = client[look.operation](client, {})
    if not found then return nil, err end
    local value = type(found[look.first]) == "table" and found[look.first][1] or nil
    if value == nil then
      return nil, require("invite.errors").new{ code = look.code or "NotFound", service = rec.service,
        operation = svc.accept_api_name, message = look.missing:format(rec.region) }
    end
    params[look.param] = value
  end
  return client[a.operation](client, params)
end

-- Invitation kinds acted on one invitation at a time (Detective, Organizations handshakes, RAM:
-- a declaration without `ids`, invite.model's `each`).

-- A record's kind-specific fields: the declaration's `fields` (record field -> member), `derive`
-- (e.g. a handshake's inviter from its ARN) and, with `organization`, whether the inviter is an
-- account of the caller's organisation (nil when that is unknown).
function each_fields(ctx, svc, raw, rec)
  for field, member in pairs(svc.fields) do rec[field] = raw[member] end
  if svc.derive then svc.derive(raw, rec) end
  -- what the text table's WHAT column shows (a share's name, a handshake's action type)
  if svc.label and rec[svc.label] ~= nil then rec.label = tostring(rec[svc.label]) end
  if svc.organization and type(rec.account_id) == "string" then
    local set = ctx.organization.get()
    if set then rec[svc.organization] = set[rec.account_id] == true end
  end
end

-- Why an invitation is kept without asking the policy, or nil: a gated field (a handshake's
-- action type) the policy does not name.
function gated(ctx, svc, rec)
  local g = svc.gate
  if g then
    local names = ctx.policy[g.policy] or g.default
    local v = rec[g.field]
    for _, n in ipairs(names) do
      if n == v then return nil end
    end
    return g.field .. " " .. tostring(v) .. ": kept, the policy's " .. g.policy .. " ("
      .. concat(names, ", ") .. ") does not name it"
  end
  return nil
end

-- The declaration's `details` (RAM: the resource types a pending invitation would share) into
-- the record; on failure the record ends as an error (not decided, not acted on) and nil.
function details_of(client, svc, rec)
  local d = svc.details
  local items, err = client[d.all](client, d.params_of(rec))
  if not items then
    rec.malformed, rec.outcome = true, "error"
    rec.detail = "cannot list what the invitation would share (" .. d.api_name .. "): " .. errstr(err)
      .. "; not acted on"
    return nil
  end
  local seen, out = {}, {}
  for _, item in ipairs(items) do
    local v = type(item) == "table" and item[d.member] or nil
    if v ~= nil and not seen[v] then seen[v], out[#out + 1] = true, v end
  end
  sort(out)
  rec[d.field] = out
  return true
end

-- Carries out the decisions of one scope of an invitation kind: one call per invitation, each
-- recorded in the audit log before it is sent. `delete` and `decline_and_delete` decline (the
-- kind has no delete; the detail says so). An error code in the call's `done_codes` (already in
-- that state: an earlier attempt whose answer was lost) counts as done.
function apply_each(ctx, client, svc, scope, records)
  local function call(rec, spec, what)
    local params = spec.params_of(rec)
    if ctx.stopped or not log(ctx, { event = "call", service = scope.service, region = scope.region,
                                     account = scope.account, operation = spec.operation,
                                     account_ids = { rec.account_id }, invitation_id = rec.invitation_id }) then
      not_sent(ctx, rec, what)
      return nil
    end
    local res, err = client[spec.operation](client, params)
    if res then return true end
    local code = type(err) == "table" and err.code or nil
    for _, c in ipairs(spec.done_codes) do
      if c == code then return true, "already " .. (what == "accept" and "accepted" or "declined")
        .. " when the call arrived (" .. code .. ")" end
    end
    for _, c in ipairs(spec.gone_codes) do
      -- "not found" for what this scope listed: gone (Detective's rejected invitations disappear)
      -- if a new listing no longer has it; that listing failing leaves the error as it is
      if c == code then
        local now_listed = client[svc.list_all](client, {})
        if now_listed then
          local still = false
          for _, raw in ipairs(now_listed) do
            if raw[svc.id] == rec.invitation_id then still = true end
          end
          if not still then
            return true, "already gone when the call arrived (" .. code .. "): an earlier attempt whose "
              .. "answer was lost (or another actor) " .. (what == "accept" and "acted on" or "declined") .. " it"
          end
        end
      end
    end
    rec.failed = true
    finish(ctx, rec, "error", what .. " failed: " .. errstr(err))
    return nil
  end
  local order = { accept = 1, decline = 2, decline_and_delete = 2, delete = 2 }
  for pass = 1, 2 do
    for _, rec in ipairs(records) do
      local a = rec.action
      if rec.malformed then -- luacheck: ignore 542
        -- reported already
      elseif rec.resolved then
        if pass == 1 then finish(ctx, rec, rec.resolved, rec.resolved_detail) end
      elseif a == "keep" then
        if pass == 1 then finish(ctx, rec, "kept") end
      elseif order[a] == pass then
        if a == "accept" then
          local ok, detail = call(rec, svc.accept, "accept")
          if ok then finish(ctx, rec, "accepted", detail) end
        else
          local ok, detail = call(rec, svc.decline, "decline")
          if ok then
            if a ~= "decline" then
              detail = (detail and (detail .. "; ") or "") .. "declined only: " .. svc.no_delete
            end
            finish(ctx, rec, "declined", detail)
          end
        end
      end
    end
  end
end

-- One scope: list, decide, and (apply) act. Appends to `scope.records`.
local function run_scope(scope, ctx)
  if ctx.apply and ctx.stopped then
    scope.error = "not run: " .. ctx.stopped
    return
  end
  local svc = model.invitations(scope.service)
  local client, cerr = ctx.client_for(scope)
  if not client then
    scope.error = "cannot create " .. scope.service .. " client: " .. errstr(cerr)
    log(ctx, { event = "scope_error", service = scope.service, region = scope.region,
               account = scope.account, error = scope.error })
    return
  end
  scope.account = scope.account or ctx.identity_for(scope, client)

  -- 1. list every invitation (all pages)
  local invitations, lerr = client[svc.list_all](client, {})
  if not invitations then
    scope.error = "list_invitations failed: " .. errstr(lerr)
    log(ctx, { event = "scope_error", service = scope.service, region = scope.region,
               account = scope.account, error = scope.error })
    return
  end

  -- 2. decide every invitation before acting on any; a malformed one (no account ID) is reported
  -- as such and its siblings go on
  local records, accepts = {}, 0
  for _, raw in ipairs(invitations) do
    local rec = {
      service = scope.service, region = scope.region, account = scope.account,
      account_id = svc.account and raw[svc.account] or nil, invitation_id = raw[svc.id], invited_at = raw[svc.at],
      raw_status = raw[svc.status],
    }
    -- one status for every service (pending, declined, accepted, member, other), the raw word kept
    rec.status = svc.normalize(rec.raw_status)
    if svc.each then each_fields(ctx, svc, raw, rec) end
    rec.inviter, rec.invitee = rec.account_id, rec.account -- the plainer names of account_id and account
    if type(rec.account_id) ~= "string" or not rec.account_id:find(ACCOUNT_ID) then
      rec.malformed = true
      rec.outcome = "error"
      rec.detail = "malformed invitation from the service: "
        .. (rec.account_id == nil and "it has no account ID" or "its account ID is not 12 digits")
        .. "; not acted on"
      rec.account_id = type(rec.account_id) == "string" and rec.account_id or nil
    else
      local at = parse_iso(rec.invited_at)
      if at then rec.age_days = (ctx.now() - at) / 86400 end
      local held = svc.each and gated(ctx, svc, rec)
      if held then
        rec.action, rec.reason = "keep", held
      elseif svc.details and rec.status == "pending" and not details_of(client, svc, rec) then -- luacheck: ignore 542
        -- an error outcome: what it would share is unknown, so it is not decided
      else
        local view = {}
        for k, v in pairs(rec) do view[k] = v end
        local action, reason = policy_mod.decide(ctx.policy, view)
        if not action then
          -- this row's own cause; its siblings are skipped for it (named below)
          rec.policy_error = reason
          scope.error = reason .. " (invitation " .. tostring(rec.invitation_id) .. " from "
            .. tostring(rec.account_id) .. ")"
        else
          rec.action, rec.reason = action, reason
          resolve(svc, rec)
          if action == "accept" and not rec.resolved then accepts = accepts + 1 end
        end
      end
    end
    records[#records + 1] = rec
  end
  if not scope.error and accepts > 1 and (not svc.each or svc.accept.one) then
    scope.error = "policy accepted " .. accepts
      .. " invitations in one scope; at most one administrator can be accepted"
  end
  scope.records = records
  if scope.error then
    for _, rec in ipairs(records) do
      if rec.policy_error then
        rec.outcome, rec.detail = "error", rec.policy_error
      elseif not rec.malformed then
        rec.outcome, rec.detail = "skipped", "not acted on: " .. scope.error
      end
      rec.policy_error = nil
    end
    log(ctx, { event = "scope_error", service = scope.service, region = scope.region,
               account = scope.account, error = scope.error })
    return
  end
  for _, rec in ipairs(records) do
    if rec.malformed then
      finish(ctx, rec, rec.outcome, rec.detail)
    else
      log(ctx, { event = "decision", service = rec.service, region = rec.region, account = rec.account,
                 account_id = rec.account_id, invitation_id = rec.invitation_id, invited_at = rec.invited_at,
                 action = rec.action, reason = rec.reason, apply = ctx.apply })
    end
  end

  -- 3. plan: nothing is sent (what is already in effect is said so in plan and apply alike)
  if not ctx.apply then
    for _, rec in ipairs(records) do
      if rec.resolved then
        rec.outcome, rec.detail = rec.resolved, rec.resolved_detail
      elseif not rec.malformed then
        rec.outcome = (rec.action == "keep") and "kept" or "planned"
      end
    end
    return
  end

  local function done(rec, outcome, detail) finish(ctx, rec, outcome, detail) end
  if svc.each then return apply_each(ctx, client, svc, scope, records) end

  -- The accounts of `ids` still listed (nil when the list fails): a retried delete verifies
  -- that what it was told is gone is gone.
  local function still_listed()
    local now_listed = client[svc.list_all](client, {})
    if not now_listed then return nil end
    local set = {}
    for _, raw in ipairs(now_listed) do
      if type(raw[svc.account]) == "string" then set[raw[svc.account]] = true end
    end
    return set
  end

  -- batched decline/delete: one call (split by the client in 50s) for every record in `group`
  local function batch(op, group)
    if #group == 0 then return end
    local ids = {}
    for i, rec in ipairs(group) do ids[i] = rec.account_id end
    -- no mutating call the audit log has not recorded
    if ctx.stopped or not log(ctx, { event = "call", service = scope.service, region = scope.region,
                                     account = scope.account, operation = op, account_ids = ids }) then
      for _, rec in ipairs(group) do not_sent(ctx, rec, op) end
      return
    end
    local res, err = client[op](client, { [svc.ids] = ids })
    -- more than 50 IDs go out in several calls: when a later one fails, the IDs of the calls
    -- before it were processed (err.partial holds their merged answer); only err.not_processed failed
    local answered, failed_ids = res, nil
    if not res and type(err) == "table" and err.partial and err.not_processed then
      answered, failed_ids = err.partial, {}
      for _, id in ipairs(err.not_processed) do failed_ids[id] = true end
    end
    local unprocessed, malformed = unprocessed_of(svc, answered)
    -- a delete that was sent again (by invite's retry, or by libcurl itself when a reused
    -- connection died) finds what its first attempt deleted - whose answer was lost - already gone:
    -- an account this scope listed that is no longer listed has been deleted
    local gone = {}
    if op == "delete_invitations" and next(unprocessed) then
      local listed = still_listed()
      if listed then
        for acc in pairs(unprocessed) do
          if not listed[acc] then gone[acc], unprocessed[acc] = true, nil end
        end
      end
    end
    for _, rec in ipairs(group) do
      local acc = rec.account_id
      if not res and (not failed_ids or failed_ids[acc]) then
        rec.failed = true
        done(rec, "error", op .. " failed: " .. errstr(err))
      elseif unprocessed[acc] then
        rec.failed = true
        done(rec, "unprocessed", unprocessed[acc])
      elseif malformed > 0 then
        rec.failed = true
        done(rec, "error", op .. ": the answer had " .. malformed .. " unprocessed "
          .. (malformed == 1 and "entry" or "entries") .. " without a valid account ID;"
          .. " whether this invitation was processed is unknown (list again to see)")
      else
        rec.steps = (rec.steps or 0) + 1
        local both = rec.action == "decline_and_delete"
        if not both or op == "delete_invitations" then
          done(rec, OUTCOME_OF[rec.action], gone[acc] and ("already gone when the call arrived: "
            .. "an earlier attempt whose answer was lost (or another actor) deleted it") or rec.note)
        end
      end
    end
  end

  local accepts_, declines, deletes = {}, {}, {}
  for _, rec in ipairs(records) do
    local a = rec.action
    if rec.malformed then -- luacheck: ignore 542
      -- reported above; nothing to send
    elseif rec.resolved then done(rec, rec.resolved, rec.resolved_detail)
    elseif rec.delete_only then deletes[#deletes + 1] = rec
    elseif a == "keep" then done(rec, "kept")
    elseif a == "accept" then accepts_[#accepts_ + 1] = rec
    elseif a == "decline" or a == "decline_and_delete" then declines[#declines + 1] = rec
    elseif a == "delete" then deletes[#deletes + 1] = rec end
  end
  for _, rec in ipairs(accepts_) do
    if ctx.stopped or not log(ctx, { event = "call", service = scope.service, region = scope.region,
                                     account = scope.account, operation = "accept",
                                     account_ids = { rec.account_id } }) then
      not_sent(ctx, rec, "accept")
    else
      local res, err = accept(client, svc, rec)
      if res then done(rec, "accepted") else done(rec, "error", "accept failed: " .. errstr(err)) end
    end
  end
  batch("decline_invitations", declines)
  for _, rec in ipairs(declines) do
    if rec.action == "decline_and_delete" and not rec.failed then deletes[#deletes + 1] = rec end
  end
  batch("delete_invitations", deletes)
end

-- Whether an inviter is an account of the caller's organisation (RAM's from_organization): the
-- organisation's account IDs as a set, found on first need (a kind's invitation asks) and once per
-- run however many scopes ask at once (the others wait for the one lookup): the plan's listing
-- when it listed the whole organisation, else one Organizations ListAccounts walk with the caller's
-- credentials. Nil when that fails (a member account may not list): the field is then unknown
-- (nil), and the report warns once.
local function organization_lookup(opts, checked, plan)
  local o = { state = "new" }
  local list = not checked.more.ous and not checked.more.exclude and plan.organization_accounts or nil
  local function set_of(l)
    local set = {}
    for _, a in ipairs(l) do set[a.id] = true end
    return set
  end
  if list then
    o.state, o.set = "done", set_of(list)
  elseif opts.client then
    o.state = "done" -- custom clients: no call of invite's own
  end
  function o.get()
    if o.state == "done" then return o.set end
    if o.state == "running" then
      if scheduler.can_wait() then scheduler.wait(o, 300) end
      return o.set
    end
    o.state = "running"
    local ok, l, err = scheduler.pcall(require("invite.discover.accounts").of_organization, {
      region = checked.sts_region, endpoint = opts.endpoint, profile = opts.profile,
      credentials = opts.credentials, max_attempts = opts.max_attempts })
    if ok and l then
      o.set = set_of(l)
    else
      local e = ok and err or l
      plan.warnings[#plan.warnings + 1] = "from_organization is unknown (nil): these credentials cannot list "
        .. "the organisation's accounts (Organizations ListAccounts: "
        .. (type(e) == "table" and e.code or errstr(e)) .. ")"
    end
    o.state = "done"
    scheduler.signal(o)
    return o.set
  end
  return o
end

local function new_report(apply)
  return { apply = apply, scopes = {}, invitations = {}, errors = {}, warnings = {}, skipped = {},
           totals = { invitations = 0, actions = {}, outcomes = {} } }
end

-- Checks the options (raises on misuse, at the level of the caller of run or plan) and returns
-- what planning needs; nothing is sent.
local function check(opts)
  local pol, services, regions, accounts, concurrency, more = check_options(opts)
  local c = { pol = pol, services = services, regions = regions, accounts = accounts, concurrency = concurrency,
              more = more, run_id = opts.run_id or _M.new_run_id() }
  c.sts_region = opts.sts_region or (type(regions) == "table" and regions[1]) or nil
  if not c.sts_region then
    local okr, r = pcall(require("invite.config").region, { profile = opts.profile })
    c.sts_region = okr and r or "us-east-1"
  end
  if type(opts.identity) == "table" then
    c.identity = opts.identity
  elseif opts.identity ~= nil or opts.account ~= nil or (opts.client and accounts ~= "organization") then
    c.identity = false -- the caller says who it is (or brings its own clients): no GetCallerIdentity
  end
  return c
end

-- Plans the scopes of checked options (invite.scope): who am I, accounts, sessions, regions.
local function plan_of(opts, c)
  local scope = require "invite.scope"
  local more = c.more
  return scope.plan{
    services = c.services, regions = c.regions, unlisted = more.unlisted, accounts = c.accounts,
    ous = more.ous, exclude = more.exclude, role = opts.role or c.pol.role, external_id = opts.external_id,
    session_name = opts.role_session_name or scope.session_name(c.run_id),
    sts_region = c.sts_region, sts_endpoint = opts.sts_endpoint, identity = c.identity,
    endpoint = opts.endpoint, profile = opts.profile, credentials = opts.credentials,
    max_attempts = opts.max_attempts, max_pages = opts.max_pages, max_items = opts.max_items,
    concurrency = c.concurrency,
  }
end

--- The scopes a run with these options would sweep (@{invite.scope.plan}), for commands that do
-- their own calls per scope (`invite count`); a policy is not needed.
-- @tparam table opts the options of @{run}
-- @treturn table plan: `identity`, `accounts`, `scopes` (each with `credentials`), `skipped`, `errors`
function _M.plan(opts)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.policy = o.policy or function() return "keep", "count" end
  return plan_of(o, check(o))
end

--- Runs a policy over services x regions (x accounts); `invite.run{...}` is this function.
-- First it finds the scope (@{invite.scope}): who the caller is (STS GetCallerIdentity), which
-- accounts (a list, or the organisation's), each account's role session (one AssumeRole per
-- account per run) and regions. Every invitation of a scope is decided before anything is sent
-- there; an invalid action, a policy error or two accepts in one scope stop that scope with an
-- error (other scopes go on). Decisions are carried out in batched calls: accept, then decline,
-- then delete.
--
--     local report = invite.run{ services = { "guardduty" }, regions = "enabled",
--                                accounts = "organization", role = "InviteManager",
--                                policy = require "mypolicy", apply = false }
-- @tparam table opts
-- @tparam function|table opts.policy `decide(inv) -> action, reason`, or a table with `decide`
--   (and optional `services`, `regions`, `accounts`, `role`, `handshake_actions`); actions: `keep`,
--   `decline`, `delete`, `decline_and_delete`, `accept`. `inv`: `service`, `region` (`global` for
--   Organizations), `account` (the invitee), `account_id` (inviter), `invitation_id` (an ID or ARN),
--   `invited_at`, `status`, `age_days`, and its kind's fields: Detective `graph_arn`,
--   `invitation_type`; Organizations `action_type`, `organization_id`, `management_account`,
--   `handshake_arn`, `expires_at`; RAM `share_name`, `share_arn`, `sharing_account`,
--   `resource_types`, `from_organization` (nil when unknown). Detective, Organizations and RAM
--   invitations that are not open are kept without asking, and so are handshakes whose action type
--   `handshake_actions` (default `{"INVITE"}`) does not name; they have no delete: `delete` and
--   `decline_and_delete` decline
-- @tparam string|{string,...} opts.regions a list of region names (each one invite's region table
--   knows, @{invite.regions}), `"all"` (every region where the service exists in the caller's
--   partition) or `"enabled"` (those of them each account has enabled: Account ListRegions, else
--   EC2 DescribeRegions); required unless the policy has them
-- @tparam[opt] {string,...} opts.unlisted_regions region names to accept though the table does
--   not know them yet (a region newer than invite)
-- @tparam[opt=every invitation service] {string,...} opts.services (@{invite.services})
-- @tparam[opt=false] boolean opts.apply false: plan only, no mutating call
-- @tparam[opt] {string,...}|string opts.accounts account IDs to sweep by assuming `role` in each,
--   or `"organization"` (also `"org"`): every ACTIVE account of the caller's organisation; the
--   caller's own account is swept with the caller's credentials
-- @tparam[opt] {string,...} opts.ous with `"organization"`: only the accounts under these roots or
--   OUs (recursively)
-- @tparam[opt] {string,...} opts.exclude_accounts with `"organization"`: accounts not to sweep
-- @tparam[opt] string opts.role role name or ARN template (see @{role_arn}); needed with accounts
-- @tparam[opt] string opts.external_id the ExternalId of every AssumeRole
-- @tparam[opt] string opts.role_session_name default `invite-<run id>`
-- @tparam[opt] string opts.sts_region the region of STS calls (default: the first listed region,
--   else the configured one, else us-east-1; regional endpoints)
-- @tparam[opt=32] int opts.concurrency scopes in flight at once
-- @tparam[opt] string opts.audit_log path of a JSON-lines audit log (or `audit`, an invite.audit log);
--   appended to, hash-chained line to line (@{invite.audit}); its `start` line carries `version`,
--   `host`, `caller_arn`, `caller_account` and the fields of `audit_meta`, its `end` line the totals
-- @tparam[opt] table opts.audit_meta fields added to the audit log's `start` line, e.g. `policy`
--   (`{path =, sha256 =}`, @{invite.audit.file_digest}) and `argv` (@{invite.audit.command_line}:
--   redacted); string keys that are not the start line's own fields, JSON-encodable values
-- @param[opt] opts.endpoint endpoint URL of every call (e.g. the simulator); also `profile`,
--   `credentials`, `max_attempts`, `max_pages`, `max_items`, `sts_endpoint`, `run_id`
-- @param[opt] opts.on_progress `function(done, total, scope)` after each scope
-- @param[opt] opts.now clock, `function() -> epoch seconds` (for age_days)
-- @param[opt] opts.client `function(scope) -> client` for custom clients (then no
--   GetCallerIdentity unless accounts is "organization")
-- @param[opt] opts.identity `{account =, arn =}` instead of asking STS, or a function(scope) ->
--   account; `account` names the account of current-credential scopes likewise
-- @treturn table report: `apply`, `run_id`, `identity` (`account`, `arn`, `user_id`, `partition`),
--   `accounts` (`id`, `own`, `error`, `regions_source`), `scopes` (service, region, account,
--   invitations, error), `skipped` (service, region, account, reason: a scope not swept, e.g. a
--   region the account has not enabled), `invitations` (one record per invitation, with `action`,
--   `reason`, `outcome`, `detail`), `errors` (one line per failed scope or account), `warnings`,
--   `totals` (`invitations`, `actions`, `outcomes`)
-- @raise on misuse: an unknown option (naming the closest), a bad policy, region (naming the
--   closest known), account, OU or concurrency
function _M.run(opts)
  local checked = check(opts)
  local pol, run_id, concurrency = checked.pol, checked.run_id, checked.concurrency
  local apply = opts.apply == true
  local mok, merr = audit_mod.check_meta(opts.audit_meta)
  if not mok then error("invite.run: " .. merr, 2) end
  local audit = opts.audit
  local own_audit = false
  if not audit then
    if opts.audit_log then
      local a, aerr = audit_mod.open(opts.audit_log, { run_id = run_id })
      if not a then error("invite.run: " .. aerr, 2) end
      audit, own_audit = a, true
    else
      audit = audit_mod.null()
    end
  end
  local now = opts.now or os.time
  -- bad input (the audit log's path included) has been refused before anything is sent
  local plan = plan_of(opts, checked)

  local legacy_identity = type(opts.identity) == "function" and opts.identity or nil
  local ctx = {
    policy = pol, apply = apply, audit = audit, now = now,
    client_for = opts.client or function(scope)
      local svc = require("invite")[scope.service]
      return svc.client{ region = scope.client_region or scope.region, endpoint = opts.endpoint, profile = opts.profile,
                         credentials = scope.credentials, max_attempts = opts.max_attempts,
                         max_pages = opts.max_pages, max_items = opts.max_items }
    end,
    identity_for = legacy_identity or function() return opts.account end,
  }

  local scopes = plan.scopes
  ctx.organization = organization_lookup(opts, checked, plan)
  local caller = plan.identity or {}
  local start = { event = "start", version = require("invite.version"), host = audit_mod.hostname(),
                  apply = apply, scopes = #scopes, skipped = #plan.skipped,
                  accounts = #plan.accounts, caller_account = caller.account, caller_arn = caller.arn,
                  caller_error = plan.identity_error }
  for k, v in pairs(opts.audit_meta or {}) do start[k] = v end
  log(ctx, start)
  for _, e in ipairs(plan.errors) do
    log(ctx, { event = "scope_error", error = e })
  end
  local finished = 0
  local tasks = {}
  for i, scope in ipairs(scopes) do
    tasks[i] = function()
      run_scope(scope, ctx)
      finished = finished + 1
      if opts.on_progress then opts.on_progress(finished, #scopes, scope) end
    end
  end
  local results = scheduler.run(tasks, { concurrency = concurrency })

  local report = new_report(apply)
  report.run_id, report.identity = run_id, plan.identity
  report.partition = plan.partition
  for _, e in ipairs(plan.errors) do report.errors[#report.errors + 1] = e end
  if plan.identity_error and not plan.credentials_error then
    report.warnings[#report.warnings + 1] = plan.identity_error
  end
  for _, w in ipairs(plan.warnings) do report.warnings[#report.warnings + 1] = w end
  report.accounts = {}
  for i, a in ipairs(plan.accounts) do
    report.accounts[i] = { id = a.id, own = a.own or nil, error = a.error, regions_source = a.regions_source }
  end
  for _, s in ipairs(plan.skipped) do
    report.skipped[#report.skipped + 1] = { service = s.service, region = s.region, account = s.account,
                                            reason = s.reason }
    log(ctx, { event = "scope_skipped", service = s.service, region = s.region, account = s.account,
               reason = s.reason })
  end
  for i, scope in ipairs(scopes) do
    if not results[i].ok then
      scope.error = "internal error: " .. tostring(results[i].error)
      log(ctx, { event = "scope_error", service = scope.service, region = scope.region,
                 account = scope.account, error = scope.error })
    end
    report.scopes[#report.scopes + 1] = { service = scope.service, region = scope.region, account = scope.account,
                                          invitations = #(scope.records or {}), error = scope.error }
    if scope.error then
      report.errors[#report.errors + 1] = scope.service .. " " .. scope.region
        .. (scope.account and (" " .. scope.account) or "") .. ": " .. scope.error
    end
    for _, rec in ipairs(scope.records or {}) do
      rec.steps, rec.failed, rec.malformed = nil, nil, nil
      if not rec.outcome then
        -- every invitation ends in exactly one outcome, in the report and in the audit log alike
        finish(ctx, rec, "error", scope.error or "no outcome recorded")
      end
      report.invitations[#report.invitations + 1] = rec
      local t = report.totals
      t.invitations = t.invitations + 1
      if rec.action then t.actions[rec.action] = (t.actions[rec.action] or 0) + 1 end
      t.outcomes[rec.outcome] = (t.outcomes[rec.outcome] or 0) + 1
    end
  end
  sort(report.errors)
  log(ctx, { event = "end", invitations = report.totals.invitations, actions = report.totals.actions,
             outcomes = report.totals.outcomes, errors = #report.errors, warnings = #report.warnings })
  if own_audit then
    local ok, cerr = audit:close()
    if not ok and not ctx.audit_error then ctx.audit_error = tostring(cerr) end
  end
  if ctx.audit_error then
    -- the run stopped making calls at the first failed write; the records say which were made
    local made, not_made = 0, 0
    for _, rec in ipairs(report.invitations) do
      local o = rec.outcome
      if o == "declined" or o == "deleted" or o == "declined_and_deleted" or o == "accepted" then
        made = made + 1
      elseif rec.detail and rec.detail:find(" not sent: ", 1, true) then
        not_made = not_made + 1
      end
    end
    report.audit_error = ctx.audit_error
    table.insert(report.errors, 1, "audit log: " .. ctx.audit_error .. (apply and ("; the run stopped: "
      .. made .. " invitations acted on before, " .. not_made .. " not acted on") or ""))
  end
  return report
end

--- A new run ID: the UTC time and 8 random hex digits, e.g. "20261203T194501Z-3f9a0c1d" (it names
-- the run in the audit log and in the role sessions, `invite-<run id>`).
-- @treturn string
function _M.new_run_id()
  local hex
  local f = io.open("/dev/urandom", "rb")
  if f then
    local b = f:read(4)
    f:close()
    if b and #b == 4 then hex = ("%02x%02x%02x%02x"):format(b:byte(1, 4)) end
  end
  hex = hex or ("%08x"):format(math.random(0, 0x7fffffff))
  return os.date("!%Y%m%dT%H%M%SZ") .. "-" .. hex
end

--- The CLI exit code of a report: 0 all done, 1 errors, 3 some accounts unprocessed.
-- @tparam table report from @{run}
-- @treturn int
function _M.exit_code(report)
  local o = report.totals.outcomes
  if #report.errors > 0 or (o.error or 0) > 0 or (o.skipped or 0) > 0 then return 1 end
  if (o.unprocessed or 0) > 0 then return 3 end
  return 0
end

--- One line of outcome totals, e.g. "5 invitations: declined 3, kept 2".
-- @tparam table report from @{run}
-- @treturn string
function _M.summary(report)
  local parts = {}
  for k, v in pairs(report.totals.outcomes) do parts[#parts + 1] = k .. " " .. v end
  sort(parts)
  local line = report.totals.invitations .. " invitations: " .. (#parts > 0 and concat(parts, ", ") or "none")
  local skipped = report.skipped and #report.skipped or 0
  if skipped > 0 then line = line .. "; " .. skipped .. (skipped == 1 and " scope" or " scopes") .. " skipped" end
  return line
end

return _M
