-- invite.sim.organizations: AWS Organizations (2016-11-28, awsJson 1.1) as the simulator serves
-- it, read-only, from the fixture's `organization` (invite.sim.fixtures: check_organization):
-- ListAccounts, ListAccountsForParent, ListChildren, ListRoots, DescribeOrganization and
-- DescribeAccount. Requests are POST / with `X-Amz-Target: AWSOrganizationsV20161128.<Op>` and a
-- JSON body; answers are `application/x-amz-json-1.1`; errors `{"__type": Code, "Message": ...}`
-- (InvalidInputException adds its `Reason`), with x-amzn-RequestId. Only the management account
-- may list or describe accounts (a member gets AccessDeniedException; DescribeOrganization is open
-- to every member); an account outside the organisation gets AWSOrganizationsNotInUseException.
-- The first page of a ListAccounts, ListAccountsForParent or ListChildren walk is empty with a
-- NextToken (as Organizations sometimes answers) unless organization.empty_first_page = false.
-- Wire facts and wording: docs/simulator.md.
local util = require "invite.sim.util"
local rest = require "invite.sim.rest"
local ids = require "invite.discover.org_ids"

local _M = { name = "organizations", validation_code = "InvalidInputException" }

local type, format, floor, ipairs, tostring = type, string.format, math.floor, ipairs, tostring

local TARGET = "AWSOrganizationsV20161128."
local CONTENT_TYPE = "application/x-amz-json-1.1"
local MAX_RESULTS = 20

local function response(status, body, rid)
  return {
    status = status,
    headers = { { "Content-Type", CONTENT_TYPE }, { "x-amzn-RequestId", rid } },
    body = body,
  }
end

local function ok(tbl, rid)
  return response(200, util.json_encode(tbl), rid)
end

