-- invite.sim.ram: AWS Resource Access Manager (2018-01-04, rest-json) resource-share invitations as
-- the simulator serves them: GetResourceShareInvitations, AcceptResourceShareInvitation,
-- RejectResourceShareInvitation and ListPendingInvitationResources, all POSTs with JSON bodies, from
-- the fixture's `invitations[]` entries with "service": "ram" (docs/simulator.md, "AWS RAM").
--
-- Wire facts from botocore's model: camelCase members, maxResults 1-500, invitation statuses
-- PENDING, ACCEPTED, REJECTED, EXPIRED, invitationTimestamp in epoch seconds; errors are the code in
-- x-amzn-ErrorType and {"message": ...} in the body (every modelled RAM error is 400 but
-- ServerInternalException 500, ServiceUnavailableException 503 and ThrottlingException 429).
--
-- An entry's `id` is the invitation's ARN, arn:aws:ram:<region>:<sender>:resource-share-invitation/<uuid>;
-- its extra fields (`fixture.fields` below): share_name, share_arn (derived from the ID when absent:
-- ...:resource-share/<the same uuid>), resources (the ARNs the share would give) and resource_types
-- (RAM's type of each resource, by position; derived from the ARN when absent: the service and the
-- resource word in PascalCase, arn:aws:ec2:...:subnet/subnet-1 -> "ec2:Subnet").
--
-- Accept -> ACCEPTED, reject -> REJECTED (both stay listed); accepting or rejecting an invitation
-- that is not PENDING is ResourceShareInvitationAlreadyAccepted/AlreadyRejected/ExpiredException.
-- clientToken: the same token with the same operation and invitation repeats the first answer (even
-- though the status changed since); the same token with another operation or invitation is
-- IdempotentParameterMismatchException; without a token the simulator makes one (from its seeded
-- generator) and answers it, as RAM does. Tokens are remembered per account and region until the
-- state is reset.
--
-- Served as an invitation service (services/ram.lua has `invitations`): routes, ops and the svc
-- fields invite.sim.rest reads.
local rest = require "invite.sim.rest"
local util = require "invite.sim.util"

local type, tostring, ipairs, pairs, floor, format, setmetatable = type, tostring, ipairs, pairs, math.floor,
  string.format, setmetatable

local svc = {
  name = "ram",
  max_results = 500,
  validation_code = "InvalidParameterException",
  throttle_code = "ThrottlingException",
  throttle_message = "Rate exceeded",
  internal_code = "ServerInternalException",
  internal_message = "The operation failed because the service could not respond to the request due to an "
    .. "internal problem. Try again later.",
  words = { bad_json = "The request body could not be parsed as JSON." },
  names = {},
}

