-- invite.sim.securityhub: AWS Security Hub (2018-10-26) invitation operations as the simulator
-- serves them. Wire facts from botocore's model: PascalCase members, ListInvitations MaxResults
-- 1-50, unprocessed entries {AccountId, ProcessingResult}, invitations {AccountId, InvitationId,
-- InvitedAt, MemberStatus}, errors {"Code": ..., "Message": ...} (InvalidInputException 400,
-- InvalidAccessException 401, ResourceNotFoundException 404, LimitExceededException 429 - the
-- service's throttling answer, InternalException 500).
local rest = require "invite.sim.rest"
local util = require "invite.sim.util"

local svc = {
  name = "securityhub",
  max_results = 50,
  validation_code = "InvalidInputException",
  throttle_code = "LimitExceededException",
  throttle_message = "Rate exceeded",
  internal_code = "InternalException",
  internal_message = "Internal service failure",
  auth_error_suffix = "",
  names = {
    ids = "AccountIds", unprocessed = "UnprocessedAccounts", un_account = "AccountId",
    un_result = "ProcessingResult", max = "MaxResults", token = "NextToken", invitations = "Invitations",
    count = "InvitationsCount", inv_account = "AccountId", inv_id = "InvitationId", inv_at = "InvitedAt",
    inv_status = "MemberStatus",
  },
  words = {
    ids_required = "Invalid parameter 'AccountIds': the list of account IDs is required.",
    ids_type = "Invalid parameter 'AccountIds': must be a list of account ID strings.",
    bad_json = "The request body could not be parsed as JSON.",
    not_found = "Invitation not found: there is no invitation from this account.",
    associated = "The invitation was accepted and this account is a member of the administrator account. "
      .. "Disassociate from the administrator account first.",
    invalid_id = "Invalid account ID.",
  },
}

function svc.error_style(code, message)
  return code, { Code = code, Message = message }
end

function svc.valid_id(id)
  return util.is_account_id(id)
end

-- AccountIds members are NonEmptyString (pattern .*\S.*): a blank one is invalid input.
function svc.check_ids(ids, ctx)
  for _, id in ipairs(ids) do
    if not id:find("%S") then
      return nil, ctx.validation("Invalid parameter 'AccountIds': account IDs must not be empty.")
    end
  end
  return true
end

function svc.disabled_error(ctx)
  return ctx.fail(401, "InvalidAccessException", "Account " .. ctx.account .. " is not subscribed to AWS Security Hub")
end

function svc.accept_error(why, ctx)
  if why == "already_associated" then
    return ctx.fail(400, "InvalidInputException", "Account " .. ctx.account
      .. " is already associated with an administrator account. Disassociate first.")
  end
  return ctx.fail(404, "ResourceNotFoundException", "The invitation was not found.")
end

svc.routes = {
  { "POST", "^/invitations/decline/?$", "DeclineInvitations" },
  { "POST", "^/invitations/delete/?$", "DeleteInvitations" },
  { "GET", "^/invitations/count/?$", "GetInvitationsCount" },
  { "GET", "^/invitations/?$", "ListInvitations" },
  { "POST", "^/administrator/disassociate/?$", "DisassociateFromAdministratorAccount" },
  { "POST", "^/administrator/?$", "AcceptAdministratorInvitation" },
  { "GET", "^/administrator/?$", "GetAdministratorAccount" },
  { "POST", "^/master/disassociate/?$", "DisassociateFromMasterAccount" },
  { "POST", "^/master/?$", "AcceptInvitation" },
  { "GET", "^/master/?$", "GetMasterAccount" },
}

local function accept(ctx, admin_member)
  local b = ctx.body
  local admin, id = b[admin_member], b.InvitationId
  if type(admin) ~= "string" or not admin:find("%S") then
    return ctx.validation("Invalid parameter '" .. admin_member .. "': a value is required.")
  end
  if type(id) ~= "string" or not id:find("%S") then
    return ctx.validation("Invalid parameter 'InvitationId': a value is required.")
  end
  return rest.accept(svc, ctx, admin, id)
end

svc.ops = {
  DeclineInvitations = function(ctx) return rest.decline_or_delete(svc, ctx, "decline") end,
  DeleteInvitations = function(ctx) return rest.decline_or_delete(svc, ctx, "delete") end,
  ListInvitations = function(ctx) return rest.list_invitations(svc, ctx) end,
  GetInvitationsCount = function(ctx) return rest.count(svc, ctx) end,
  GetAdministratorAccount = function(ctx) return rest.get_administrator(svc, ctx, "Administrator") end,
  GetMasterAccount = function(ctx) return rest.get_administrator(svc, ctx, "Master") end,
  DisassociateFromAdministratorAccount = function(ctx) return rest.disassociate(svc, ctx) end,
  DisassociateFromMasterAccount = function(ctx) return rest.disassociate(svc, ctx) end,
  AcceptAdministratorInvitation = function(ctx) return accept(ctx, "AdministratorId") end,
  AcceptInvitation = function(ctx) return accept(ctx, "MasterId") end,
}

return svc
