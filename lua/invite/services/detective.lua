-- invite.services.detective - Amazon Detective's behavior-graph invitations, declared as data:
-- ListInvitations (the graphs this account is invited to or a member of), AcceptInvitation,
-- RejectInvitation and DisassociateMembership, each naming the graph by its ARN. A client only for
-- now (no `invitations` table yet). Facts from botocore 1.43's model detective/2018-10-26/service-2.json
-- (checked by spec/pipeline/botocore_models_spec.lua): rest-json, signing name `detective`, endpoint
-- prefix `api.detective` (https://api.detective.<region>.amazonaws.com); the JSON members on the
-- wire are the boto3 names (PascalCase). A rejected invitation is not listed any more. The format
-- of this file is described in docs/clients.md ("How a service is declared").

-- The model's GraphArn pattern, ^arn:aws[-\w]{0,10}?:detective:[-\w]{2,20}?:\d{12}?:graph:[abcdef\d]{32}?$
local GRAPH_ARN_PATTERN = "^arn:aws[-\\w]{0,10}?:detective:[-\\w]{2,20}?:\\d{12}?:graph:[abcdef\\d]{32}?$"

-- The same rule in Lua ([-\w] is a letter, digit, '_' or '-'; the lazy counts change nothing with
-- both anchors): a partition suffix of 0-10, a region of 2-20, 12 digits, 32 of 0-9a-f.
local function is_graph_arn(v)
  local part, region, account, id = v:match("^arn:aws([%w_%-]*):detective:([%w_%-]*):(%d*):graph:([%da-f]*)$")
  return part ~= nil and #part <= 10 and #region >= 2 and #region <= 20 and #account == 12 and #id == 32
end

local function graph_arn_in()
  return { name = "GraphArn", wire = "GraphArn", location = "body", required = true, type = "string",
           pattern = GRAPH_ARN_PATTERN, matches = is_graph_arn,
           rule = "a behavior graph ARN, arn:aws:detective:<region>:<12-digit account>:graph:<32 of 0-9a-f>" }
end

local DATASOURCE_PACKAGES = { "DETECTIVE_CORE", "EKS_AUDIT", "ASFF_SECURITYHUB_FINDING" }

-- MemberDetail, every member botocore 1.43 has (the deprecated ones too: the service still sends
-- MasterId beside AdministratorId). Timestamps are ISO-8601 strings on the wire (timestampFormat
-- iso8601, e.g. 2021-08-18T16:35:56.284Z).
local function member_detail()
  return {
    { name = "AccountId", wire = "AccountId", type = "string" },
    { name = "EmailAddress", wire = "EmailAddress", type = "string", sensitive = true },
    { name = "GraphArn", wire = "GraphArn", type = "string" },
    { name = "MasterId", wire = "MasterId", type = "string" }, -- deprecated member: AdministratorId
    { name = "AdministratorId", wire = "AdministratorId", type = "string" },
    { name = "Status", wire = "Status", type = "string",
      enum = { "INVITED", "VERIFICATION_IN_PROGRESS", "VERIFICATION_FAILED", "ENABLED", "ACCEPTED_BUT_DISABLED" } },
    { name = "DisabledReason", wire = "DisabledReason", type = "string",
      enum = { "VOLUME_TOO_HIGH", "VOLUME_UNKNOWN" } },
    { name = "InvitedTime", wire = "InvitedTime", type = "timestamp" },
    { name = "UpdatedTime", wire = "UpdatedTime", type = "timestamp" },
    { name = "VolumeUsageInBytes", wire = "VolumeUsageInBytes", type = "long" }, -- deprecated member
    { name = "VolumeUsageUpdatedTime", wire = "VolumeUsageUpdatedTime", type = "timestamp" }, -- deprecated member
    { name = "PercentOfGraphUtilization", wire = "PercentOfGraphUtilization", type = "double" }, -- deprecated
    { name = "PercentOfGraphUtilizationUpdatedTime", wire = "PercentOfGraphUtilizationUpdatedTime",
      type = "timestamp" }, -- deprecated member
    { name = "InvitationType", wire = "InvitationType", type = "string", enum = { "INVITATION", "ORGANIZATION" } },
    { name = "VolumeUsageByDatasourcePackage", wire = "VolumeUsageByDatasourcePackage", type = "map",
      key = { type = "string", enum = DATASOURCE_PACKAGES },
      value = { type = "structure", members = {
        { name = "VolumeUsageInBytes", wire = "VolumeUsageInBytes", type = "long" },
        { name = "VolumeUsageUpdateTime", wire = "VolumeUsageUpdateTime", type = "timestamp" },
      } } },
    { name = "DatasourcePackageIngestStates", wire = "DatasourcePackageIngestStates", type = "map",
      key = { type = "string", enum = DATASOURCE_PACKAGES },
      value = { type = "string", enum = { "STARTED", "STOPPED", "DISABLED" } } },
  }
end

return {
  name = "detective",
  service_id = "Detective",
  api_version = "2018-10-26",
  signing_name = "detective",
  endpoint_prefix = "api.detective",
  protocol = "rest-json",
  title = "Amazon Detective",

  -- What the policy runner, the CLI and the simulator need of this service's invitations (format in
  -- docs/clients.md, "Invitation services"): one call per invitation, by its graph ARN.
  invitations = {
    order = 4,
    list = "Invitations", account = "AdministratorId", id = "GraphArn", at = "InvitedTime", status = "Status",
    open = { "INVITED" }, -- ENABLED, ACCEPTED_BUT_DISABLED and the verifying ones are memberships, kept
    statuses = { INVITED = "pending", VERIFICATION_IN_PROGRESS = "pending", VERIFICATION_FAILED = "other",
                 ENABLED = "accepted", ACCEPTED_BUT_DISABLED = "accepted" },
    fields = { graph_arn = "GraphArn", invitation_type = "InvitationType" }, label = "invitation_type",
    -- an answer without AdministratorId (older members): the deprecated MasterId names the same account
    -- an ORGANIZATION membership was not accepted: the organisation's administrator made it
    derive = function(raw, rec)
      rec.account_id = rec.account_id or raw.MasterId
      if raw.InvitationType == "ORGANIZATION" and rec.status == "accepted" then rec.status = "member" end
    end,
    -- a retried reject whose first answer was lost finds the invitation gone: listed again to tell
    decline = { operation = "reject_invitation", params = { GraphArn = "invitation_id" },
                gone_codes = { "ResourceNotFoundException" } },
    accept = { operation = "accept_invitation", params = { GraphArn = "invitation_id" } },
    no_delete = "Detective has no delete: a rejected invitation is no longer listed",
  },

  operations = {
    --- Lists the behavior graphs this account has an open (INVITED) or accepted invitation to, one
    -- page of at most `MaxResults` (1-200) at a time; rejected ones, and graphs it resigned from or
    -- was removed from, are not listed.
    list_invitations = {
      name = "ListInvitations", method = "POST", uri = "/invitations/list",
      input = {
        { name = "NextToken", wire = "NextToken", location = "body", type = "string", min = 1, max = 1024 },
        { name = "MaxResults", wire = "MaxResults", location = "body", type = "integer", min = 1, max = 200 },
      },
      output = {
        { name = "Invitations", wire = "Invitations", type = "list",
          member = { type = "structure", members = member_detail() } },
        { name = "NextToken", wire = "NextToken", type = "string" },
      },
    },
    --- Accepts the invitation to the behavior graph `GraphArn` (this account's status in it must be
    -- INVITED): the account becomes a member (ENABLED) and contributes data to the graph.
    accept_invitation = {
      name = "AcceptInvitation", method = "PUT", uri = "/invitation",
      input = { graph_arn_in() },
      output = {},
    },
    --- Rejects the invitation to the behavior graph `GraphArn` (status INVITED): it is no longer
    -- listed. Not for an organization account in the organization behavior graph.
    reject_invitation = {
      name = "RejectInvitation", method = "POST", uri = "/invitation/removal",
      input = { graph_arn_in() },
      output = {},
    },
    --- Removes this account from the behavior graph `GraphArn` it is a member of (status ENABLED).
    -- Not for an organization account in the organization behavior graph.
    disassociate_membership = {
      name = "DisassociateMembership", method = "POST", uri = "/membership/removal",
      input = { graph_arn_in() },
      output = {},
    },
  },

  paginators = {
    -- invite's own: botocore 1.43 has no paginator for ListInvitations (its paginators-1.json is
    -- empty), but the operation pages with NextToken/MaxResults like any other.
    list_invitations = {
      input_token = "NextToken", output_token = "NextToken", limit_key = "MaxResults",
      result_key = "Invitations", all = "list_all_invitations", each = "each_invitation", invite_only = true,
    },
  },
}