--- The page size without maxResults (the simulator's choice: RAM says only "specific to the operation").
svc.DEFAULT_PAGE = 50

--- The longest clientToken the simulator accepts (its choice; the model sets no bound): longer, empty or
-- with characters outside printable ASCII is InvalidClientTokenException.
svc.MAX_TOKEN = 64

--- The fixture hook (invite.sim.fixtures): what an invitations[] entry of "service": "ram" may hold.
svc.fixture = {
  statuses = { "PENDING", "ACCEPTED", "REJECTED", "EXPIRED" },
  default_status = "PENDING",
  fields = { share_name = "string", share_arn = "string", resources = "strings", resource_types = "strings" },
}

function svc.error_style(code, message)
  return code, { message = message }
end

svc.routes = {
  { "POST", "^/getresourceshareinvitations/?$", "GetResourceShareInvitations" },
  { "POST", "^/acceptresourceshareinvitation/?$", "AcceptResourceShareInvitation" },
  { "POST", "^/rejectresourceshareinvitation/?$", "RejectResourceShareInvitation" },
  { "POST", "^/listpendinginvitationresources/?$", "ListPendingInvitationResources" },
}

---------------------------------------------------------------------------------------------------
-- ARNs and the JSON of records
---------------------------------------------------------------------------------------------------

-- arn:partition:service:region:account:resource -> its parts, or nil.
local function arn_parts(arn)
  if type(arn) ~= "string" then return nil end
  local partition, service, region, account, resource = arn:match("^arn:([%w%-]+):([%w%-]+):([%w%-]*):(%d*):(.+)$")
  if not partition then return nil end
  return { partition = partition, service = service, region = region, account = account, resource = resource }
end
svc.arn_parts = arn_parts

-- An invitation ARN of RAM: arn:<partition>:ram:<region>:<account>:resource-share-invitation/<id>.
local function is_invitation_arn(arn)
  local p = arn_parts(arn)
  return p ~= nil and p.service == "ram" and p.account ~= "" and p.resource:find("^resource%-share%-invitation/.+")
    ~= nil
end

local function is_share_arn(arn)
  local p = arn_parts(arn)
  return p ~= nil and p.service == "ram" and p.resource:find("^resource%-share/.+") ~= nil
end

--- The share ARN of a record: its fixture's share_arn, else the invitation ARN's own uuid under
-- resource-share/ (the sender's share in the invitation's region).
function svc.share_arn(rec)
  local extra = rec.extra or {}
  if extra.share_arn then return extra.share_arn end
  local p = arn_parts(rec.id)
  local suffix = p and p.resource:match("^resource%-share%-invitation/(.+)$") or tostring(rec.id)
  return format("arn:%s:ram:%s:%s:resource-share/%s", p and p.partition or "aws", rec.region, rec.inviter, suffix)
end

--- RAM's type of a resource ARN: "<service>:<Resource>" from the ARN's service and the word before
-- its first "/" or ":" in PascalCase (subnet -> ec2:Subnet, resolver-rule -> route53resolver:ResolverRule).
function svc.resource_type(arn)
  local p = arn_parts(arn)
  if not p then return "unknown" end
  local word = p.resource:match("^([^/:]+)[/:]") or p.resource
  local pascal = word:gsub("%-?(%w)(%w*)", function(a, b) return a:upper() .. b end)
  return p.service .. ":" .. pascal
end

local function invitation_json(rec)
  local extra = rec.extra or {}
  return {
    resourceShareInvitationArn = rec.id,
    resourceShareName = extra.share_name or "",
    resourceShareArn = svc.share_arn(rec),
    senderAccountId = rec.inviter,
    receiverAccountId = rec.account,
    invitationTimestamp = rec.invited_at and floor(rec.invited_at) or nil,
    status = rec.status,
  }
end
svc.invitation_json = invitation_json

local function resources_of(rec)
  local extra = rec.extra or {}
  local out = {}
  local types = extra.resource_types or {}
  for i, arn in ipairs(extra.resources or {}) do
    local p = arn_parts(arn)
    out[i] = {
      arn = arn, type = types[i] or svc.resource_type(arn), resourceShareArn = svc.share_arn(rec),
      status = "AVAILABLE",
      creationTime = rec.invited_at and floor(rec.invited_at) or nil,
      lastUpdatedTime = rec.invited_at and floor(rec.invited_at) or nil,
      -- a resource whose ARN names no region (an IAM or CloudFront resource) is GLOBAL
      resourceRegionScope = (p and p.region == "") and "GLOBAL" or "REGIONAL",
    }
  end
  return out
end

---------------------------------------------------------------------------------------------------
-- Parameters
---------------------------------------------------------------------------------------------------

local function present(v) return v ~= nil and v ~= util.null end

-- maxResults (1-500, else InvalidMaxResultsException) and nextToken (one of this simulator's for the
-- list, else InvalidNextTokenException). Returns limit, after | nil, error response.
local function page_params(ctx, kind)
  local b = ctx.body
  local limit = rest.body_max_results(b.maxResults, svc.max_results)
  if limit == false then
    return nil, ctx.fail(400, "InvalidMaxResultsException", format("The specified value for maxResults (%s) is "
      .. "not valid. It must be an integer from 1 to %d.", tostring(b.maxResults), svc.max_results))
  end
  limit = limit or svc.DEFAULT_PAGE
  local after
  if present(b.nextToken) then
    after = type(b.nextToken) == "string" and rest.decode_token(b.nextToken, kind, ctx.service, ctx.region,
      ctx.account)
    if not after then
      return nil, ctx.fail(400, "InvalidNextTokenException", "The specified value for nextToken is not valid.")
    end
  end
  return limit, after
end

-- A list of strings member, or nil, error response.
local function string_list(ctx, name)
  local v = ctx.body[name]
  if not present(v) then return nil end
  if type(v) ~= "table" then
    return nil, ctx.validation(format("The specified value for %s is not valid: it must be a list of strings.", name))
  end
  for k, s in pairs(v) do
    if type(k) ~= "number" or type(s) ~= "string" then
      return nil, ctx.validation(format("The specified value for %s is not valid: it must be a list of strings.",
        name))
    end
  end
  return v
end

local function malformed(ctx, arn)
  return ctx.fail(400, "MalformedArnException", format("The format of ARN %s is not valid.", tostring(arn)))
end

local function not_found(ctx, arn)
  return ctx.fail(400, "ResourceShareInvitationArnNotFoundException",
    format("ResourceShareInvitationArn %s could not be found.", tostring(arn)))
end

-- The invitation named by the body's resourceShareInvitationArn, or nil, error response.
local function invitation(ctx)
  local arn = ctx.body.resourceShareInvitationArn
  if not present(arn) then
    return nil, ctx.fail(400, "MissingRequiredParameterException",
      "The request must include the following parameter: resourceShareInvitationArn.")
  end
  if not is_invitation_arn(arn) then return nil, malformed(ctx, arn) end
  local rec = ctx.state:find_by_id(ctx.service, ctx.region, ctx.account, arn)
  if not rec then return nil, not_found(ctx, arn) end
  ctx.log_ids = { rec.inviter }
  return rec
end

---------------------------------------------------------------------------------------------------
-- Client tokens: per state (a reset makes a new invitation table, and with it forgets the tokens),
-- account and region: token -> { operation, arn, body }
---------------------------------------------------------------------------------------------------

local tokens_of = setmetatable({}, { __mode = "k" })

local function token_store(ctx)
  local inv = ctx.state.inv or ctx.state
  local by_key = tokens_of[inv]
  if not by_key then
    by_key = {}
    tokens_of[inv] = by_key
  end
  local k = tostring(ctx.account) .. "/" .. tostring(ctx.region)
  local t = by_key[k]
  if not t then
    t = {}
    by_key[k] = t
  end
  return t
end

local function valid_token(v)
  return type(v) == "string" and #v >= 1 and #v <= svc.MAX_TOKEN and not v:find("[^\32-\126]")
end

-- Accept or reject: `to` is the status the invitation moves to.
local function respond(ctx, to)
  local b = ctx.body
  local token = b.clientToken
  if present(token) and not valid_token(token) then
    return ctx.fail(400, "InvalidClientTokenException", "The client token input parameter is invalid: it must be "
      .. "1 to " .. svc.MAX_TOKEN .. " printable ASCII characters.")
  end
  local store = present(token) and token_store(ctx) or nil
  local arn = b.resourceShareInvitationArn
  if store and store[token] then
    local seen = store[token]
    if seen.operation ~= ctx.operation or seen.arn ~= arn then
      return ctx.fail(400, "IdempotentParameterMismatchException", format("The client token %s was already used "
        .. "with different parameters.", token))
    end
    ctx.log_ids = seen.log_ids
    return ctx.ok_raw(seen.body)
  end
  local rec, err = invitation(ctx)
  if not rec then return err end
  if rec.status == "ACCEPTED" then
    return ctx.fail(400, "ResourceShareInvitationAlreadyAcceptedException",
      format("The invitation %s was already accepted.", rec.id))
  elseif rec.status == "REJECTED" then
    return ctx.fail(400, "ResourceShareInvitationAlreadyRejectedException",
      format("The invitation %s was already rejected.", rec.id))
  elseif rec.status == "EXPIRED" then
    return ctx.fail(400, "ResourceShareInvitationExpiredException", format("The invitation %s is expired.", rec.id))
  end
  ctx.state:set_status(rec, to)
  if not present(token) then token = ctx.cred_rng and ctx.cred_rng:uuid() or "sim-token" end
  local body = util.json_encode{ resourceShareInvitation = invitation_json(rec), clientToken = token }
  if store then store[token] = { operation = ctx.operation, arn = arn, body = body, log_ids = ctx.log_ids } end
  return ctx.ok_raw(body)
end

---------------------------------------------------------------------------------------------------
-- Operations
---------------------------------------------------------------------------------------------------

local function by_key(r) return r.inviter .. "/" .. r.id end

svc.ops = {
  GetResourceShareInvitations = function(ctx)
    local arns, err = string_list(ctx, "resourceShareInvitationArns")
    if err then return err end
    local shares, serr = string_list(ctx, "resourceShareArns")
    if serr then return serr end
    local limit, after = page_params(ctx, "ram-invitations")
    if not limit then return after end
    local want_arn, want_share
    if arns then
      want_arn = {}
      for _, a in ipairs(arns) do
        if not is_invitation_arn(a) then return malformed(ctx, a) end
        if not ctx.state:find_by_id(ctx.service, ctx.region, ctx.account, a) then return not_found(ctx, a) end
        want_arn[a] = true
      end
    end
    if shares then
      want_share = {}
      for _, a in ipairs(shares) do
        if not is_share_arn(a) then return malformed(ctx, a) end
        want_share[a] = true
      end
    end
    local items = {}
    for _, rec in ipairs(ctx.state:list(ctx.service, ctx.region, ctx.account)) do
      if (not want_arn or want_arn[rec.id]) and (not want_share or want_share[svc.share_arn(rec)]) then
        items[#items + 1] = rec
      end
    end
    local page, last = rest.page(items, by_key, limit, after)
    local out = {}
    for i, rec in ipairs(page) do out[i] = invitation_json(rec) end
    local t = { resourceShareInvitations = util.array(out) }
    if last then t.nextToken = rest.encode_token("ram-invitations", ctx.service, ctx.region, ctx.account, last) end
    return ctx.ok(t)
  end,

  AcceptResourceShareInvitation = function(ctx) return respond(ctx, "ACCEPTED") end,
  RejectResourceShareInvitation = function(ctx) return respond(ctx, "REJECTED") end,

  ListPendingInvitationResources = function(ctx)
    local rec, err = invitation(ctx)
    if not rec then return err end
    local scope = ctx.body.resourceRegionScope
    if present(scope) and scope ~= "ALL" and scope ~= "REGIONAL" and scope ~= "GLOBAL" then
      return ctx.validation(format("The specified value for resourceRegionScope (%s) is not valid: it must be ALL, "
        .. "REGIONAL or GLOBAL.", tostring(scope)))
    end
    if rec.status == "REJECTED" then
      return ctx.fail(400, "ResourceShareInvitationAlreadyRejectedException",
        format("The invitation %s was already rejected.", rec.id))
    elseif rec.status == "EXPIRED" then
      return ctx.fail(400, "ResourceShareInvitationExpiredException", format("The invitation %s is expired.", rec.id))
    elseif rec.status ~= "PENDING" then
      -- ACCEPTED: the model lists no error for it; the simulator's choice is InvalidParameterException
      return ctx.validation(format("The invitation %s is not PENDING (it is %s): its resources are listed with "
        .. "ListResources.", rec.id, rec.status))
    end
    local limit, after = page_params(ctx, "ram-resources:" .. rec.id)
    if not limit then return after end
    local items = {}
    for i, r in ipairs(resources_of(rec)) do
      if not present(scope) or scope == "ALL" or r.resourceRegionScope == scope then
        r.key = format("%06d", i)
        items[#items + 1] = r
      end
    end
    local page, last = rest.page(items, function(r) return r.key end, limit, after)
    for _, r in ipairs(page) do r.key = nil end
    local t = { resources = util.array(page) }
    if last then
      t.nextToken = rest.encode_token("ram-resources:" .. rec.id, ctx.service, ctx.region, ctx.account, last)
    end
    return ctx.ok(t)
  end,
}

return svc
