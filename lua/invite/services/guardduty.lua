-- invite.services.guardduty - Amazon GuardDuty's invitation API, declared as data.
-- Facts from botocore's model guardduty/2017-11-28/service-2.json (checked by
-- spec/pipeline/botocore_models_spec.lua). GuardDuty's boto3 names are PascalCase while
-- its wire JSON is camelCase: `name` is boto3's, `wire` is the JSON / query /
-- URI label name. The format of this file is described in docs/clients.md ("How a service is declared").

local account_id = { type = "string", account_id = true, min = 12, max = 12 }

local account_ids = {
  name = "AccountIds", wire = "accountIds", location = "body", required = true,
  type = "list", min = 1, max = 50, member = account_id,
}

local detector_id = {
  name = "DetectorId", wire = "detectorId", location = "uri", required = true,
  type = "string", min = 1, max = 300,
}

local unprocessed = {
  name = "UnprocessedAccounts", wire = "unprocessedAccounts", type = "list", min = 0, max = 50,
  member = { type = "structure", members = {
    { name = "AccountId", wire = "accountId", type = "string" },
    { name = "Result", wire = "result", type = "string" },
  } },
}

-- GuardDuty's Invitation, Administrator and Master shapes are the same four members
-- (InvitedAt is a plain string in this model).
local function invitation_members()
  return {
    { name = "AccountId", wire = "accountId", type = "string" },
    { name = "InvitationId", wire = "invitationId", type = "string" },
    { name = "RelationshipStatus", wire = "relationshipStatus", type = "string" },
    { name = "InvitedAt", wire = "invitedAt", type = "string" },
  }
end

local function page_params()
  return {
    { name = "MaxResults", wire = "maxResults", location = "querystring", type = "integer", min = 1, max = 50 },
    { name = "NextToken", wire = "nextToken", location = "querystring", type = "string" },
  }
end

local batch = { member = "AccountIds", size = 50, merge = "UnprocessedAccounts" }

