-- invite.sim.detective: Amazon Detective (2018-10-26, rest-json) behavior-graph invitations as the
-- simulator serves them: ListInvitations (POST /invitations/list), AcceptInvitation (PUT
-- /invitation), RejectInvitation (POST /invitation/removal) and DisassociateMembership (POST
-- /membership/removal), from the fixture's `invitations[]` entries with `"service": "detective"`
-- (the invitation-kind hook: `fixture` below; invite.sim.fixtures, invite.sim.state). Each entry is
-- one MemberDetail: the invited `account` is AccountId, the `inviter` AdministratorId (and the
-- deprecated MasterId), `id` the GraphArn (arn:aws:detective:<region>:<inviter>:graph:<32 hex>),
-- `email` EmailAddress (default: the account's organisation email, else <id>@accounts.sim.invalid),
-- `invitation_type` InvitationType (default INVITATION); InvitedTime and UpdatedTime are ISO-8601
-- strings with milliseconds (the model's timestampFormat iso8601, e.g. 2021-08-18T16:35:56.284Z).
--
-- Lifecycle (the API reference's rules):
--   INVITED --AcceptInvitation--> ENABLED --DisassociateMembership--> gone
--   INVITED --RejectInvitation--> gone (not listed; a second reject is ResourceNotFoundException)
-- ListInvitations lists INVITED, ENABLED and ACCEPTED_BUT_DISABLED (open and accepted); the
-- VERIFICATION_* ones were never sent (not listed; ResourceNotFoundException). Accepting anything
-- but an INVITED one, rejecting anything but an INVITED one, disassociating anything but an ENABLED
-- one, and rejecting or disassociating an ORGANIZATION membership: ConflictException ("The request
-- attempted an invalid action."). A GraphArn off the model's pattern: ValidationException with
-- ErrorCode INVALID_GRAPH_ARN, nothing changes; a bad MaxResults / NextToken / body:
-- INVALID_REQUEST_BODY.
--
-- Errors: the code in x-amzn-ErrorType, {"Message": ...} in the body (ValidationException adds
-- ErrorCode and ErrorCodeReason), with x-amzn-RequestId: ValidationException 400,
-- AccessDeniedException 403, ResourceNotFoundException 404, ConflictException 409,
-- TooManyRequestsException 429 (the throttle fault), InternalServerException 500,
-- ServiceUnavailableException 503. Detective is a client-only declaration for now, so the server
-- serves this module as one of its "other" services (operation, dispatch, error, auth_error, fault,
-- unknown_operation, shape_fault); `routes`, `ops` and `error_style` serve invite.sim.rest's
-- dispatch as well, for when the declaration gains its `invitations` table.
local rest = require "invite.sim.rest"
local util = require "invite.sim.util"

local _M = { name = "detective", validation_code = "ValidationException" }

local type, tostring, format, ipairs = type, tostring, string.format, ipairs
local unpack = table.unpack or unpack

--- The fixture hook (docs/simulator.md, "Invitation kinds").
_M.fixture = {
  statuses = { "INVITED", "VERIFICATION_IN_PROGRESS", "VERIFICATION_FAILED", "ENABLED", "ACCEPTED_BUT_DISABLED" },
  default_status = "INVITED",
  fields = { email = "string", invitation_type = { "INVITATION", "ORGANIZATION" } },
}

--- The operations served.
_M.OPERATIONS = { ListInvitations = true, AcceptInvitation = true, RejectInvitation = true,
                  DisassociateMembership = true }

--- ListInvitations' page size without MaxResults (the model's maximum; AWS documents no default).
_M.DEFAULT_PAGE = 200
_M.MAX_RESULTS = 200

-- The statuses ListInvitations lists (open and accepted invitations).
local LISTED = { INVITED = true, ENABLED = true, ACCEPTED_BUT_DISABLED = true }

_M.routes = {
  { "POST", "^/invitations/list/?$", "ListInvitations" },
  { "PUT", "^/invitation/?$", "AcceptInvitation" },
  { "POST", "^/invitation/removal/?$", "RejectInvitation" },
  { "POST", "^/membership/removal/?$", "DisassociateMembership" },
}

-- The error style (invite.sim.rest's svc interface): the code in x-amzn-ErrorType, {"Message": ...}.
function _M.error_style(code, message)
  return code, { Message = message }
end
_M.throttle_code = "TooManyRequestsException"
_M.throttle_message = "The request cannot be completed because too many other requests are occurring at the same "
  .. "time."
_M.internal_code = "InternalServerException"
_M.internal_message = "The request was valid but failed because of a problem with the service."

--- An error answer in Detective's style (`fields` adds body members, e.g. ErrorCode).
function _M.error(status, code, message, rid, extra_headers, fields)
  local res = rest.error(_M, status, code, message, rid, extra_headers)
  if fields then
    local body = { Message = message }
    for k, v in pairs(fields) do body[k] = v end
    res.body = util.json_encode(body)
  end
  return res
end

rest.front_door(_M, _M, _M.routes)

function _M.unknown_operation(req, _, rid)
  return _M.error(404, "UnknownOperationException", "Unknown operation " .. tostring(req.method) .. " "
    .. tostring(req.path) .. " for detective", rid)
end

---------------------------------------------------------------------------------------------------
-- Answers
---------------------------------------------------------------------------------------------------

local function ok(ctx, tbl)
  return rest.json(200, tbl, ctx.rid)
end

local function invalid(ctx, error_code, message)
  return _M.error(400, "ValidationException", message, ctx.rid, nil,
    { ErrorCode = error_code, ErrorCodeReason = message })
end

local function not_found(ctx)
  return _M.error(404, "ResourceNotFoundException", "The request refers to a nonexistent resource.", ctx.rid)
end

local function conflict(ctx, why)
  return _M.error(409, "ConflictException", "The request attempted an invalid action. " .. why, ctx.rid)
end

local function body_of(ctx)
  local raw = ctx.req.body or ""
  if raw:find("^%s*$") then return {} end
  local t = util.json_decode(raw)
  if type(t) ~= "table" then return nil, invalid(ctx, "INVALID_REQUEST_BODY", "The request body is not valid JSON.") end
  return t
end

---------------------------------------------------------------------------------------------------
-- MemberDetail
---------------------------------------------------------------------------------------------------

-- The model's GraphArn pattern, ^arn:aws[-\w]{0,10}?:detective:[-\w]{2,20}?:\d{12}?:graph:[abcdef\d]{32}?$
function _M.is_graph_arn(v)
  if type(v) ~= "string" then return false end
  local part, region, account, id = v:match("^arn:aws([%w_%-]*):detective:([%w_%-]*):(%d*):graph:([%da-f]*)$")
  return part ~= nil and #part <= 10 and #region >= 2 and #region <= 20 and #account == 12 and #id == 32
end

local function email_of(ctx, rec)
  local extra = rec.extra or {}
  if extra.email then return extra.email end
  local org = ctx.state.fixture and ctx.state.fixture.organization
  local m = org and org.members[rec.account]
  return m and m.email or (rec.account .. "@accounts.sim.invalid")
end

local function member_detail(ctx, rec)
  local extra = rec.extra or {}
  local invited = util.iso8601(rec.invited_at, true)
  local updated = rec.updated_at and util.iso8601(rec.updated_at, true) or invited
  local t = {
    AccountId = rec.account, AdministratorId = rec.inviter, MasterId = rec.inviter, GraphArn = rec.id,
    EmailAddress = email_of(ctx, rec), Status = rec.status, InvitedTime = invited, UpdatedTime = updated,
    InvitationType = extra.invitation_type or "INVITATION",
  }
  if rec.status == "ENABLED" or rec.status == "ACCEPTED_BUT_DISABLED" then
    t.VolumeUsageByDatasourcePackage = { DETECTIVE_CORE = { VolumeUsageInBytes = 0, VolumeUsageUpdateTime = updated } }
    t.DatasourcePackageIngestStates = { DETECTIVE_CORE = rec.status == "ENABLED" and "STARTED" or "STOPPED" }
  end
  if rec.status == "ACCEPTED_BUT_DISABLED" then t.DisabledReason = "VOLUME_UNKNOWN" end
  return t
end
_M.member_detail = member_detail

-- The caller's listed invitations (sorted by inviter, then GraphArn).
local function listed(ctx)
  local out = {}
  for _, rec in ipairs(ctx.state:list(_M.name, ctx.region, ctx.account)) do
    if LISTED[rec.status] then out[#out + 1] = rec end
  end
  return out
end

local function page_key(rec)
  return rec.inviter .. "/" .. rec.id
end

-- The invitation the body's GraphArn names (checked against the pattern first), or nil and an
-- error answer. Invitations never sent (VERIFICATION_*) are not found.
local function target(ctx)
  local body, err = body_of(ctx)
  if not body then return nil, err end
  local arn = body.GraphArn
  if arn == nil or arn == util.null then
    return nil, invalid(ctx, "INVALID_REQUEST_BODY", "1 validation error detected: Value null at 'graphArn' failed "
      .. "to satisfy constraint: Member must not be null")
  end
  if not _M.is_graph_arn(arn) then
    return nil, invalid(ctx, "INVALID_GRAPH_ARN", "1 validation error detected: Value '" .. tostring(arn)
      .. "' at 'graphArn' failed to satisfy constraint: Member must satisfy regular expression pattern: "
      .. "^arn:aws[-\\w]{0,10}?:detective:[-\\w]{2,20}?:\\d{12}?:graph:[abcdef\\d]{32}?$")
  end
  local rec = ctx.state:find_by_id(_M.name, ctx.region, ctx.account, arn)
  ctx.log_ids = { arn:match(":(%d+):graph:") }
  if not rec or not LISTED[rec.status] then return nil, not_found(ctx) end
  return rec
end

local function touch(ctx, rec, status)
  rec.updated_at = ctx.token_now or os.time()
  ctx.state:set_status(rec, status)
end

---------------------------------------------------------------------------------------------------
-- Operations (ctx: req, rid, state, region, account; see invite.sim)
---------------------------------------------------------------------------------------------------

_M.ops = {}

function _M.ops.ListInvitations(ctx)
  local body, err = body_of(ctx)
  if not body then return err end
  local limit, why = rest.body_max_results(body.MaxResults, _M.MAX_RESULTS)
  if limit == false then return invalid(ctx, "INVALID_REQUEST_BODY", why) end
  limit = limit or _M.DEFAULT_PAGE
  local after
  local tok = body.NextToken
  if tok ~= nil and tok ~= util.null then
    after = type(tok) == "string" and #tok >= 1 and #tok <= 1024
      and rest.decode_token(tok, "invitations", _M.name, ctx.region or "", ctx.account or "") or nil
    if not after then
      return invalid(ctx, "INVALID_REQUEST_BODY", "The NextToken is not valid for this request.")
    end
  end
  local page, last = rest.page(listed(ctx), page_key, limit, after)
  local out = {}
  for i, rec in ipairs(page) do out[i] = member_detail(ctx, rec) end
  local res = { Invitations = util.array(out) }
  if last then res.NextToken = rest.encode_token("invitations", _M.name, ctx.region or "", ctx.account or "", last) end
  return ok(ctx, res)
end

function _M.ops.AcceptInvitation(ctx)
  local rec, err = target(ctx)
  if not rec then return err end
  if rec.status ~= "INVITED" then
    return conflict(ctx, "The member account status in the behavior graph must be INVITED; it is " .. rec.status
      .. ".")
  end
  touch(ctx, rec, "ENABLED")
  return ok(ctx, {})
end

function _M.ops.RejectInvitation(ctx)
  local rec, err = target(ctx)
  if not rec then return err end
  if (rec.extra or {}).invitation_type == "ORGANIZATION" then
    return conflict(ctx, "An organization account in the organization behavior graph has no invitation to reject.")
  end
  if rec.status ~= "INVITED" then
    return conflict(ctx, "The member account status in the behavior graph must be INVITED; it is " .. rec.status
      .. ".")
  end
  ctx.state:remove(rec)
  return ok(ctx, {})
end

function _M.ops.DisassociateMembership(ctx)
  local rec, err = target(ctx)
  if not rec then return err end
  if (rec.extra or {}).invitation_type == "ORGANIZATION" then
    return conflict(ctx, "The Detective administrator account decides which organization accounts are members.")
  end
  if rec.status ~= "ENABLED" then
    return conflict(ctx, "The member account status in the behavior graph must be ENABLED; it is " .. rec.status
      .. ".")
  end
  ctx.state:remove(rec)
  return ok(ctx, {})
end

-- ctx: req, rid, state, principal, operation, region, account (see invite.sim). Where Detective does
-- not exist (botocore's endpoints: 21 aws regions and 2 GovCloud ones) AWS has no endpoint: 404
-- UnknownEndpoint, as the simulator answers the invitation services there.
function _M.dispatch(ctx)
  local region = ctx.region
  if type(region) == "string" and not require("invite.sim.regions").exists(_M.name, region) then
    return _M.error(404, "UnknownEndpoint", "invite sim: detective does not exist in " .. region
      .. " (no endpoint api.detective." .. region .. "." .. require("invite.config").partition(region).dns .. ")",
      ctx.rid)
  end
  return _M.ops[ctx.operation](ctx)
end

---------------------------------------------------------------------------------------------------
-- The faults that shape a list answer (bigpage, endless-pages, malformed-invitation, escape), for
-- ListInvitations; invite.sim asks after the operation ran. Returns the changed answer or nil.
---------------------------------------------------------------------------------------------------

local ESCAPES = "\27]0;pwned\7\27[2J"
local endless_seq = 0

-- bigpage=N: N invitations of one fixed width (inviters 9 + 11 digits, graph IDs from the index),
-- streamed a few hundred at a time with an exact Content-Length; no NextToken.
local function big_page(res, n, region, account, now)
  local at = util.iso8601(now, true)
  local tmpl = util.json_encode{
    AccountId = account, AdministratorId = "@A@", MasterId = "@A@", GraphArn = "@G@",
    EmailAddress = account .. "@accounts.sim.invalid", Status = "INVITED", InvitedTime = at, UpdatedTime = at,
    InvitationType = "INVITATION",
  }
  local order = {} -- the placeholders in the order json_encode wrote the keys
  for p in tmpl:gmatch("@([AG])@") do order[#order + 1] = p end
  tmpl = tmpl:gsub("%%", "%%%%"):gsub("@[AG]@", "%%s")
  local args = {}
  local function entry(i)
    local inviter = format("9%011d", i)
    local arn = format("arn:aws:detective:%s:%s:graph:%032x", region, inviter, i)
    for k, p in ipairs(order) do args[k] = p == "A" and inviter or arn end
    return format(tmpl, unpack(args, 1, #order))
  end
  return rest.stream_list(res, '{"Invitations":[', n, #entry(1), entry)
end

function _M.shape_fault(res, fault, c, now)
  if c.operation ~= "ListInvitations" or res.status ~= 200 or type(res.body) ~= "string" then return nil end
  local kind = fault.kind
  if kind == "bigpage" then return big_page(res, fault.count, c.region or "us-east-1", c.account or "", now) end
  local t = util.json_decode(res.body)
  if type(t) ~= "table" or type(t.Invitations) ~= "table" then return nil end
  local list = t.Invitations
  if kind == "endless-pages" then
    endless_seq = endless_seq + 1
    list = {}
    -- "!" sorts before every inviter: sent back after the fault, the list restarts
    t.NextToken = rest.encode_token("invitations", _M.name, c.region or "", c.account or "", "!endless-" .. endless_seq)
  elseif kind == "malformed-invitation" then
    -- no account IDs at all (neither AccountId nor AdministratorId / MasterId)
    table.insert(list, 1, { GraphArn = "sim-malformed-invitation", Status = "INVITED",
                            InvitedTime = util.iso8601(now, true) })
  elseif kind == "escape" then
    for _, inv in ipairs(list) do
      if type(inv) == "table" then
        inv.GraphArn = tostring(inv.GraphArn or "sim-escape") .. ESCAPES
        inv.InvitedTime = tostring(inv.InvitedTime or util.iso8601(now, true)) .. ESCAPES
      end
    end
  else
    return nil
  end
  t.Invitations = util.array(list)
  res.body = util.json_encode(t)
  return res
end

return _M
