-- invite.services.organizations - AWS Organizations, declared as data: the read-only calls that
-- find an organisation's accounts (scope discovery: invite.discover.accounts) -- ListAccounts,
-- ListAccountsForParent, ListChildren, ListRoots, DescribeOrganization and DescribeAccount -- and
-- the handshakes an account receives (an invitation to join another organisation, a request to
-- enable all features, ...): ListHandshakesForAccount, DescribeHandshake, AcceptHandshake and
-- DeclineHandshake (the invitations the runner sweeps: the `invitations` table). Facts from botocore's model
-- organizations/2016-11-28/service-2.json (botocore 1.43; checked by
-- spec/pipeline/organizations_spec.lua) and its endpoint rule set. The format is described in
-- docs/clients.md ("How a service is declared"); the json protocol's part in invite.protocols.json.
--
-- The client checks what botocore's validator checks (required members, lengths, ranges, enums)
-- and account IDs, and the HandshakeId pattern (`^h-[0-9a-z]{8,32}$`, the Filter's
-- ParentHandshakeId too); the patterns of ParentId
-- (`^(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`) and the other IDs are the service's to
-- judge (invite.discover.accounts checks OU IDs itself). Errors are classified by invite.retry
-- alone, as botocore's standard mode does: TooManyRequestsException is throttling, ServiceException
-- (HTTP 500) transient; ConcurrentModificationException, HandshakeConstraintViolationException
-- (with its Reason), HandshakeNotFoundException, InvalidHandshakeTransitionException,
-- HandshakeAlreadyInStateException, AccessDeniedForDependencyException and the rest are not retried.

local function max_results()
  return { name = "MaxResults", wire = "MaxResults", location = "body", type = "integer", min = 1, max = 20 }
end

local function next_token_in()
  return { name = "NextToken", wire = "NextToken", location = "body", type = "string", max = 100000 }
end

local function next_token_out()
  return { name = "NextToken", wire = "NextToken", type = "string" }
end

local function parent_id()
  return { name = "ParentId", wire = "ParentId", location = "body", required = true, type = "string", max = 100 }
end

-- Account: Status is deprecated in favour of State (botocore 1.43 has both; the service sends both)
local function account_members()
  return {
    { name = "Id", wire = "Id", type = "string" },
    { name = "Arn", wire = "Arn", type = "string" },
    { name = "Email", wire = "Email", type = "string" },
    { name = "Name", wire = "Name", type = "string" },
    { name = "Status", wire = "Status", type = "string" },
    { name = "State", wire = "State", type = "string" },
    { name = "Paths", wire = "Paths", type = "list", member = { type = "string" } },
    { name = "JoinedMethod", wire = "JoinedMethod", type = "string" },
    { name = "JoinedTimestamp", wire = "JoinedTimestamp", type = "timestamp" },
  }
end

local function accounts_out()
  return { name = "Accounts", wire = "Accounts", type = "list",
           member = { type = "structure", members = account_members() } }
end

local function policy_types()
  return { name = "PolicyTypes", wire = "PolicyTypes", type = "list", member = { type = "structure", members = {
    { name = "Type", wire = "Type", type = "string" },
    { name = "Status", wire = "Status", type = "string" },
  } } }
end

-- HandshakeId: the model's pattern, and the same rule in Lua ("h-" then 8 to 32 of 0-9a-z; the
-- model's max, 34, is the length bound).
local HANDSHAKE_ID_PATTERN = "^h-[0-9a-z]{8,32}$"

local function is_handshake_id(v)
  local rest = v:match("^h%-([0-9a-z]*)$")
  return rest ~= nil and #rest >= 8 and #rest <= 32
end

local function handshake_id(name, required, location)
  return { name = name, wire = name, location = location, required = required or nil, type = "string", max = 34,
           pattern = HANDSHAKE_ID_PATTERN, matches = is_handshake_id,
           rule = "a handshake ID, h- followed by 8 to 32 lowercase letters or digits" }
end

local ACTION_TYPES = { "INVITE", "ENABLE_ALL_FEATURES", "APPROVE_ALL_FEATURES",
                       "ADD_ORGANIZATIONS_SERVICE_LINKED_ROLE", "TRANSFER_RESPONSIBILITY" }
