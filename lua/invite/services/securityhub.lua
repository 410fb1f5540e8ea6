-- invite.services.securityhub - AWS Security Hub's invitation API, declared as data.
-- Facts from botocore's model securityhub/2018-10-26/service-2.json (checked by
-- spec/botocore_models_spec.lua). Security Hub's boto3 names and wire names are
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

  operations = {
    decline_invitations = {
      name = "DeclineInvitations", method = "POST", uri = "/invitations/decline",
      input = { account_ids },
      output = { unprocessed },
      batch = batch,
    },
    delete_invitations = {
      name = "DeleteInvitations", method = "POST", uri = "/invitations/delete",
      input = { account_ids },
      output = { unprocessed },
      batch = batch,
    },
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
    get_invitations_count = {
      name = "GetInvitationsCount", method = "GET", uri = "/invitations/count",
      input = {},
      output = { { name = "InvitationsCount", wire = "InvitationsCount", type = "integer" } },
    },
    accept_administrator_invitation = {
      name = "AcceptAdministratorInvitation", method = "POST", uri = "/administrator",
      input = {
        { name = "AdministratorId", wire = "AdministratorId", location = "body", required = true,
          type = "string", nonblank = true, account_id = true },
        invitation_id,
      },
      output = {},
    },
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
    get_administrator_account = {
      name = "GetAdministratorAccount", method = "GET", uri = "/administrator",
      input = {},
      output = { { name = "Administrator", wire = "Administrator", type = "structure",
                   members = invitation_members() } },
    },
    get_master_account = {
      name = "GetMasterAccount", method = "GET", uri = "/master",
      deprecated = true, twin_of = "get_administrator_account",
      input = {},
      output = { { name = "Master", wire = "Master", type = "structure", members = invitation_members() } },
    },
    disassociate_from_administrator_account = {
      name = "DisassociateFromAdministratorAccount", method = "POST", uri = "/administrator/disassociate",
      input = {},
      output = {},
    },
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
