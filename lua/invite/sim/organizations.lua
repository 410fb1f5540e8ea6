-- invite.sim.organizations: AWS Organizations (2016-11-28, awsJson 1.1) as the simulator serves
-- it: read-only from the fixture's `organization` (invite.sim.fixtures: check_organization) --
-- ListAccounts, ListAccountsForParent, ListChildren, ListRoots, DescribeOrganization and
-- DescribeAccount -- and the handshakes each account received, from the fixture's invitations[]
-- entries with "service": "organizations" (the fixture hook: _M.fixture below) --
-- ListHandshakesForAccount, DescribeHandshake, AcceptHandshake and DeclineHandshake.
-- Requests are POST / with `X-Amz-Target: AWSOrganizationsV20161128.<Op>` and a
-- JSON body; answers are `application/x-amz-json-1.1`; errors `{"__type": Code, "Message": ...}`
-- (InvalidInputException and HandshakeConstraintViolationException add their `Reason`), with
-- x-amzn-RequestId. Only the management account may list or describe accounts (a member gets
-- AccessDeniedException; DescribeOrganization is open to every member); an account outside the
-- organisation gets AWSOrganizationsNotInUseException. Any account, in the organisation or not,
-- may list and answer its own handshakes.
-- The first page of a ListAccounts, ListAccountsForParent, ListChildren or ListHandshakesForAccount
-- walk is empty with a NextToken (as Organizations sometimes answers) unless
-- organization.empty_first_page = false (without an organisation: always).
-- Wire facts and wording: docs/simulator.md.
local util = require "invite.sim.util"
local rest = require "invite.sim.rest"
local ids = require "invite.discover.org_ids"

local _M = { name = "organizations", validation_code = "InvalidInputException" }

local type, format, floor, ipairs, tostring = type, string.format, math.floor, ipairs, tostring

local TARGET = "AWSOrganizationsV20161128."
local CONTENT_TYPE = "application/x-amz-json-1.1"
local MAX_RESULTS = 20

local function response(status, body, rid)
  return {
    status = status,
    headers = { { "Content-Type", CONTENT_TYPE }, { "x-amzn-RequestId", rid } },
    body = body,
  }
end

local function ok(tbl, rid)
  return response(200, util.json_encode(tbl), rid)
end