--- An error in the service's style: `{"__type": code, "Message": message}` (plus `fields`).
function _M.error(status, code, message, rid, extra_headers, fields)
  local body = { __type = code, Message = message }
  for k, v in pairs(fields or {}) do body[k] = v end
  local res = response(status, util.json_encode(body), rid)
  for _, h in ipairs(extra_headers or {}) do res.headers[#res.headers + 1] = h end
  res.error_code = code
  return res
end

-- Authentication failures come from the front door: the code, namespaced as awsJson services
-- send it, and {"message": ...} in lower case (the rest-json services' table, invite.sim.rest).
function _M.auth_error(failure, rid)
  local m = rest.AUTH[failure.kind] or rest.AUTH.signature
  local res = response(m[1], util.json_encode({ __type = "com.amazon.coral.service#" .. m[2],
                                                message = failure.message }), rid)
  res.error_code = m[2]
  return res
end

function _M.fault(kind, retry_after, rid)
  local extra = retry_after and { { "Retry-After", tostring(retry_after) } } or nil
  if kind == "throttle" then
    return _M.error(400, "TooManyRequestsException", "You have sent too many requests in too short a period of "
      .. "time. The quota helps protect against denial-of-service attacks. Try again later.", rid, extra,
      { Type = "REQUESTS_PER_SECOND" })
  elseif kind == "500" then
    return _M.error(500, "ServiceException", "Organizations can't complete your request because of an internal "
      .. "service error. Try again later.", rid, extra)
  end
  return _M.error(503, "ServiceUnavailableException", "Service is unavailable. Please retry.", rid, extra)
end

_M.OPERATIONS = { ListAccounts = true, ListAccountsForParent = true, ListChildren = true, ListRoots = true,
                  DescribeOrganization = true, DescribeAccount = true }

-- The X-Amz-Target's operation (any, known or not) and the decoded body (false when it is not a
-- JSON object).
local function target_and_body(req)
  local target = req.header["x-amz-target"]
  local op = type(target) == "string" and target:sub(1, #TARGET) == TARGET and target:sub(#TARGET + 1) or nil
  local body = req.body or ""
  local params
  if body == "" then
    params = {}
  else
    local t = util.json_decode(body)
    params = type(t) == "table" and t or false
  end
  return op, params
end

-- An unsigned request that names an Organizations target is answered in this style.
function _M.looks_like(req)
  local op, params = target_and_body(req)
  return op ~= nil, params
end

function _M.operation(req)
  local op, params = target_and_body(req)
  if op and _M.OPERATIONS[op] and req.method == "POST" and req.path == "/" then return op, params end
  return nil, params
end

function _M.unknown_operation(req, _, rid)
  local target = req.header["x-amz-target"]
  if req.method ~= "POST" or req.path ~= "/" then
    return _M.error(404, "UnknownOperationException", "Organizations is served by POST / with X-Amz-Target", rid)
  end
  return _M.error(400, "UnknownOperationException", "Unknown operation " .. tostring(target), rid)
end

---------------------------------------------------------------------------------------------------
-- Input: what the service checks, as InvalidInputException with its Reason (the message names the
-- member; the first sentence is the service's)
---------------------------------------------------------------------------------------------------

local SENTENCE = {
  INPUT_REQUIRED = "You must provide a value for this parameter.",
  INVALID_PATTERN = "You provided a value that does not match the required pattern.",
  INVALID_ENUM = "You specified an invalid value.",
  MAX_VALUE_EXCEEDED = "You provided a value that exceeds the maximum allowed value.",
  MIN_VALUE_EXCEEDED = "You provided a value that is less than the minimum allowed value.",
  MAX_LENGTH_EXCEEDED = "You provided a string parameter that is longer than allowed.",
  INVALID_NEXT_TOKEN = "You specified an invalid value for nextToken. You must get the value from the response "
    .. "to a previous call to the API.",
}

local function invalid(ctx, reason, detail)
  return _M.error(400, "InvalidInputException", SENTENCE[reason] .. (detail and (" (" .. detail .. ")") or ""),
    ctx.rid, nil, { Reason = reason })
end

local function serialization(ctx, member, want)
  return _M.error(400, "SerializationException", format("%s must be %s", member, want), ctx.rid)
end

-- MaxResults (1-20, default 20) and NextToken (bound to the walk: operation, parent, caller).
local function page_params(ctx, p, scope)
  local limit = MAX_RESULTS
  local n = p.MaxResults
  if n ~= nil then
    if type(n) ~= "number" or n ~= floor(n) then return nil, serialization(ctx, "MaxResults", "an integer") end
    if n < 1 then return nil, invalid(ctx, "MIN_VALUE_EXCEEDED", "MaxResults must be at least 1, got " .. n) end
    if n > MAX_RESULTS then
      return nil, invalid(ctx, "MAX_VALUE_EXCEEDED", "MaxResults must be at most 20, got " .. format("%d", n))
    end
    limit = n
  end
  local tok = p.NextToken
  if tok == nil then return limit, nil end
  if type(tok) ~= "string" then return nil, serialization(ctx, "NextToken", "a string") end
  local after = rest.decode_token(tok, ctx.operation, "organizations", scope, ctx.account)
  if not after then return nil, invalid(ctx, "INVALID_NEXT_TOKEN") end
  return limit, after
end

local function parent_param(ctx, p)
  local v = p.ParentId
  if v == nil then return nil, invalid(ctx, "INPUT_REQUIRED", "ParentId is required") end
  if type(v) ~= "string" then return nil, serialization(ctx, "ParentId", "a string") end
  if #v > 100 then return nil, invalid(ctx, "MAX_LENGTH_EXCEEDED", "ParentId is at most 100 characters") end
  if not ids.is_parent_id(v) then
    return nil, invalid(ctx, "INVALID_PATTERN", "ParentId: " .. ids.RULES.parent)
  end
  return v
end

---------------------------------------------------------------------------------------------------
-- Answers
---------------------------------------------------------------------------------------------------

local function account_json(m)
  return { Id = m.id, Arn = m.arn, Email = m.email, Name = m.name, Status = m.status, State = m.status,
           JoinedMethod = m.joined_method, JoinedTimestamp = m.joined }
end

local function by_id(x) return x.id end

-- One page of `items` (sorted by id): the first page of a walk is empty with a token when the
-- organisation says so (and the operation is one that does it).
local function paged(ctx, org, items, scope, limit, after, empty_first)
  if after == nil and empty_first and org.empty_first_page then
    return {}, rest.encode_token(ctx.operation, "organizations", scope, ctx.account, "")
  end
  local page, last = rest.page(items, by_id, limit, after ~= "" and after or nil)
  return page, last and rest.encode_token(ctx.operation, "organizations", scope, ctx.account, last) or nil
end

local function list_response(ctx, member, list, token)
  return ok({ [member] = util.array(list), NextToken = token }, ctx.rid)
end

local function accounts_page(ctx, org, members, scope, limit, after)
  local page, token = paged(ctx, org, members, scope, limit, after, true)
  local out = {}
  for i, m in ipairs(page) do out[i] = account_json(m) end
  return list_response(ctx, "Accounts", out, token)
end

local function members_under(org, parent)
  local out = {}
  for _, m in ipairs(org.member_list) do
    if m.parent == parent then out[#out + 1] = m end
  end
  return out
end

local function units_under(org, parent)
  local out = {}
  for _, u in ipairs(org.units) do
    if u.parent == parent then out[#out + 1] = u end
  end
  return out
end

local function parent_exists(org, id)
  return id == org.root or org.unit_by_id[id] ~= nil
end

local function parent_not_found(ctx)
  return _M.error(400, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.",
    ctx.rid)
end

local ops = {}

function ops.ListAccounts(ctx, org, p)
  local limit, after = page_params(ctx, p, "-")
  if not limit then return after end
  return accounts_page(ctx, org, org.member_list, "-", limit, after)
end

function ops.ListAccountsForParent(ctx, org, p)
  local parent, perr = parent_param(ctx, p)
  if not parent then return perr end
  local limit, after = page_params(ctx, p, parent)
  if not limit then return after end
  if not parent_exists(org, parent) then return parent_not_found(ctx) end
  return accounts_page(ctx, org, members_under(org, parent), parent, limit, after)
end

function ops.ListChildren(ctx, org, p)
  local parent, perr = parent_param(ctx, p)
  if not parent then return perr end
  local kind = p.ChildType
  if kind == nil then return invalid(ctx, "INPUT_REQUIRED", "ChildType is required") end
  if kind ~= "ACCOUNT" and kind ~= "ORGANIZATIONAL_UNIT" then
    return invalid(ctx, "INVALID_ENUM", "ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT")
  end
  local scope = parent .. "/" .. kind
  local limit, after = page_params(ctx, p, scope)
  if not limit then return after end
  if not parent_exists(org, parent) then return parent_not_found(ctx) end
  local items = kind == "ACCOUNT" and members_under(org, parent) or units_under(org, parent)
  local page, token = paged(ctx, org, items, scope, limit, after, true)
  local out = {}
  for i, x in ipairs(page) do out[i] = { Id = x.id, Type = kind } end
  return list_response(ctx, "Children", out, token)
end

function ops.ListRoots(ctx, org, p)
  local limit, after = page_params(ctx, p, "-")
  if not limit then return after end
  local roots = { { id = org.root } }
  local page, token = paged(ctx, org, roots, "-", limit, after, false)
  local out = {}
  for i in ipairs(page) do
    out[i] = { Id = org.root, Arn = org.root_arn, Name = "Root", PolicyTypes = util.array{} }
  end
  return list_response(ctx, "Roots", out, token)
end

function ops.DescribeOrganization(ctx, org)
  return ok({ Organization = {
    Id = org.id, Arn = org.arn, FeatureSet = org.feature_set,
    MasterAccountArn = org.management.arn, MasterAccountId = org.management_account,
    MasterAccountEmail = org.management.email, AvailablePolicyTypes = util.array{},
  } }, ctx.rid)
end

function ops.DescribeAccount(ctx, org, p)
  local id = p.AccountId
  if id == nil then return invalid(ctx, "INPUT_REQUIRED", "AccountId is required") end
  if type(id) ~= "string" then return serialization(ctx, "AccountId", "a string") end
  if not ids.is_account_id(id) then return invalid(ctx, "INVALID_PATTERN", "AccountId: " .. ids.RULES.account) end
  local m = org.members[id]
  if not m then
    return _M.error(400, "AccountNotFoundException", "You specified an account that doesn't exist.", ctx.rid)
  end
  ctx.log_ids = { id }
  return ok({ Account = account_json(m) }, ctx.rid)
end

-- Who may call what: the management account everything; another member DescribeOrganization only.
local MEMBER_MAY = { DescribeOrganization = true }

--- Answers one authenticated request (the simulator's hook; ctx: see invite.sim).
function _M.dispatch(ctx)
  local p = ctx.params
  if p == false then
    return _M.error(400, "SerializationException", "The request body is not a JSON object", ctx.rid)
  end
  local org = ctx.state.fixture.organization
  local caller = ctx.account
  if not org or not org.members[caller] then
    return _M.error(400, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.",
      ctx.rid)
  end
  if caller ~= org.management_account and not MEMBER_MAY[ctx.operation] then
    return _M.error(400, "AccessDeniedException", "You don't have permissions to access this resource.", ctx.rid)
  end
  return ops[ctx.operation](ctx, org, p or {})
end

return _M
