-- invite.sim.macie2: Amazon Macie 2 (2020-01-01) invitation operations as the simulator serves
-- them. Wire facts from botocore's model: camelCase members, ListInvitations maxResults 1-25,
-- unprocessed entries {accountId, errorCode (ClientError | InternalError), errorMessage}, errors
-- {"message": ...} with the code in x-amzn-ErrorType (ValidationException 400,
-- AccessDeniedException 403, ResourceNotFoundException 404, ConflictException 409,
-- ThrottlingException 429, InternalServerException 500).
local rest = require "invite.sim.rest"
local util = require "invite.sim.util"

local svc = {
  name = "macie2",
  max_results = 25,
  validation_code = "ValidationException",
  throttle_code = "ThrottlingException",
  throttle_message = "The request was denied because you sent too many requests during a certain amount of time.",
  internal_code = "InternalServerException",
  internal_message = "The request failed due to an unknown internal server error, exception, or failure.",
  auth_error_suffix = ":http://internal.amazon.com/coral/com.amazon.coral.service/",
  names = {
    ids = "accountIds", unprocessed = "unprocessedAccounts", un_account = "accountId", un_code = "errorCode",
    un_message = "errorMessage", max = "maxResults", token = "nextToken", invitations = "invitations",
    count = "invitationsCount", inv_account = "accountId", inv_id = "invitationId", inv_at = "invitedAt",
    inv_status = "relationshipStatus",
  },
  words = {
    ids_required = "accountIds is required and must be an array of account ID strings.",
    ids_type = "accountIds must be an array of account ID strings.",
    bad_json = "The request body isn't valid JSON.",
    not_found = { "ClientError", "The request failed because no invitation from this account was found." },
    associated = { "ClientError", "The request failed because this account is associated with the account "
      .. "that sent the invitation. Disassociate from the administrator account first." },
    invalid_id = { "ClientError", "The request failed because the account ID isn't valid." },
  },
}

function svc.error_style(code, message)
  return code .. ":http://internal.amazon.com/coral/com.amazonaws.macie2/", { message = message, __type = code }
end

function svc.valid_id(id)
  return util.is_account_id(id)
end

function svc.disabled_error(ctx)
  return ctx.fail(403, "AccessDeniedException", "Macie is not enabled for this account in this Region.")
end

function svc.accept_error(why, ctx)
  if why == "already_associated" then
    return ctx.fail(409, "ConflictException", "The request failed because the account is already associated "
      .. "with an administrator account.")
  elseif why == "declined" then
    return ctx.fail(409, "ConflictException", "The request failed because the invitation was declined.")
  end
  return ctx.fail(404, "ResourceNotFoundException", "The request failed because the specified invitation "
    .. "wasn't found.")
end

svc.routes = {
  { "POST", "^/invitations/decline/?$", "DeclineInvitations" },
  { "POST", "^/invitations/delete/?$", "DeleteInvitations" },
  { "GET", "^/invitations/count/?$", "GetInvitationsCount" },
  { "GET", "^/invitations/?$", "ListInvitations" },
  { "POST", "^/invitations/accept/?$", "AcceptInvitation" },
  { "GET", "^/administrator/?$", "GetAdministratorAccount" },
  { "POST", "^/administrator/disassociate/?$", "DisassociateFromAdministratorAccount" },
  { "GET", "^/master/?$", "GetMasterAccount" },
  { "POST", "^/master/disassociate/?$", "DisassociateFromMasterAccount" },
}

svc.ops = {
  DeclineInvitations = function(ctx) return rest.decline_or_delete(svc, ctx, "decline") end,
  DeleteInvitations = function(ctx) return rest.decline_or_delete(svc, ctx, "delete") end,
  ListInvitations = function(ctx) return rest.list_invitations(svc, ctx) end,
  GetInvitationsCount = function(ctx) return rest.count(svc, ctx) end,
  GetAdministratorAccount = function(ctx) return rest.get_administrator(svc, ctx, "administrator") end,
  GetMasterAccount = function(ctx) return rest.get_administrator(svc, ctx, "master") end,
  DisassociateFromAdministratorAccount = function(ctx) return rest.disassociate(svc, ctx) end,
  DisassociateFromMasterAccount = function(ctx) return rest.disassociate(svc, ctx) end,
  AcceptInvitation = function(ctx)
    local b = ctx.body
    local id = b.invitationId
    if type(id) ~= "string" or id == "" then
      return ctx.validation("invitationId is required.")
    end
    local admin = b.administratorAccountId
    if admin == nil or admin == util.null then admin = b.masterAccount end
    if admin == util.null then admin = nil end
    if admin ~= nil and not util.is_account_id(admin) then
      return ctx.validation("administratorAccountId must be a 12-digit account ID.")
    end
    return rest.accept(svc, ctx, admin, id)
  end,
}

return svc
