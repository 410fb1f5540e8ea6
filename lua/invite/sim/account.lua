-- invite.sim.account: AWS Account Management (2021-02-01, rest-json) as the simulator serves it:
-- ListRegions (POST /listRegions) and GetRegionOptStatus (POST /getRegionOptStatus), from the
-- fixture's per-account `enabled_regions` (invite.sim.regions). Wire facts from botocore's model:
-- PascalCase JSON members, MaxResults 1-50, NextToken up to 1000 characters, the statuses
-- ENABLED, ENABLING, DISABLING, DISABLED, ENABLED_BY_DEFAULT. Errors: the code in
-- x-amzn-ErrorType and {"message": ...} in the body (ValidationException 400 adds "reason" and
-- "fieldList"; AccessDeniedException 403, TooManyRequestsException 429, InternalServerException
-- 500). An account whose fixture lists "account:<Operation>" under `denied` is refused that
-- operation with AccessDeniedException. AccountId is served for the caller's own account only.
local rest = require "invite.sim.rest"
local util = require "invite.sim.util"
local regions = require "invite.sim.regions"

local _M = { name = "account", validation_code = "ValidationException" }

local type, tostring, format, ipairs = type, tostring, string.format, ipairs

--- The operations served (the `denied` fixture key may name them as "account:<Operation>").
_M.OPERATIONS = { ListRegions = true, GetRegionOptStatus = true }

--- The page size of ListRegions without MaxResults (the simulator's choice: AWS documents none).
_M.DEFAULT_PAGE = 20

local STATUSES = { ENABLED = true, ENABLING = true, DISABLING = true, DISABLED = true, ENABLED_BY_DEFAULT = true }

local ROUTES = {
  { "POST", "^/listRegions/?$", "ListRegions" },
  { "POST", "^/getRegionOptStatus/?$", "GetRegionOptStatus" },
}

-- The error style: the code in x-amzn-ErrorType, {"message": ...} (rest.error's svc interface).
local style = {
  error_style = function(code, message) return code, { message = message } end,
  throttle_code = "TooManyRequestsException", throttle_message = "Too many requests",
  internal_code = "InternalServerException", internal_message = "Internal server error",
}

function _M.error(status, code, message, rid, extra_headers)
  return rest.error(style, status, code, message, rid, extra_headers)
end

rest.front_door(_M, style, ROUTES)

function _M.unknown_operation(req, _, rid)
  local res = rest.json(404, { message = "Unknown operation " .. tostring(req.method) .. " " .. tostring(req.path)
    .. " for account" }, rid)
  res.headers[#res.headers + 1] = { "x-amzn-ErrorType", "UnknownOperationException" }
  res.error_code = "UnknownOperationException"
  return res
end

-- A ValidationException naming the member, as the service's validation answers do.
local function invalid(ctx, member, message)
  local body = { message = message, reason = "fieldValidationFailed",
                 fieldList = util.array{ { name = member, message = message } } }
  local res = rest.json(400, body, ctx.rid)
  res.headers[#res.headers + 1] = { "x-amzn-ErrorType", "ValidationException" }
  res.error_code = "ValidationException"
  return res
end

local function denied(ctx, what)
  local p = ctx.principal
  return _M.error(403, "AccessDeniedException", format("User: %s is not authorized to perform: account:%s on "
    .. "resource: arn:aws:account::%s:account%s", p.arn, ctx.operation, p.account, what or ""), ctx.rid)
end

-- The account the call is about: AccountId when given (the caller's own only), else the caller's.
-- Returns the fixture account, or nil and an error response.
local function target(ctx, body)
  local id = body.AccountId
  if id == nil or id == util.null then return ctx.state:account(ctx.account) end
  if type(id) ~= "string" or not id:find("^%d%d%d%d%d%d%d%d%d%d%d%d$") then
    return nil, invalid(ctx, "AccountId", "1 validation error detected: Value at 'accountId' failed to satisfy "
      .. "constraint: Member must satisfy regular expression pattern: \\d{12}")
  end
  if id ~= ctx.account then return nil, denied(ctx, "/" .. id) end
  return ctx.state:account(id)
end

local function status_of(r)
  if not r.opt_in then return "ENABLED_BY_DEFAULT" end
  return r.enabled and "ENABLED" or "DISABLED"
end

local ops = {}

function ops.ListRegions(ctx, body)
  local acct, err = target(ctx, body)
  if not acct then return err end
  local limit, why = rest.body_max_results(body.MaxResults, 50)
  if limit == false then return invalid(ctx, "MaxResults", why) end
  limit = limit or _M.DEFAULT_PAGE
  local wanted
  local filter = body.RegionOptStatusContains
  if filter ~= nil and filter ~= util.null then
    if type(filter) ~= "table" then
      return invalid(ctx, "RegionOptStatusContains", "RegionOptStatusContains must be a list of Region statuses")
    end
    wanted = {}
    for _, s in ipairs(filter) do
      if not STATUSES[s] then
        return invalid(ctx, "RegionOptStatusContains", "1 validation error detected: Value '" .. tostring(s)
          .. "' at 'regionOptStatusContains' failed to satisfy constraint: Member must satisfy enum value set: "
          .. "[ENABLED, ENABLING, DISABLING, DISABLED, ENABLED_BY_DEFAULT]")
      end
      wanted[s] = true
    end
  end
  local partition = regions.partition(ctx.region or "us-east-1")
  local after
  local tok = body.NextToken
  if tok ~= nil and tok ~= util.null and tok ~= "" then
    after = type(tok) == "string" and #tok <= 1000
      and rest.decode_token(tok, "regions", "account", partition, acct.id) or nil
    if not after then return invalid(ctx, "NextToken", "The NextToken is not valid for this request") end
  end
  local items = {}
  for _, r in ipairs(regions.of_partition(ctx.region or "us-east-1", acct)) do
    local s = status_of(r)
    if not wanted or wanted[s] then items[#items + 1] = { RegionName = r.name, RegionOptStatus = s } end
  end
  local page, last = rest.page(items, function(r) return r.RegionName end, limit, after)
  local out = { Regions = util.array(page) }
  if last then out.NextToken = rest.encode_token("regions", "account", partition, acct.id, last) end
  return rest.json(200, out, ctx.rid)
end

function ops.GetRegionOptStatus(ctx, body)
  local acct, err = target(ctx, body)
  if not acct then return err end
  local name = body.RegionName
  if type(name) ~= "string" or #name < 1 or #name > 50 then
    return invalid(ctx, "RegionName", "1 validation error detected: Value at 'regionName' failed to satisfy "
      .. "constraint: Member must not be null and have length between 1 and 50")
  end
  for _, r in ipairs(regions.of_partition(ctx.region or "us-east-1", acct)) do
    if r.name == name then
      return rest.json(200, { RegionName = name, RegionOptStatus = status_of(r) }, ctx.rid)
    end
  end
  return invalid(ctx, "RegionName", "Invalid Region: " .. name .. " is not a Region of this partition")
end

-- ctx: req, rid, state, principal, operation, region, account (see invite.sim).
function _M.dispatch(ctx)
  local acct = ctx.state:account(ctx.account)
  if acct and acct.denied and acct.denied["account:" .. ctx.operation] then return denied(ctx) end
  local raw = ctx.req.body or ""
  local body = {}
  if not raw:find("^%s*$") then
    body = util.json_decode(raw)
    if type(body) ~= "table" then
      return invalid(ctx, "body", "The request body could not be read as JSON")
    end
  end
  return ops[ctx.operation](ctx, body)
end

return _M