return {
  name = "guardduty",
  service_id = "GuardDuty",
  api_version = "2017-11-28",
  signing_name = "guardduty",
  endpoint_prefix = "guardduty",
  protocol = "rest-json",
  title = "Amazon GuardDuty",

  -- What the policy runner, the CLI and the simulator need of this service's invitations: boto3
  -- names from the operations below (format in docs/clients.md, "Invitation services").
  invitations = {
    order = 3,
    list = "Invitations", account = "AccountId", id = "InvitationId", at = "InvitedAt",
    status = "RelationshipStatus",
    ids = "AccountIds", unprocessed = "UnprocessedAccounts", unprocessed_account = "AccountId",
    reason = { "Result" },
    count = "InvitationsCount",
    -- RelationshipStatus (a plain string in the model: the values GuardDuty documents)
    statuses = { Invited = "pending", Created = "pending", EmailVerificationInProgress = "pending",
                 Enabled = "accepted", Resigned = "declined", Removed = "other", Disabled = "other",
                 EmailVerificationFailed = "other", AccountSuspended = "other" },
    accept = {
      operation = "accept_administrator_invitation", administrator = "AdministratorId", invitation = "InvitationId",
      -- DetectorId: this account's detector in the region (there is at most one)
      lookup = { param = "DetectorId", operation = "list_detectors", first = "DetectorIds", code = "NoDetector",
                 missing = "no GuardDuty detector in %s: create one before accepting an invitation" },
    },
  },

  operations = {
    --- Declines the GuardDuty membership invitations received from the given accounts.
    decline_invitations = {
      name = "DeclineInvitations", method = "POST", uri = "/invitation/decline",
      input = { account_ids },
      output = { unprocessed },
      batch = batch,
    },
    --- Deletes the GuardDuty membership invitations received from the given accounts.
    delete_invitations = {
      name = "DeleteInvitations", method = "POST", uri = "/invitation/delete",
      input = { account_ids },
      output = { unprocessed },
      batch = batch,
    },
    --- Lists the GuardDuty membership invitations this account received, one page at a time.
    list_invitations = {
      name = "ListInvitations", method = "GET", uri = "/invitation",
      input = page_params(),
      output = {
        { name = "Invitations", wire = "invitations", type = "list", min = 0, max = 50,
          member = { type = "structure", members = invitation_members() } },
        { name = "NextToken", wire = "nextToken", type = "string" },
      },
    },
    --- Counts the GuardDuty membership invitations this account received, not counting the one already
    -- accepted.
    get_invitations_count = {
      name = "GetInvitationsCount", method = "GET", uri = "/invitation/count",
      input = {},
      output = { { name = "InvitationsCount", wire = "invitationsCount", type = "integer" } },
    },
    --- Accepts a GuardDuty membership invitation, making the inviting account this account's administrator
    -- (`DetectorId`: this account's detector in the region).
    accept_administrator_invitation = {
      name = "AcceptAdministratorInvitation", method = "POST", uri = "/detector/{detectorId}/administrator",
      input = {
        detector_id,
        { name = "AdministratorId", wire = "administratorId", location = "body", required = true,
          type = "string", account_id = true },
        { name = "InvitationId", wire = "invitationId", location = "body", required = true, type = "string" },
      },
      output = {},
    },
    --- Deprecated older name of `accept_administrator_invitation` (takes `MasterId` instead of
    -- `AdministratorId`) (`DetectorId`: this account's detector in the region).
    accept_invitation = {
      name = "AcceptInvitation", method = "POST", uri = "/detector/{detectorId}/master",
      deprecated = true, twin_of = "accept_administrator_invitation",
      input = {
        detector_id,
        { name = "MasterId", wire = "masterId", location = "body", required = true,
          type = "string", account_id = true },
        { name = "InvitationId", wire = "invitationId", location = "body", required = true, type = "string" },
      },
      output = {},
    },
    --- Shows the GuardDuty administrator account this account is a member of, if any (`DetectorId`: this
    -- account's detector in the region).
    get_administrator_account = {
      name = "GetAdministratorAccount", method = "GET", uri = "/detector/{detectorId}/administrator",
      input = { detector_id },
      output = { { name = "Administrator", wire = "administrator", type = "structure",
                   members = invitation_members() } },
    },
    --- Older name of `get_administrator_account`, kept by the service (deprecated in the service model).
    get_master_account = {
      name = "GetMasterAccount", method = "GET", uri = "/detector/{detectorId}/master",
      deprecated = true, twin_of = "get_administrator_account",
      input = { detector_id },
      output = { { name = "Master", wire = "master", type = "structure", members = invitation_members() } },
    },
    --- Ends this account's GuardDuty membership with its administrator account (`DetectorId`: this
    -- account's detector in the region).
    disassociate_from_administrator_account = {
      name = "DisassociateFromAdministratorAccount", method = "POST",
      uri = "/detector/{detectorId}/administrator/disassociate",
      input = { detector_id },
      output = {},
    },
    --- Older name of `disassociate_from_administrator_account`, kept by the service (deprecated in the
    -- service model).
    disassociate_from_master_account = {
      name = "DisassociateFromMasterAccount", method = "POST", uri = "/detector/{detectorId}/master/disassociate",
      deprecated = true, twin_of = "disassociate_from_administrator_account",
      input = { detector_id },
      output = {},
    },
    --- Lists the IDs of this account's GuardDuty detectors in the region (one per region), one page at a
    -- time.
    list_detectors = {
      name = "ListDetectors", method = "GET", uri = "/detector",
      input = page_params(),
      output = {
        { name = "DetectorIds", wire = "detectorIds", type = "list", min = 0, max = 50,
          member = { type = "string", min = 1, max = 300 } },
        { name = "NextToken", wire = "nextToken", type = "string" },
      },
    },
  },

  paginators = {
    list_invitations = {
      input_token = "NextToken", output_token = "NextToken", limit_key = "MaxResults",
      result_key = "Invitations", all = "list_all_invitations", each = "each_invitation",
    },
    list_detectors = {
      input_token = "NextToken", output_token = "NextToken", limit_key = "MaxResults",
      result_key = "DetectorIds", all = "list_all_detectors", each = "each_detector",
    },
  },
}
