-- invite.services.ram - AWS Resource Access Manager's resource-share invitation API, declared as
-- data. Facts from botocore's model ram/2018-01-04/service-2.json (checked by
-- spec/pipeline/botocore_models_spec.lua). RAM's boto3 names and wire names are the same camelCase;
-- every operation is a POST with a JSON body. The format is described in docs/clients.md ("How a
-- service is declared").
--
-- One deviation from botocore, on purpose: `clientToken` is declared `idempotency_token = true`, so
-- the client fills a random UUID v4 when the caller gives none, once per call (every retry attempt
-- sends the same token). RAM's model does not mark it (botocore sends none and RAM makes one up per
-- request), which makes a retried accept whose first answer was lost fail with
-- ResourceShareInvitationAlreadyAcceptedException; with one token per call RAM repeats the first
-- answer instead (docs/clients.md, "Idempotency tokens").

local STATUS = { "PENDING", "ACCEPTED", "REJECTED", "EXPIRED" }

local function invitation_arn(required)
  return { name = "resourceShareInvitationArn", wire = "resourceShareInvitationArn", location = "body",
           required = required, type = "string" }
end

local function client_token()
  return { name = "clientToken", wire = "clientToken", location = "body", type = "string",
           idempotency_token = true }
end

local function max_results()
  return { name = "maxResults", wire = "maxResults", location = "body", type = "integer", min = 1, max = 500 }
end

local function next_token()
  return { name = "nextToken", wire = "nextToken", location = "body", type = "string" }
end

-- ResourceShareAssociation (deprecated inside ResourceShareInvitation: ListPendingInvitationResources
-- replaces it; still in the model and still parsed)
local function association_members()
  return {
    { name = "resourceShareArn", wire = "resourceShareArn", type = "string" },
    { name = "resourceShareName", wire = "resourceShareName", type = "string" },
    { name = "associatedEntity", wire = "associatedEntity", type = "string" },
    { name = "associationType", wire = "associationType", type = "string",
      enum = { "PRINCIPAL", "RESOURCE", "SOURCE" } },
    { name = "status", wire = "status", type = "string",
      enum = { "ASSOCIATING", "ASSOCIATED", "FAILED", "DISASSOCIATING", "DISASSOCIATED", "SUSPENDED", "SUSPENDING",
               "RESTORING" } },
    { name = "statusMessage", wire = "statusMessage", type = "string" },
    { name = "creationTime", wire = "creationTime", type = "timestamp" },
    { name = "lastUpdatedTime", wire = "lastUpdatedTime", type = "timestamp" },
    { name = "external", wire = "external", type = "boolean" },
  }
end

-- ResourceShareInvitation
local function invitation_members()
  return {
    { name = "resourceShareInvitationArn", wire = "resourceShareInvitationArn", type = "string" },
    { name = "resourceShareName", wire = "resourceShareName", type = "string" },
    { name = "resourceShareArn", wire = "resourceShareArn", type = "string" },
    { name = "senderAccountId", wire = "senderAccountId", type = "string" },
    { name = "receiverAccountId", wire = "receiverAccountId", type = "string" },
    { name = "invitationTimestamp", wire = "invitationTimestamp", type = "timestamp" },
    { name = "status", wire = "status", type = "string", enum = STATUS },
    { name = "resourceShareAssociations", wire = "resourceShareAssociations", type = "list", deprecated = true,
      member = { type = "structure", members = association_members() } },
    { name = "receiverArn", wire = "receiverArn", type = "string" },
  }
end

-- Accept/RejectResourceShareInvitation answer the invitation (its new status) and the token used.
local function answer()
  return {
    { name = "resourceShareInvitation", wire = "resourceShareInvitation", type = "structure",
      members = invitation_members() },
    { name = "clientToken", wire = "clientToken", type = "string" },
  }
end