local HANDSHAKE_STATES = { "REQUESTED", "OPEN", "CANCELED", "ACCEPTED", "DECLINED", "EXPIRED" }
local RESOURCE_TYPES = { "ACCOUNT", "ORGANIZATION", "ORGANIZATION_FEATURE_SET", "EMAIL", "MASTER_EMAIL",
  "MASTER_NAME", "NOTES", "PARENT_HANDSHAKE", "RESPONSIBILITY_TRANSFER", "TRANSFER_START_TIMESTAMP",
  "TRANSFER_TYPE", "MANAGEMENT_ACCOUNT", "MANAGEMENT_EMAIL", "MANAGEMENT_NAME" }

-- HandshakeResources: the model's shape is recursive (a HandshakeResource holds Resources, a list
-- of HandshakeResource). What Organizations sends nests two levels (an INVITE's ORGANIZATION
-- resource holds MASTER_EMAIL, MASTER_NAME and ORGANIZATION_FEATURE_SET; a transfer's
-- RESPONSIBILITY_TRANSFER its TRANSFER_* and MANAGEMENT_* ones); the declaration goes `depth`
-- levels down (3: one to spare) and its deepest structure names the member it leaves off in
-- `recursion = { "Resources" }` (deeper resources, if the service ever sent them, are dropped by
-- the parser; botocore's model checks accept the cut there only). Value is sensitive in the model.
local function resources(depth)
  local members = {
    { name = "Value", wire = "Value", type = "string", sensitive = true },
    { name = "Type", wire = "Type", type = "string", enum = RESOURCE_TYPES },
  }
  local item = { type = "structure", members = members }
  if depth > 1 then
    members[3] = resources(depth - 1)
  else
    item.recursion = { "Resources" }
  end
  return { name = "Resources", wire = "Resources", type = "list", member = item }
end

-- Handshake, every member of the model (Parties[].Id is sensitive there).
local function handshake_members()
  return {
    { name = "Id", wire = "Id", type = "string" },
    { name = "Arn", wire = "Arn", type = "string" },
    { name = "Parties", wire = "Parties", type = "list", member = { type = "structure", members = {
      { name = "Id", wire = "Id", type = "string", sensitive = true },
      { name = "Type", wire = "Type", type = "string", enum = { "ACCOUNT", "ORGANIZATION", "EMAIL" } },
    } } },
    { name = "State", wire = "State", type = "string", enum = HANDSHAKE_STATES },
    { name = "RequestedTimestamp", wire = "RequestedTimestamp", type = "timestamp" },
    { name = "ExpirationTimestamp", wire = "ExpirationTimestamp", type = "timestamp" },
    { name = "Action", wire = "Action", type = "string", enum = ACTION_TYPES },
    resources(3),
  }
end

local function handshake_out()
  return { name = "Handshake", wire = "Handshake", type = "structure", members = handshake_members() }
end

local function paginator(result_key, all, each)
  return { input_token = "NextToken", output_token = "NextToken", limit_key = "MaxResults",
           result_key = result_key, all = all, each = each }
end

return {
  name = "organizations",
  service_id = "Organizations",
  api_version = "2016-11-28",
  signing_name = "organizations",
  endpoint_prefix = "organizations",
  protocol = "json",
  json_version = "1.1",
  target_prefix = "AWSOrganizationsV20161128",
  title = "AWS Organizations",

  -- What the policy runner, the CLI and the simulator need of the handshakes an account receives
  -- (format in docs/clients.md, "Invitation services"): global (one scope per account), one call per
  -- handshake by its ID. The inviter is the management account in the handshake's ARN
  -- (arn:aws:organizations::<management account>:handshake/<organization ID>/<action>/<handshake ID>).
  -- Handshakes whose action type the policy's handshake_actions does not name (default INVITE) are
  -- listed and kept.
  invitations = {
    order = 5, global = true,
    list_operation = "list_handshakes_for_account", list = "Handshakes",
    id = "Id", at = "RequestedTimestamp", status = "State",
    open = { "OPEN", "REQUESTED" },
    statuses = { OPEN = "pending", REQUESTED = "pending", ACCEPTED = "accepted", DECLINED = "declined",
                 CANCELED = "other", EXPIRED = "other" },
    fields = { action_type = "Action", handshake_arn = "Arn", expires_at = "ExpirationTimestamp" },
    label = "action_type",
    derive = function(raw, rec)
      local arn = type(raw.Arn) == "string" and raw.Arn or ""
      local account, org = arn:match("^arn:aws[%w%-]*:organizations::(%d+):handshake/(o%-[%w]+)/")
      if not org then
        -- the organisation is also the Value of the ORGANIZATION resource (an INVITE's)
        for _, r in ipairs(type(raw.Resources) == "table" and raw.Resources or {}) do
          if type(r) == "table" and r.Type == "ORGANIZATION" then org = r.Value end
        end
      end
      rec.account_id, rec.management_account, rec.organization_id = account, account, org
    end,
    gate = { field = "action_type", policy = "handshake_actions", default = { "INVITE" }, allowed = ACTION_TYPES,
             values = "handshake action types (INVITE, ENABLE_ALL_FEATURES, APPROVE_ALL_FEATURES, "
               .. "ADD_ORGANIZATIONS_SERVICE_LINKED_ROLE, TRANSFER_RESPONSIBILITY)" },
    decline = { operation = "decline_handshake", params = { HandshakeId = "invitation_id" },
                done_codes = { "HandshakeAlreadyInStateException" } },
    -- an account joins one organisation: one accepted handshake per run and account
    accept = { operation = "accept_handshake", params = { HandshakeId = "invitation_id" }, one = true,
               done_codes = { "HandshakeAlreadyInStateException" } },
    no_delete = "Organizations has no delete: a declined handshake stays listed as DECLINED for 30 days",
  },
  -- One endpoint per partition (the endpoint rule set; botocore's endpoints.json agrees): every
  -- region of a partition goes to its host, signed for its region; without a region, the aws one.
  -- FIPS: the aws partition's own host, us-gov's plain one; other variants use the regional name.
  partition_endpoints = {
    aws = { host = "organizations.us-east-1.amazonaws.com", signing_region = "us-east-1",
            fips_host = "organizations-fips.us-east-1.amazonaws.com" },
    ["aws-cn"] = { host = "organizations.cn-northwest-1.amazonaws.com.cn", signing_region = "cn-northwest-1" },
    ["aws-us-gov"] = { host = "organizations.us-gov-west-1.amazonaws.com", signing_region = "us-gov-west-1",
                       fips_host = "organizations.us-gov-west-1.amazonaws.com" },
    ["aws-iso"] = { host = "organizations.us-iso-east-1.c2s.ic.gov", signing_region = "us-iso-east-1" },
    ["aws-iso-b"] = { host = "organizations.us-isob-east-1.sc2s.sgov.gov", signing_region = "us-isob-east-1" },
    ["aws-iso-f"] = { host = "organizations.us-isof-south-1.csp.hci.ic.gov", signing_region = "us-isof-south-1" },
  },

  operations = {
    --- Lists every account of the organisation (management account or delegated administrator
    -- only), one page of at most 20 at a time; a page may be empty while NextToken is set.
    list_accounts = {
      name = "ListAccounts", method = "POST", uri = "/",
      input = { next_token_in(), max_results() },
      output = { accounts_out(), next_token_out() },
    },
    --- Lists the accounts directly under a root or OU (`ParentId`), one page at a time.
    list_accounts_for_parent = {
      name = "ListAccountsForParent", method = "POST", uri = "/",
      input = { parent_id(), next_token_in(), max_results() },
      output = { accounts_out(), next_token_out() },
    },
    --- Lists the accounts or OUs (`ChildType` ACCOUNT or ORGANIZATIONAL_UNIT) directly under a root
    -- or OU (`ParentId`), one page at a time.
    list_children = {
      name = "ListChildren", method = "POST", uri = "/",
      input = {
        parent_id(),
        { name = "ChildType", wire = "ChildType", location = "body", required = true, type = "string",
          enum = { "ACCOUNT", "ORGANIZATIONAL_UNIT" } },
        next_token_in(),
        max_results(),
      },
      output = {
        { name = "Children", wire = "Children", type = "list", member = { type = "structure", members = {
          { name = "Id", wire = "Id", type = "string" },
          { name = "Type", wire = "Type", type = "string" },
        } } },
        next_token_out(),
      },
    },
    --- Lists the organisation's roots (there is one), one page at a time.
    list_roots = {
      name = "ListRoots", method = "POST", uri = "/",
      input = { next_token_in(), max_results() },
      output = {
        { name = "Roots", wire = "Roots", type = "list", member = { type = "structure", members = {
          { name = "Id", wire = "Id", type = "string" },
          { name = "Arn", wire = "Arn", type = "string" },
          { name = "Name", wire = "Name", type = "string" },
          policy_types(),
        } } },
        next_token_out(),
      },
    },
    --- Describes the organisation the caller's account belongs to (any member account may ask).
    describe_organization = {
      name = "DescribeOrganization", method = "POST", uri = "/",
      input = {},
      output = {
        { name = "Organization", wire = "Organization", type = "structure", members = {
          { name = "Id", wire = "Id", type = "string" },
          { name = "Arn", wire = "Arn", type = "string" },
          { name = "FeatureSet", wire = "FeatureSet", type = "string" },
          { name = "MasterAccountArn", wire = "MasterAccountArn", type = "string" },
          { name = "MasterAccountId", wire = "MasterAccountId", type = "string" },
          { name = "MasterAccountEmail", wire = "MasterAccountEmail", type = "string" },
          { name = "AvailablePolicyTypes", wire = "AvailablePolicyTypes", type = "list",
            member = { type = "structure", members = {
              { name = "Type", wire = "Type", type = "string" },
              { name = "Status", wire = "Status", type = "string" },
            } } },
        } },
      },
    },
    --- Describes one account of the organisation (`AccountId`).
    describe_account = {
      name = "DescribeAccount", method = "POST", uri = "/",
      input = {
        { name = "AccountId", wire = "AccountId", location = "body", required = true, type = "string",
          account_id = true, max = 12 },
      },
      output = { { name = "Account", wire = "Account", type = "structure", members = account_members() } },
    },
    --- Lists the handshakes this account received (any account may ask, in an organisation or
    -- not), one page of at most 20 at a time; a page may be empty while NextToken is set. Closed
    -- ones (CANCELED, ACCEPTED, DECLINED, EXPIRED) stay listed for 30 days. `Filter` takes
    -- `ActionType` or `ParentHandshakeId` (not both: the service refuses that).
    list_handshakes_for_account = {
      name = "ListHandshakesForAccount", method = "POST", uri = "/",
      input = {
        { name = "Filter", wire = "Filter", location = "body", type = "structure", members = {
          { name = "ActionType", wire = "ActionType", type = "string", enum = ACTION_TYPES },
          handshake_id("ParentHandshakeId"),
        } },
        next_token_in(),
        max_results(),
      },
      output = {
        { name = "Handshakes", wire = "Handshakes", type = "list",
          member = { type = "structure", members = handshake_members() } },
        next_token_out(),
      },
    },
    --- Describes one handshake (`HandshakeId`) this account sent or received.
    describe_handshake = {
      name = "DescribeHandshake", method = "POST", uri = "/",
      input = { handshake_id("HandshakeId", true, "body") },
      output = { handshake_out() },
    },
    --- Accepts a handshake (`HandshakeId`): an INVITE or ENABLE_ALL_FEATURES by the invited
    -- account, an APPROVE_ALL_FEATURES or TRANSFER_RESPONSIBILITY by a management account. The
    -- answer is the handshake, now ACCEPTED.
    accept_handshake = {
      name = "AcceptHandshake", method = "POST", uri = "/",
      input = { handshake_id("HandshakeId", true, "body") },
      output = { handshake_out() },
    },
    --- Declines a handshake (`HandshakeId`) this account received; the answer is the handshake,
    -- now DECLINED (still listed for 30 days).
    decline_handshake = {
      name = "DeclineHandshake", method = "POST", uri = "/",
      input = { handshake_id("HandshakeId", true, "body") },
      output = { handshake_out() },
    },
  },

  paginators = {
    list_accounts = paginator("Accounts", "list_all_accounts", "each_account"),
    list_accounts_for_parent = paginator("Accounts", "list_all_accounts_for_parent", "each_account_for_parent"),
    list_children = paginator("Children", "list_all_children", "each_child"),
    list_roots = paginator("Roots", "list_all_roots", "each_root"),
    list_handshakes_for_account = paginator("Handshakes", "list_all_handshakes_for_account",
      "each_handshake_for_account"),
  },
}
