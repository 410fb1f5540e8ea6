-- invite.services.macie2 - Amazon Macie's invitation API, declared as data.
-- Facts from botocore's model macie2/2020-01-01/service-2.json (checked by
-- spec/pipeline/botocore_models_spec.lua). Macie's boto3 names and wire names are the
-- same camelCase. The format is described in docs/clients.md ("How a service is declared").

local account_ids = {
  name = "accountIds", wire = "accountIds", location = "body", required = true,
  type = "list", min = 1, member = { type = "string", account_id = true },
}

local unprocessed = {
  name = "unprocessedAccounts", wire = "unprocessedAccounts", type = "list",
  member = { type = "structure", members = {
    { name = "accountId", wire = "accountId", type = "string" },
    { name = "errorCode", wire = "errorCode", type = "string", enum = { "ClientError", "InternalError" } },
    { name = "errorMessage", wire = "errorMessage", type = "string" },
  } },
}

local function invitation_members()
  return {
    { name = "accountId", wire = "accountId", type = "string" },
    { name = "invitationId", wire = "invitationId", type = "string" },
    { name = "invitedAt", wire = "invitedAt", type = "timestamp" },
    { name = "relationshipStatus", wire = "relationshipStatus", type = "string" },
  }
end

local batch = { member = "accountIds", size = 50, merge = "unprocessedAccounts" }

return {
  name = "macie2",
  service_id = "Macie2",
  api_version = "2020-01-01",
  signing_name = "macie2",
  endpoint_prefix = "macie2",
  protocol = "rest-json",
  title = "Amazon Macie",

  -- What the policy runner, the CLI and the simulator need of this service's invitations: boto3
  -- names from the operations below (format in docs/clients.md, "Invitation services").
  invitations = {
    order = 1, -- place in the lists of services (CLI help, the default of invite.run)
    list = "invitations", account = "accountId", id = "invitationId", at = "invitedAt",
    status = "relationshipStatus",
    ids = "accountIds", unprocessed = "unprocessedAccounts", unprocessed_account = "accountId",
    reason = { "errorCode", "errorMessage" }, -- "ClientError: The request failed because ..."
    count = "invitationsCount",
    -- relationshipStatus (the model's enum) as invite's statuses
    statuses = { Invited = "pending", Created = "pending", EmailVerificationInProgress = "pending",
                 Enabled = "accepted", Paused = "accepted", Resigned = "declined", Removed = "other",
                 EmailVerificationFailed = "other", RegionDisabled = "other", AccountSuspended = "other" },
    accept = { operation = "accept_invitation", administrator = "administratorAccountId",
               invitation = "invitationId" },
  },

  operations = {
    --- Declines the Amazon Macie membership invitations received from the given accounts.
    decline_invitations = {
      name = "DeclineInvitations", method = "POST", uri = "/invitations/decline",
      input = { account_ids },
      output = { unprocessed },
      batch = batch,
    },
    --- Deletes the Amazon Macie membership invitations received from the given accounts.
    delete_invitations = {
      name = "DeleteInvitations", method = "POST", uri = "/invitations/delete",
      input = { account_ids },
      output = { unprocessed },
      batch = batch,
    },
    --- Lists the Amazon Macie membership invitations this account received, one page at a time.
    list_invitations = {
      name = "ListInvitations", method = "GET", uri = "/invitations",
      input = {
        { name = "maxResults", wire = "maxResults", location = "querystring", type = "integer", min = 1, max = 25 },
        { name = "nextToken", wire = "nextToken", location = "querystring", type = "string" },
      },
      output = {
        { name = "invitations", wire = "invitations", type = "list",
          member = { type = "structure", members = invitation_members() } },
        { name = "nextToken", wire = "nextToken", type = "string" },
      },
    },
    --- Counts the Amazon Macie membership invitations this account received.
    get_invitations_count = {
      name = "GetInvitationsCount", method = "GET", uri = "/invitations/count",
      input = {},
      output = { { name = "invitationsCount", wire = "invitationsCount", type = "long" } },
    },
    --- Accepts an Amazon Macie membership invitation, making the inviting account this account's
    -- administrator.
    accept_invitation = {
      name = "AcceptInvitation", method = "POST", uri = "/invitations/accept",
      input = {
        { name = "administratorAccountId", wire = "administratorAccountId", location = "body",
          type = "string", account_id = true },
        { name = "invitationId", wire = "invitationId", location = "body", required = true, type = "string" },
        -- the administrator account's ID under its pre-2021 name (still in the model)
        { name = "masterAccount", wire = "masterAccount", location = "body", type = "string",
          account_id = true },
      },
      output = {},
    },
    --- Shows the Amazon Macie administrator account this account is a member of, if any.
    get_administrator_account = {
      name = "GetAdministratorAccount", method = "GET", uri = "/administrator",
      input = {},
      output = { { name = "administrator", wire = "administrator", type = "structure",
                   members = invitation_members() } },
    },
    --- Older name of `get_administrator_account`, kept by the service.
    get_master_account = {
      name = "GetMasterAccount", method = "GET", uri = "/master",
      twin_of = "get_administrator_account", -- older name; Macie's model does not flag it deprecated
      input = {},
      output = { { name = "master", wire = "master", type = "structure", members = invitation_members() } },
    },
    --- Ends this account's Amazon Macie membership with its administrator account.
    disassociate_from_administrator_account = {
      name = "DisassociateFromAdministratorAccount", method = "POST", uri = "/administrator/disassociate",
      input = {},
      output = {},
    },
    --- Older name of `disassociate_from_administrator_account`, kept by the service.
    disassociate_from_master_account = {
      name = "DisassociateFromMasterAccount", method = "POST", uri = "/master/disassociate",
      twin_of = "disassociate_from_administrator_account", -- older name, not flagged deprecated
      input = {},
      output = {},
    },
  },

  paginators = {
    list_invitations = {
      input_token = "nextToken", output_token = "nextToken", limit_key = "maxResults",
      result_key = "invitations", all = "list_all_invitations", each = "each_invitation",
    },
  },
}