return {
  name = "ram",
  service_id = "RAM",
  api_version = "2018-01-04",
  signing_name = "ram",
  endpoint_prefix = "ram",
  protocol = "rest-json",
  title = "AWS RAM",

  -- What the policy runner, the CLI and the simulator need of this service's invitations (format in
  -- docs/clients.md, "Invitation services"): one call per invitation, by its ARN; before the policy
  -- decides, the resource types a pending invitation would share (ListPendingInvitationResources)
  -- and whether its sender is an account of the caller's organisation.
  invitations = {
    order = 6,
    list_operation = "get_resource_share_invitations", list = "resourceShareInvitations",
    account = "senderAccountId", id = "resourceShareInvitationArn", at = "invitationTimestamp", status = "status",
    open = { "PENDING" },
    statuses = { PENDING = "pending", ACCEPTED = "accepted", REJECTED = "declined", EXPIRED = "other" },
    fields = { share_name = "resourceShareName", share_arn = "resourceShareArn", sharing_account = "senderAccountId" },
    label = "share_name",
    organization = "from_organization",
    details = { operation = "list_pending_invitation_resources",
                params = { resourceShareInvitationArn = "invitation_id" },
                list = "resources", member = "type", field = "resource_types" },
    decline = { operation = "reject_resource_share_invitation",
                params = { resourceShareInvitationArn = "invitation_id" },
                done_codes = { "ResourceShareInvitationAlreadyRejectedException" } },
    accept = { operation = "accept_resource_share_invitation",
               params = { resourceShareInvitationArn = "invitation_id" },
               done_codes = { "ResourceShareInvitationAlreadyAcceptedException" } },
    no_delete = "RAM has no delete: a rejected invitation stays listed as REJECTED",
  },

  operations = {
    --- Lists the resource-share invitations this account received (all statuses), one page at a time;
    -- `resourceShareInvitationArns` or `resourceShareArns` narrow the list.
    get_resource_share_invitations = {
      name = "GetResourceShareInvitations", method = "POST", uri = "/getresourceshareinvitations",
      input = {
        { name = "resourceShareInvitationArns", wire = "resourceShareInvitationArns", location = "body",
          type = "list", member = { type = "string" } },
        { name = "resourceShareArns", wire = "resourceShareArns", location = "body", type = "list",
          member = { type = "string" } },
        next_token(),
        max_results(),
      },
      output = {
        { name = "resourceShareInvitations", wire = "resourceShareInvitations", type = "list",
          member = { type = "structure", members = invitation_members() } },
        { name = "nextToken", wire = "nextToken", type = "string" },
      },
    },
    --- Accepts a resource-share invitation: the share's resources become usable in this account
    -- (`clientToken`: generated when not given, the same on every retry of the call).
    accept_resource_share_invitation = {
      name = "AcceptResourceShareInvitation", method = "POST", uri = "/acceptresourceshareinvitation",
      input = { invitation_arn(true), client_token() },
      output = answer(),
    },
    --- Rejects a resource-share invitation (it stays listed as REJECTED) (`clientToken`: generated when
    -- not given, the same on every retry of the call).
    reject_resource_share_invitation = {
      name = "RejectResourceShareInvitation", method = "POST", uri = "/rejectresourceshareinvitation",
      input = { invitation_arn(true), client_token() },
      output = answer(),
    },
    --- Lists the resources a PENDING resource-share invitation would share, one page at a time.
    list_pending_invitation_resources = {
      name = "ListPendingInvitationResources", method = "POST", uri = "/listpendinginvitationresources",
      input = {
        invitation_arn(true),
        next_token(),
        max_results(),
        { name = "resourceRegionScope", wire = "resourceRegionScope", location = "body", type = "string",
          enum = { "ALL", "REGIONAL", "GLOBAL" } },
      },
      output = {
        { name = "resources", wire = "resources", type = "list",
          member = { type = "structure", members = {
            { name = "arn", wire = "arn", type = "string" },
            { name = "type", wire = "type", type = "string" },
            { name = "resourceShareArn", wire = "resourceShareArn", type = "string" },
            { name = "resourceGroupArn", wire = "resourceGroupArn", type = "string" },
            { name = "status", wire = "status", type = "string",
              enum = { "AVAILABLE", "ZONAL_RESOURCE_INACCESSIBLE", "LIMIT_EXCEEDED", "UNAVAILABLE", "PENDING" } },
            { name = "statusMessage", wire = "statusMessage", type = "string" },
            { name = "creationTime", wire = "creationTime", type = "timestamp" },
            { name = "lastUpdatedTime", wire = "lastUpdatedTime", type = "timestamp" },
            { name = "resourceRegionScope", wire = "resourceRegionScope", type = "string",
              enum = { "REGIONAL", "GLOBAL" } },
          } } },
        { name = "nextToken", wire = "nextToken", type = "string" },
      },
    },
  },

  -- get_resource_share_invitations: botocore's paginator. list_pending_invitation_resources has none in
  -- botocore 1.43 (its model pages it by nextToken/maxResults all the same): invite adds one, under the
  -- same names its convention gives (docs/clients.md, "Paginators").
  paginators = {
    get_resource_share_invitations = {
      input_token = "nextToken", output_token = "nextToken", limit_key = "maxResults",
      result_key = "resourceShareInvitations",
      all = "list_all_resource_share_invitations", each = "each_resource_share_invitation",
    },
    list_pending_invitation_resources = {
      input_token = "nextToken", output_token = "nextToken", limit_key = "maxResults",
      result_key = "resources",
      all = "list_all_pending_invitation_resources", each = "each_pending_invitation_resource",
      invite_only = true, -- not a botocore paginator
    },
  },
}
