-- invite.sim.guardduty: Amazon GuardDuty (2017-11-28) invitation operations and ListDetectors as
-- the simulator serves them. Wire facts from botocore's model: camelCase members on the wire,
-- DeclineInvitations/DeleteInvitations take 1-50 account IDs of exactly 12 characters,
-- ListInvitations/ListDetectors maxResults 1-50, unprocessed entries {accountId, result}, and the
-- administrator operations live under /detector/{detectorId}. Errors: x-amzn-ErrorType names the
-- modeled error (BadRequestException 400, InternalServerErrorException 500) while the body is
-- {"message": ..., "__type": ...} where __type may differ (InvalidInputException for bad input),
-- as GuardDuty answers in practice.
local rest = require "invite.sim.rest"
local util = require "invite.sim.util"

local BAD_INPUT = "The request is rejected because an invalid or out-of-range value is specified as an input parameter."

local svc = {
  name = "guardduty",
  max_results = 50,
  validation_code = "BadRequestException",
  throttle_code = "TooManyRequestsException",
  throttle_message = "Too Many Requests",
  internal_code = "InternalServerErrorException",
  internal_message = "The request is rejected because an internal server error occurred.",
  auth_error_suffix = "",
  -- no disabled_error: a fixture cannot list GuardDuty under `disabled`
  disabled_note = "GuardDuty is 'disabled' by having no detector",
  names = {
    ids = "accountIds", unprocessed = "unprocessedAccounts", un_account = "accountId", un_result = "result",
    max = "maxResults", token = "nextToken", invitations = "invitations", count = "invitationsCount",
    inv_account = "accountId", inv_id = "invitationId", inv_at = "invitedAt", inv_status = "relationshipStatus",
  },
  words = {
    ids_required = BAD_INPUT,
    ids_type = BAD_INPUT,
    bad_json = "The request is rejected because the JSON could not be processed.",
    not_found = "The request is rejected because the current account has no invitation from the given account ID.",
    associated = "The request is rejected because the given account ID is the administrator of the current "
      .. "account. Disassociate from the administrator account first.",
  },
}

function svc.error_style(code, message)
  local t = code
  if code == "BadRequestException" then t = "InvalidInputException" end
  return code, { message = message, __type = t }
end

-- accountIds: 1 to 50 members, each exactly 12 characters.
function svc.check_ids(ids, ctx)
  if #ids < 1 or #ids > 50 then return nil, ctx.validation(BAD_INPUT) end
  for _, id in ipairs(ids) do
    if #id ~= 12 then return nil, ctx.validation(BAD_INPUT) end
  end
  return true
end

function svc.accept_error(why, ctx)
  if why == "already_associated" then
    return ctx.validation("The request is rejected because the current account already has an administrator "
      .. "account.")
  end
  return ctx.validation("The request is rejected because the input invitationId is not valid.")
end

svc.routes = {
  { "POST", "^/invitation/decline/?$", "DeclineInvitations" },
  { "POST", "^/invitation/delete/?$", "DeleteInvitations" },
  { "GET", "^/invitation/count/?$", "GetInvitationsCount" },
  { "GET", "^/invitation/?$", "ListInvitations" },
  { "GET", "^/detector/?$", "ListDetectors" },
  { "POST", "^/detector/([^/]+)/administrator/disassociate/?$", "DisassociateFromAdministratorAccount",
    { "detectorId" } },
  { "POST", "^/detector/([^/]+)/administrator/?$", "AcceptAdministratorInvitation", { "detectorId" } },
  { "GET", "^/detector/([^/]+)/administrator/?$", "GetAdministratorAccount", { "detectorId" } },
  { "POST", "^/detector/([^/]+)/master/disassociate/?$", "DisassociateFromMasterAccount", { "detectorId" } },
  { "POST", "^/detector/([^/]+)/master/?$", "AcceptInvitation", { "detectorId" } },
  { "GET", "^/detector/([^/]+)/master/?$", "GetMasterAccount", { "detectorId" } },
}

-- Operations under /detector/{detectorId} need a detector the caller owns in that region.
local function with_detector(fn)
  return function(ctx)
    local id = ctx.params.detectorId
    if not id or #id < 1 or #id > 300 then return ctx.validation(BAD_INPUT) end
    if not ctx.state:owns_detector(ctx.account, ctx.region, id) then
      return ctx.validation("The request is rejected because the input detectorId is not owned by the current "
        .. "account.")
    end
    return fn(ctx)
  end
end

local function accept(admin_member)
  return with_detector(function(ctx)
    local b = ctx.body
    local admin, id = b[admin_member], b.invitationId
    if type(admin) ~= "string" or admin == "" or type(id) ~= "string" or id == "" then
      return ctx.validation(BAD_INPUT)
    end
    return rest.accept(svc, ctx, admin, id)
  end)
end

svc.ops = {
  DeclineInvitations = function(ctx) return rest.decline_or_delete(svc, ctx, "decline") end,
  DeleteInvitations = function(ctx) return rest.decline_or_delete(svc, ctx, "delete") end,
  ListInvitations = function(ctx) return rest.list_invitations(svc, ctx) end,
  GetInvitationsCount = function(ctx) return rest.count(svc, ctx) end,
  ListDetectors = function(ctx)
    local limit, after = rest.page_params(ctx, "detectors", "maxResults", "nextToken", 50)
    if not limit then return after end
    local ids = ctx.state:detectors(ctx.account, ctx.region)
    local page, last = rest.page(ids, function(x) return x end, limit, after)
    local res = { detectorIds = util.array(page) }
    if last then res.nextToken = rest.encode_token("detectors", ctx.service, ctx.region, ctx.account, last) end
    return ctx.ok(res)
  end,
  AcceptAdministratorInvitation = accept("administratorId"),
  AcceptInvitation = accept("masterId"),
  GetAdministratorAccount = with_detector(function(ctx) return rest.get_administrator(svc, ctx, "administrator") end),
  GetMasterAccount = with_detector(function(ctx) return rest.get_administrator(svc, ctx, "master") end),
  DisassociateFromAdministratorAccount = with_detector(function(ctx) return rest.disassociate(svc, ctx) end),
  DisassociateFromMasterAccount = with_detector(function(ctx) return rest.disassociate(svc, ctx) end),
}

return svc