--- An error in the service's style: `{"__type": code, "Message": message}` (plus `fields`).
function _M.error(status, code, message, rid, extra_headers, fields)
  local body = { __type = code, Message = message }
  for k, v in pairs(fields or {}) do body[k] = v end
  local res = response(status, util.json_encode(body), rid)
  for _, h in ipairs(extra_headers or {}) do res.headers[#res.headers + 1] = h end
  res.error_code = code
  return res
end

-- Authentication failures come from the front door: the code, namespaced as awsJson services
-- send it, and {"message": ...} in lower case (the rest-json services' table, invite.sim.rest).
function _M.auth_error(failure, rid)
  local m = rest.AUTH[failure.kind] or rest.AUTH.signature
  local res = response(m[1], util.json_encode({ __type = "com.amazon.coral.service#" .. m[2],
                                                message = failure.message }), rid)
  res.error_code = m[2]
  return res
end

function _M.fault(kind, retry_after, rid)
  local extra = retry_after and { { "Retry-After", tostring(retry_after) } } or nil
  if kind == "throttle" then
    return _M.error(400, "TooManyRequestsException", "You have sent too many requests in too short a period of "
      .. "time. The quota helps protect against denial-of-service attacks. Try again later.", rid, extra,
      { Type = "REQUESTS_PER_SECOND" })
  elseif kind == "500" then
    return _M.error(500, "ServiceException", "Organizations can't complete your request because of an internal "
      .. "service error. Try again later.", rid, extra)
  end
  return _M.error(503, "ServiceUnavailableException", "Service is unavailable. Please retry.", rid, extra)
end

_M.OPERATIONS = { ListAccounts = true, ListAccountsForParent = true, ListChildren = true, ListRoots = true,
                  DescribeOrganization = true, DescribeAccount = true, ListHandshakesForAccount = true,
                  DescribeHandshake = true, AcceptHandshake = true, DeclineHandshake = true }

--- The handshakes of the fixture (invite.sim.fixtures' hook for invitation kinds). An entry:
-- `id` the handshake ID (h-...), `account` the account that received it, `inviter` the sending
-- organisation's management account, `invited_at` (RequestedTimestamp), `status` one of the
-- states (default OPEN), and: `organization_id` (o-...; default the fixture organisation's when
-- the inviter manages it, else "o-sim" .. inviter), `action` (default INVITE), `master_email`,
-- `master_name`, `feature_set` (ALL or CONSOLIDATED_BILLING; defaults from the fixture
-- organisation when it is the sender's, else <inviter>@accounts.sim.invalid, the inviter's ID, ALL),
-- `notes` (a NOTES resource), `parent_handshake` (h-..., the ParentHandshakeId filter and a
-- PARENT_HANDSHAKE resource) and `expires_in_days` ("15" for INVITE, "90" for the all-features
-- kinds by default; the ExpirationTimestamp after invited_at).
_M.fixture = {
  statuses = { "REQUESTED", "OPEN", "CANCELED", "ACCEPTED", "DECLINED", "EXPIRED" },
  default_status = "OPEN",
  global = true,
  fields = {
    organization_id = "string", master_email = "string", master_name = "string", notes = "string",
    parent_handshake = "string", expires_in_days = "string",
    action = { "INVITE", "ENABLE_ALL_FEATURES", "APPROVE_ALL_FEATURES", "ADD_ORGANIZATIONS_SERVICE_LINKED_ROLE",
               "TRANSFER_RESPONSIBILITY" },
    feature_set = { "ALL", "CONSOLIDATED_BILLING" },
  },
}

-- The X-Amz-Target's operation (any, known or not) and the decoded body (false when it is not a
-- JSON object).
local function target_and_body(req)
  local target = req.header["x-amz-target"]
  local op = type(target) == "string" and target:sub(1, #TARGET) == TARGET and target:sub(#TARGET + 1) or nil
  local body = req.body or ""
  local params
  if body == "" then
    params = {}
  else
    local t = util.json_decode(body)
    params = type(t) == "table" and t or false
  end
  return op, params
end

-- An unsigned request that names an Organizations target is answered in this style.
function _M.looks_like(req)
  local op, params = target_and_body(req)
  return op ~= nil, params
end

function _M.operation(req)
  local op, params = target_and_body(req)
  if op and _M.OPERATIONS[op] and req.method == "POST" and req.path == "/" then return op, params end
  return nil, params
end

function _M.unknown_operation(req, _, rid)
  local target = req.header["x-amz-target"]
  if req.method ~= "POST" or req.path ~= "/" then
    return _M.error(404, "UnknownOperationException", "Organizations is served by POST / with X-Amz-Target", rid)
  end
  return _M.error(400, "UnknownOperationException", "Unknown operation " .. tostring(target), rid)
end

---------------------------------------------------------------------------------------------------
-- Input: what the service checks, as InvalidInputException with its Reason (the message names the
-- member; the first sentence is the service's)
---------------------------------------------------------------------------------------------------

local SENTENCE = {
  INPUT_REQUIRED = "You must provide a value for this parameter.",
  INVALID_PATTERN = "You provided a value that does not match the required pattern.",
  INVALID_ENUM = "You specified an invalid value.",
  MAX_VALUE_EXCEEDED = "You provided a value that exceeds the maximum allowed value.",
  MIN_VALUE_EXCEEDED = "You provided a value that is less than the minimum allowed value.",
  MAX_LENGTH_EXCEEDED = "You provided a string parameter that is longer than allowed.",
  MAX_LIMIT_EXCEEDED_FILTER = "You can specify only one filter parameter for the operation.",
  INVALID_NEXT_TOKEN = "You specified an invalid value for nextToken. You must get the value from the response "
    .. "to a previous call to the API.",
}

local function invalid(ctx, reason, detail)
  return _M.error(400, "InvalidInputException", SENTENCE[reason] .. (detail and (" (" .. detail .. ")") or ""),
    ctx.rid, nil, { Reason = reason })
end

local function serialization(ctx, member, want)
  return _M.error(400, "SerializationException", format("%s must be %s", member, want), ctx.rid)
end

-- MaxResults (1-20, default 20) and NextToken (bound to the walk: operation, parent, caller).
local function page_params(ctx, p, scope)
  local limit = MAX_RESULTS
  local n = p.MaxResults
  if n ~= nil then
    if type(n) ~= "number" or n ~= floor(n) then return nil, serialization(ctx, "MaxResults", "an integer") end
    if n < 1 then return nil, invalid(ctx, "MIN_VALUE_EXCEEDED", "MaxResults must be at least 1, got " .. n) end
    if n > MAX_RESULTS then
      return nil, invalid(ctx, "MAX_VALUE_EXCEEDED", "MaxResults must be at most 20, got " .. format("%d", n))
    end
    limit = n
  end
  local tok = p.NextToken
  if tok == nil then return limit, nil end
  if type(tok) ~= "string" then return nil, serialization(ctx, "NextToken", "a string") end
  local after = rest.decode_token(tok, ctx.operation, "organizations", scope, ctx.account)
  if not after then return nil, invalid(ctx, "INVALID_NEXT_TOKEN") end
  return limit, after
end

local function parent_param(ctx, p)
  local v = p.ParentId
  if v == nil then return nil, invalid(ctx, "INPUT_REQUIRED", "ParentId is required") end
  if type(v) ~= "string" then return nil, serialization(ctx, "ParentId", "a string") end
  if #v > 100 then return nil, invalid(ctx, "MAX_LENGTH_EXCEEDED", "ParentId is at most 100 characters") end
  if not ids.is_parent_id(v) then
    return nil, invalid(ctx, "INVALID_PATTERN", "ParentId: " .. ids.RULES.parent)
  end
  return v
end

---------------------------------------------------------------------------------------------------
-- Answers
---------------------------------------------------------------------------------------------------

local function account_json(m)
  return { Id = m.id, Arn = m.arn, Email = m.email, Name = m.name, Status = m.status, State = m.status,
           JoinedMethod = m.joined_method, JoinedTimestamp = m.joined }
end

local function by_id(x) return x.id end

-- One page of `items` (sorted by id): the first page of a walk is empty with a token when the
-- organisation says so (and the operation is one that does it).
local function paged(ctx, org, items, scope, limit, after, empty_first)
  if after == nil and empty_first and org.empty_first_page then
    return {}, rest.encode_token(ctx.operation, "organizations", scope, ctx.account, "")
  end
  local page, last = rest.page(items, by_id, limit, after ~= "" and after or nil)
  return page, last and rest.encode_token(ctx.operation, "organizations", scope, ctx.account, last) or nil
end

local function list_response(ctx, member, list, token)
  return ok({ [member] = util.array(list), NextToken = token }, ctx.rid)
end

local function accounts_page(ctx, org, members, scope, limit, after)
  local page, token = paged(ctx, org, members, scope, limit, after, true)
  local out = {}
  for i, m in ipairs(page) do out[i] = account_json(m) end
  return list_response(ctx, "Accounts", out, token)
end

local function members_under(org, parent)
  local out = {}
  for _, m in ipairs(org.member_list) do
    if m.parent == parent then out[#out + 1] = m end
  end
  return out
end

local function units_under(org, parent)
  local out = {}
  for _, u in ipairs(org.units) do
    if u.parent == parent then out[#out + 1] = u end
  end
  return out
end

local function parent_exists(org, id)
  return id == org.root or org.unit_by_id[id] ~= nil
end

local function parent_not_found(ctx)
  return _M.error(400, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.",
    ctx.rid)
end

local ops = {}

function ops.ListAccounts(ctx, org, p)
  local limit, after = page_params(ctx, p, "-")
  if not limit then return after end
  return accounts_page(ctx, org, org.member_list, "-", limit, after)
end

function ops.ListAccountsForParent(ctx, org, p)
  local parent, perr = parent_param(ctx, p)
  if not parent then return perr end
  local limit, after = page_params(ctx, p, parent)
  if not limit then return after end
  if not parent_exists(org, parent) then return parent_not_found(ctx) end
  return accounts_page(ctx, org, members_under(org, parent), parent, limit, after)
end

function ops.ListChildren(ctx, org, p)
  local parent, perr = parent_param(ctx, p)
  if not parent then return perr end
  local kind = p.ChildType
  if kind == nil then return invalid(ctx, "INPUT_REQUIRED", "ChildType is required") end
  if kind ~= "ACCOUNT" and kind ~= "ORGANIZATIONAL_UNIT" then
    return invalid(ctx, "INVALID_ENUM", "ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT")
  end
  local scope = parent .. "/" .. kind
  local limit, after = page_params(ctx, p, scope)
  if not limit then return after end
  if not parent_exists(org, parent) then return parent_not_found(ctx) end
  local items = kind == "ACCOUNT" and members_under(org, parent) or units_under(org, parent)
  local page, token = paged(ctx, org, items, scope, limit, after, true)
  local out = {}
  for i, x in ipairs(page) do out[i] = { Id = x.id, Type = kind } end
  return list_response(ctx, "Children", out, token)
end

function ops.ListRoots(ctx, org, p)
  local limit, after = page_params(ctx, p, "-")
  if not limit then return after end
  local roots = { { id = org.root } }
  local page, token = paged(ctx, org, roots, "-", limit, after, false)
  local out = {}
  for i in ipairs(page) do
    out[i] = { Id = org.root, Arn = org.root_arn, Name = "Root", PolicyTypes = util.array{} }
  end
  return list_response(ctx, "Roots", out, token)
end

function ops.DescribeOrganization(ctx, org)
  return ok({ Organization = {
    Id = org.id, Arn = org.arn, FeatureSet = org.feature_set,
    MasterAccountArn = org.management.arn, MasterAccountId = org.management_account,
    MasterAccountEmail = org.management.email, AvailablePolicyTypes = util.array{},
  } }, ctx.rid)
end

function ops.DescribeAccount(ctx, org, p)
  local id = p.AccountId
  if id == nil then return invalid(ctx, "INPUT_REQUIRED", "AccountId is required") end
  if type(id) ~= "string" then return serialization(ctx, "AccountId", "a string") end
  if not ids.is_account_id(id) then return invalid(ctx, "INVALID_PATTERN", "AccountId: " .. ids.RULES.account) end
  local m = org.members[id]
  if not m then
    return _M.error(400, "AccountNotFoundException", "You specified an account that doesn't exist.", ctx.rid)
  end
  ctx.log_ids = { id }
  return ok({ Account = account_json(m) }, ctx.rid)
end

---------------------------------------------------------------------------------------------------
-- Handshakes (records of the state: service "organizations", region "global", the invitee's
-- account; extra = the entry's fields)
---------------------------------------------------------------------------------------------------

local ACTIONS = {}
for _, a in ipairs(_M.fixture.fields.action) do ACTIONS[a] = true end
local DAY = 86400
-- the days a handshake stays open, by action (AWS: an invitation 15 days, all features 90)
local EXPIRES_IN = { INVITE = 15, ENABLE_ALL_FEATURES = 90, APPROVE_ALL_FEATURES = 90 }
-- closed states: a handshake in one cannot change any more
local CLOSED = { CANCELED = true, ACCEPTED = true, DECLINED = true, EXPIRED = true }

local function is_handshake_id(v)
  local tail = type(v) == "string" and v:match("^h%-([0-9a-z]*)$")
  return tail and #tail >= 8 and #tail <= 32 or false
end

-- What the handshake says about its sender: organisation ID, management email and name, feature set.
local function sender(ctx, rec)
  local x = rec.extra or {}
  local org = ctx.state.fixture.organization
  local own = org and org.management_account == rec.inviter
    and (x.organization_id == nil or x.organization_id == org.id)
  return {
    org_id = x.organization_id or (own and org.id) or ("o-sim" .. rec.inviter),
    email = x.master_email or (own and org.management.email) or (rec.inviter .. "@accounts.sim.invalid"),
    name = x.master_name or (own and org.management.name) or rec.inviter,
    feature_set = x.feature_set or (own and org.feature_set) or "ALL",
  }
end

--- The Handshake as Organizations sends it: Arn
-- arn:aws:organizations::<inviter>:handshake/<org>/<action in lower case>/<id>; Parties the
-- ORGANIZATION (its ID, as the API reference's examples show it) and the invited ACCOUNT;
-- Resources per action (docs/simulator.md).
function _M.handshake_json(ctx, rec)
  local x = rec.extra or {}
  local action = x.action or "INVITE"
  local who = sender(ctx, rec)
  local days = tonumber(x.expires_in_days or "") or EXPIRES_IN[action] or 15
  local resources = {}
  if action == "INVITE" then
    resources[1] = { Type = "ORGANIZATION", Value = who.org_id, Resources = util.array{
      { Type = "MASTER_EMAIL", Value = who.email },
      { Type = "MASTER_NAME", Value = who.name },
      { Type = "ORGANIZATION_FEATURE_SET", Value = who.feature_set },
    } }
    resources[2] = { Type = "ACCOUNT", Value = rec.account }
  else
    resources[1] = { Type = "ORGANIZATION", Value = who.org_id }
  end
  if x.parent_handshake then resources[#resources + 1] = { Type = "PARENT_HANDSHAKE", Value = x.parent_handshake } end
  if x.notes then resources[#resources + 1] = { Type = "NOTES", Value = x.notes } end
  return {
    Id = rec.id,
    Arn = format("arn:aws:organizations::%s:handshake/%s/%s/%s", rec.inviter, who.org_id, action:lower(), rec.id),
    Parties = util.array{ { Id = who.org_id, Type = "ORGANIZATION" }, { Id = rec.account, Type = "ACCOUNT" } },
    State = rec.status,
    RequestedTimestamp = rec.invited_at,
    ExpirationTimestamp = rec.invited_at + days * DAY,
    Action = action,
    Resources = util.array(resources),
  }
end

local function handshakes_of(ctx)
  return ctx.state:list("organizations", "global", ctx.account)
end

local function handshake_param(ctx, p, member)
  local v = p[member]
  if v == nil then return nil, invalid(ctx, "INPUT_REQUIRED", member .. " is required") end
  if type(v) ~= "string" then return nil, serialization(ctx, member, "a string") end
  if #v > 34 then return nil, invalid(ctx, "MAX_LENGTH_EXCEEDED", member .. " is at most 34 characters") end
  if not is_handshake_id(v) then
    return nil, invalid(ctx, "INVALID_PATTERN", member .. ": h- followed by 8 to 32 lowercase letters or digits")
  end
  return v
end

local function not_found(ctx)
  return _M.error(400, "HandshakeNotFoundException", "We can't find a handshake with the HandshakeId that you "
    .. "specified.", ctx.rid)
end

-- The caller's own handshake `id` (one it received), or nil and HandshakeNotFoundException.
local function own_handshake(ctx, p)
  local id, err = handshake_param(ctx, p, "HandshakeId")
  if not id then return nil, err end
  ctx.log_ids = { id }
  local rec = ctx.state:find_by_id("organizations", "global", ctx.account, id)
  if not rec then return nil, not_found(ctx) end
  return rec
end

local function handshake_answer(ctx, rec)
  return ok({ Handshake = _M.handshake_json(ctx, rec) }, ctx.rid)
end

local hs_ops = {}

function hs_ops.ListHandshakesForAccount(ctx, p)
  local f = p.Filter
  local action, parent
  if f ~= nil then
    if type(f) ~= "table" then return serialization(ctx, "Filter", "an object") end
    action, parent = f.ActionType, f.ParentHandshakeId
    if action ~= nil and parent ~= nil then
      return invalid(ctx, "MAX_LIMIT_EXCEEDED_FILTER", "Filter takes ActionType or ParentHandshakeId, not both")
    end
    if action ~= nil and not ACTIONS[action] then
      return invalid(ctx, "INVALID_ENUM", "Filter.ActionType must be one of " .. table.concat(_M.fixture.fields.action,
        ", "))
    end
    if parent ~= nil then
      local _, err = handshake_param(ctx, f, "ParentHandshakeId")
      if err then return err end
    end
  end
  local scope = action and ("action=" .. action) or parent and ("parent=" .. parent) or "-"
  local limit, after = page_params(ctx, p, scope)
  if not limit then return after end
  local items = {}
  for _, rec in ipairs(handshakes_of(ctx)) do
    local x = rec.extra or {}
    if (not action or (x.action or "INVITE") == action) and (not parent or x.parent_handshake == parent) then
      items[#items + 1] = rec
    end
  end
  table.sort(items, function(a, b) return a.id < b.id end)
  local org = ctx.state.fixture.organization or { empty_first_page = true }
  local page, token = paged(ctx, org, items, scope, limit, after, true)
  local out = {}
  for i, rec in ipairs(page) do out[i] = _M.handshake_json(ctx, rec) end
  return list_response(ctx, "Handshakes", out, token)
end

function hs_ops.DescribeHandshake(ctx, p)
  local rec, err = own_handshake(ctx, p)
  if not rec then return err end
  return handshake_answer(ctx, rec)
end

-- Accept or decline: an open one (REQUESTED or OPEN) moves to `to`; one already there is
-- HandshakeAlreadyInStateException, another closed one InvalidHandshakeTransitionException.
local function respond(ctx, p, to)
  local rec, err = own_handshake(ctx, p)
  if not rec then return err end
  if rec.status == to then
    return _M.error(400, "HandshakeAlreadyInStateException", "The specified handshake is already in the requested "
      .. "state.", ctx.rid)
  end
  if CLOSED[rec.status] then
    return _M.error(400, "InvalidHandshakeTransitionException", "You can't perform the operation on the handshake "
      .. "in its current state.", ctx.rid)
  end
  if to == "ACCEPTED" and (rec.extra and rec.extra.action or "INVITE") == "INVITE" then
    -- an account of the fixture's organisation cannot join another one (accepting its own
    -- organisation's invitation changes nothing: it is a member already)
    local org = ctx.state.fixture.organization
    if org and org.members[ctx.account] and sender(ctx, rec).org_id ~= org.id then
      return _M.error(400, "HandshakeConstraintViolationException", "The handshake request is invalid because the "
        .. "invited account is already a member of an organization.", ctx.rid, nil,
        { Reason = "ALREADY_IN_AN_ORGANIZATION" })
    end
  end
  ctx.state:set_status(rec, to)
  return handshake_answer(ctx, rec)
end

function hs_ops.AcceptHandshake(ctx, p) return respond(ctx, p, "ACCEPTED") end
function hs_ops.DeclineHandshake(ctx, p) return respond(ctx, p, "DECLINED") end

-- Who may call what: the management account everything; another member DescribeOrganization only
-- (and every account its own handshakes, above).
local MEMBER_MAY = { DescribeOrganization = true }

---------------------------------------------------------------------------------------------------
-- The faults that shape a list answer, for ListHandshakesForAccount (invite.sim asks after the
-- operation ran; the other operations' answers stay as they are):
--   endless-pages         an empty Handshakes list and a fresh NextToken every time (the token
--                         restarts the walk when sent back after the fault)
--   bigpage=N             N synthesised OPEN INVITE handshakes (h-sim + 10 digits, inviters 9 + 11
--                         digits, organisation o-sim + the inviter) and no NextToken, built whole in
--                         memory (about 700 bytes each)
--   malformed-invitation  an extra first handshake (h-simmalformed1, OPEN, INVITE) whose Arn is not
--                         an ARN and with no Resources: nothing names its sender
-- Returns the changed answer or nil.
---------------------------------------------------------------------------------------------------

local endless_seq = 0

function _M.shape_fault(res, fault, c, now)
  if c.operation ~= "ListHandshakesForAccount" or res.status ~= 200 or type(res.body) ~= "string" then return nil end
  local t = util.json_decode(res.body)
  if type(t) ~= "table" or type(t.Handshakes) ~= "table" then return nil end
  local kind = fault.kind
  local at = floor(now or os.time())
  if kind == "endless-pages" then
    endless_seq = endless_seq + 1
    t.Handshakes = {}
    -- "!" sorts before every handshake ID: sent back after the fault, the walk restarts
    t.NextToken = rest.encode_token(c.operation, "organizations", "-", c.account or "", "!endless-" .. endless_seq)
  elseif kind == "bigpage" then
    local list = {}
    for i = 1, fault.count do
      local inviter = format("9%011d", i)
      local id = format("h-sim%010d", i)
      local org = "o-sim" .. inviter
      list[i] = {
        Id = id, Arn = format("arn:aws:organizations::%s:handshake/%s/invite/%s", inviter, org, id),
        Parties = util.array{ { Id = org, Type = "ORGANIZATION" }, { Id = c.account or "", Type = "ACCOUNT" } },
        State = "OPEN", RequestedTimestamp = at, ExpirationTimestamp = at + 15 * DAY, Action = "INVITE",
        Resources = util.array{ { Type = "ORGANIZATION", Value = org }, { Type = "ACCOUNT", Value = c.account or "" } },
      }
    end
    t.Handshakes = list
    t.NextToken = nil
  elseif kind == "malformed-invitation" then
    table.insert(t.Handshakes, 1, { Id = "h-simmalformed1", Arn = "sim-malformed-invitation", State = "OPEN",
                                    Action = "INVITE", RequestedTimestamp = at, ExpirationTimestamp = at + 15 * DAY })
  else
    return nil
  end
  t.Handshakes = util.array(t.Handshakes)
  res.body = util.json_encode(t)
  return res
end

--- Answers one authenticated request (the simulator's hook; ctx: see invite.sim).
function _M.dispatch(ctx)
  local p = ctx.params
  if p == false then
    return _M.error(400, "SerializationException", "The request body is not a JSON object", ctx.rid)
  end
  if hs_ops[ctx.operation] then return hs_ops[ctx.operation](ctx, p or {}) end
  local org = ctx.state.fixture.organization
  local caller = ctx.account
  if not org or not org.members[caller] then
    return _M.error(400, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.",
      ctx.rid)
  end
  if caller ~= org.management_account and not MEMBER_MAY[ctx.operation] then
    return _M.error(400, "AccessDeniedException", "You don't have permissions to access this resource.", ctx.rid)
  end
  return ops[ctx.operation](ctx, org, p or {})
end

return _M
