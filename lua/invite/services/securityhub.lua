-- invite.services.securityhub - AWS Security Hub's invitation API, declared as data.
-- Facts from botocore's model securityhub/2018-10-26/service-2.json (checked by
-- spec/pipeline/botocore_models_spec.lua). Security Hub's boto3 names and wire names are
-- the same PascalCase. The format is described in docs/clients.md ("How a service is declared").

local account_ids = {
  name = "AccountIds", wire = "AccountIds", location = "body", required = true,
  type = "list", min = 1, member = { type = "string", nonblank = true, account_id = true },
}

local unprocessed = {
  name = "UnprocessedAccounts", wire = "UnprocessedAccounts", type = "list",
  member = { type = "structure", members = {
    { name = "AccountId", wire = "AccountId", type = "string" },
    { name = "ProcessingResult", wire = "ProcessingResult", type = "string" },
  } },
}

local function invitation_members()
  return {
    { name = "AccountId", wire = "AccountId", type = "string" },
    { name = "InvitationId", wire = "InvitationId", type = "string" },
    { name = "InvitedAt", wire = "InvitedAt", type = "timestamp" },
    { name = "MemberStatus", wire = "MemberStatus", type = "string" },
  }
end

local invitation_id = {
  name = "InvitationId", wire = "InvitationId", location = "body", required = true,
  type = "string", nonblank = true,
}

local batch = { member = "AccountIds", size = 50, merge = "UnprocessedAccounts" }

return {
  name = "securityhub",
  service_id = "SecurityHub",
  api_version = "2018-10-26",
  signing_name = "securityhub",
  endpoint_prefix = "securityhub",
  protocol = "rest-json",
  title = "AWS Security Hub",

  -- What the policy runner, the CLI and the simulator need of this service's invitations: boto3
  -- names from the operations below (format in docs/clients.md, "Invitation services").
  invitations = {
    order = 2,
    list = "Invitations", account = "AccountId", id = "InvitationId", at = "InvitedAt", status = "MemberStatus",
    ids = "AccountIds", unprocessed = "UnprocessedAccounts", unprocessed_account = "AccountId",
    reason = { "ProcessingResult" },
    count = "InvitationsCount",
    -- MemberStatus (a plain string in the model: the values Security Hub documents, any case)
    statuses = { Invited = "pending", Created = "pending", Enabled = "accepted", Resigned = "declined",
                 Removed = "other", Deleted = "other", Account_Suspended = "other" },
    accept = { operation = "accept_administrator_invitation", administrator = "AdministratorId",
               invitation = "InvitationId" },
  },

  operations = {
    --- Declines the Security Hub membership invitations received from the given accounts.
    decline_invitations = {
      name = "DeclineInvitations", method = "POST", uri = "/invitations/decline",
      input = { account_ids },
      output = { unprocessed },
      batch = batch,
    },
    --- Deletes the Security Hub membership invitations received from the given accounts.
    delete_invitations = {
      name = "DeleteInvitations", method = "POST", uri = "/invitations/delete",
      input = { account_ids },
      output = { unprocessed },
      batch = batch,
    },
    --- Lists the Security Hub membership invitations this account received, one page at a time.
    list_invitations = {
      name = "ListInvitations", method = "GET", uri = "/invitations",
      input = {
        { name = "MaxResults", wire = "MaxResults", location = "querystring", type = "integer", min = 1, max = 50 },
        { name = "NextToken", wire = "NextToken", location = "querystring", type = "string" },
      },
      output = {
        { name = "Invitations", wire = "Invitations", type = "list",
          member = { type = "structure", members = invitation_members() } },
        { name = "NextToken", wire = "NextToken", type = "string" },
      },
    },
    --- Counts the Security Hub membership invitations this account received, not counting the one already
    -- accepted.
    get_invitations_count = {
      name = "GetInvitationsCount", method = "GET", uri = "/invitations/count",
      input = {},
      output = { { name = "InvitationsCount", wire = "InvitationsCount", type = "integer" } },
    },
    --- Accepts a Security Hub membership invitation, making the inviting account this account's
    -- administrator.
    accept_administrator_invitation = {
      name = "AcceptAdministratorInvitation", method = "POST", uri = "/administrator",
      input = {
        { name = "AdministratorId", wire = "AdministratorId", location = "body", required = true,
          type = "string", nonblank = true, account_id = true },
        invitation_id,
      },
      output = {},
    },
    --- Deprecated older name of `accept_administrator_invitation` (takes `MasterId` instead of
    -- `AdministratorId`).
    accept_invitation = {
      name = "AcceptInvitation", method = "POST", uri = "/master",
      deprecated = true, twin_of = "accept_administrator_invitation",
      input = {
        { name = "MasterId", wire = "MasterId", location = "body", required = true,
          type = "string", nonblank = true, account_id = true },
        invitation_id,
      },
      output = {},
    },
    --- Shows the Security Hub administrator account this account is a member of, if any.
    get_administrator_account = {
      name = "GetAdministratorAccount", method = "GET", uri = "/administrator",
      input = {},
      output = { { name = "Administrator", wire = "Administrator", type = "structure",
                   members = invitation_members() } },
    },
    --- Older name of `get_administrator_account`, kept by the service (deprecated in the service model).
    get_master_account = {
      name = "GetMasterAccount", method = "GET", uri = "/master",
      deprecated = true, twin_of = "get_administrator_account",
      input = {},
      output = { { name = "Master", wire = "Master", type = "structure", members = invitation_members() } },
    },
    --- Ends this account's Security Hub membership with its administrator account.
    disassociate_from_administrator_account = {
      name = "DisassociateFromAdministratorAccount", method = "POST", uri = "/administrator/disassociate",
      input = {},
      output = {},
    },
    --- Older name of `disassociate_from_administrator_account`, kept by the service (deprecated in the
    -- service model).
    disassociate_from_master_account = {
      name = "DisassociateFromMasterAccount", method = "POST", uri = "/master/disassociate",
      deprecated = true, twin_of = "disassociate_from_administrator_account",
      input = {},
      output = {},
    },
  },

  paginators = {
    list_invitations = {
      input_token = "NextToken", output_token = "NextToken", limit_key = "MaxResults",
      result_key = "Invitations", all = "list_all_invitations", each = "each_invitation",
    },
  },
}
