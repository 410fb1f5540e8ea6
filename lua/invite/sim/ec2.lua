-- invite.sim.ec2: Amazon EC2's DescribeRegions (2016-11-15, EC2's query dialect) as the simulator
-- serves it, from the fixture's per-account `enabled_regions` (invite.sim.regions). Requests are
-- form-encoded (Action=DescribeRegions&Version=2016-11-15, lists numbered: RegionName.1,
-- Filter.1.Name, Filter.1.Value.1) in the body or the query string; the answer is
-- <DescribeRegionsResponse><requestId/><regionInfo><item><regionName/><regionEndpoint/>
-- <optInStatus/></item>...</regionInfo></DescribeRegionsResponse>, errors are
-- <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
-- Without AllRegions the regions the account has enabled (optInStatus opt-in-not-required or
-- opted-in), with AllRegions = true every region of the partition (not-opted-in for the opt-in
-- regions it has not enabled). Filters endpoint, opt-in-status and region-name (values may hold
-- the wildcards * and ?). DryRun = true answers 412 DryRunOperation. An account whose fixture
-- lists "ec2:DescribeRegions" under `denied` gets 403 UnauthorizedOperation.
local util = require "invite.sim.util"
local query = require "invite.sim.query"
local regions = require "invite.sim.regions"

local _M = { name = "ec2", validation_code = "InvalidParameterValue" }

local format, concat, ipairs, tostring = string.format, table.concat, ipairs, tostring

local VERSION = "2016-11-15"
local NS = "http://ec2.amazonaws.com/doc/" .. VERSION .. "/"

--- The operations served (the `denied` fixture key may name them as "ec2:<Operation>").
_M.OPERATIONS = { DescribeRegions = true }

local HEADERS = { { "Content-Type", "text/xml;charset=UTF-8" } }

function _M.error(status, code, message, rid, extra_headers)
  return query.error(status, code, format('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
    .. "<Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>\n",
    util.xml_escape(code), util.xml_escape(message), rid), HEADERS, extra_headers)
end

-- EC2's front door: AuthFailure for credentials it does not know (also in an opt-in region the
-- account has not enabled), RequestExpired for expired ones (the statuses are the simulator's).
local AUTH = {
  missing = { 401, "MissingAuthenticationToken", "The request must contain either a valid (registered) AWS access "
    .. "key ID or X.509 certificate." },
  incomplete = { 400, "IncompleteSignature" },
  unknown_key = { 401, "AuthFailure", "AWS was not able to validate the provided access credentials" },
  bad_token = { 401, "AuthFailure", "AWS was not able to validate the provided access credentials" },
  expired_token = { 400, "RequestExpired", "Request has expired." },
  expired_sig = { 400, "RequestExpired" },
  signature = { 403, "SignatureDoesNotMatch" },
}

local FAULTS = {
  throttle = { 503, "RequestLimitExceeded", "Request limit exceeded." },
  ["500"] = { 500, "InternalError", "An internal error has occurred" },
  ["503"] = { 503, "Unavailable", "The server is overloaded and can't handle the request." },
}
query.front_door(_M, AUTH, FAULTS) -- _M.AUTH, _M.auth_error, _M.fault

function _M.operation(req)
  return query.operation(req, _M.OPERATIONS)
end

function _M.unknown_operation(_, p, rid)
  local action = p and p.Action
  if not action then return _M.error(400, "MissingAction", "The request must contain the parameter Action", rid) end
  return _M.error(400, "InvalidAction", format("The action %s is not valid for this web service.", action), rid)
end

-- The numbered list `prefix.1`, `prefix.2` ... of the form (stops at the first gap).
local function numbered(p, prefix)
  local out, i = {}, 1
  while p[prefix .. "." .. i] ~= nil do
    out[i] = p[prefix .. "." .. i]
    i = i + 1
  end
  return out
end

-- A filter value with * and ? as wildcards -> an anchored Lua pattern.
local function glob(v)
  return "^" .. v:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
end

local function boolean(p, name)
  local v = p[name]
  if v == nil then return false end
  v = tostring(v):lower()
  if v == "true" then return true end
  if v == "false" then return false end
  return nil
end

local function endpoint_of(name)
  local cn = regions.partition(name) == "aws-cn"
  return "ec2." .. name .. (cn and ".amazonaws.com.cn" or ".amazonaws.com")
end

local FILTERS = {
  ["endpoint"] = function(r) return r.endpoint end,
  ["opt-in-status"] = function(r) return r.status end,
  ["region-name"] = function(r) return r.name end,
}

local function describe_regions(ctx)
  local p = ctx.params
  local all, dry = boolean(p, "AllRegions"), boolean(p, "DryRun")
  if all == nil then return _M.error(400, "InvalidParameterValue", "Value (" .. tostring(p.AllRegions)
    .. ") for parameter AllRegions is invalid. Expected: 'true' or 'false'.", ctx.rid) end
  if dry == nil then return _M.error(400, "InvalidParameterValue", "Value (" .. tostring(p.DryRun)
    .. ") for parameter DryRun is invalid. Expected: 'true' or 'false'.", ctx.rid) end
  local filters = {}
  local i = 1
  while p["Filter." .. i .. ".Name"] ~= nil do
    local name = p["Filter." .. i .. ".Name"]
    if not FILTERS[name] then
      return _M.error(400, "InvalidParameterValue", format("The filter '%s' is invalid", name), ctx.rid)
    end
    local values = numbered(p, "Filter." .. i .. ".Value")
    if #values == 0 then
      return _M.error(400, "InvalidParameterValue", format("The filter '%s' needs at least one value", name), ctx.rid)
    end
    filters[#filters + 1] = { get = FILTERS[name], patterns = values }
    i = i + 1
  end
  local acct = ctx.state:account(ctx.account)
  local known, list = {}, {}
  for _, r in ipairs(regions.of_partition(ctx.region or "us-east-1", acct)) do
    known[r.name] = r
    list[#list + 1] = r
  end
  local names = numbered(p, "RegionName")
  if #names > 0 then
    local bad = {}
    for _, n in ipairs(names) do
      if not known[n] then bad[#bad + 1] = n end
    end
    if #bad > 0 then
      return _M.error(400, "InvalidParameterValue", "Invalid region names: " .. concat(bad, ", "), ctx.rid)
    end
  end
  if dry then
    return _M.error(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", ctx.rid)
  end
  local wanted
  if #names > 0 then
    wanted = {}
    for _, n in ipairs(names) do wanted[n] = true end
  end
  local items = {}
  for _, r in ipairs(list) do
    local row = { name = r.name, endpoint = endpoint_of(r.name),
                  status = not r.opt_in and "opt-in-not-required" or (r.enabled and "opted-in" or "not-opted-in") }
    local keep = (all or r.enabled) and (not wanted or wanted[r.name])
    for _, f in ipairs(filters) do
      if keep then
        local v, hit = f.get(row), false
        for _, pat in ipairs(f.patterns) do
          if v:find(glob(pat)) then hit = true end
        end
        keep = hit
      end
    end
    if keep then
      items[#items + 1] = { "item", { { "regionName", row.name }, { "regionEndpoint", row.endpoint },
        { "optInStatus", row.status } } }
    end
  end
  local out = { format('<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRegionsResponse xmlns="%s">\n', NS) }
  query.nodes({ { "requestId", ctx.rid }, { "regionInfo", items } }, "    ", out)
  out[#out + 1] = "</DescribeRegionsResponse>\n"
  return query.response(200, concat(out), HEADERS)
end

-- ctx: req, rid, state, principal, operation, region, account, params (see invite.sim).
function _M.dispatch(ctx)
  -- the log's `form`: every parameter of the body and the query string, decoded, in the order sent
  local form = {}
  for _, raw in ipairs{ ctx.req.query or "", ctx.req.body or "" } do
    for pair in raw:gmatch("[^&]+") do
      if not pair:find("^X%-Amz%-") then form[#form + 1] = util.url_decode(pair) end
    end
  end
  ctx.log_form = form
  local acct = ctx.state:account(ctx.account)
  if acct and acct.denied and acct.denied["ec2:" .. ctx.operation] then
    return _M.error(403, "UnauthorizedOperation", "You are not authorized to perform this operation. User: "
      .. tostring(ctx.principal.arn) .. " is not authorized to perform: ec2:" .. ctx.operation, ctx.rid)
  end
  local version = ctx.params.Version
  if version ~= nil and version ~= VERSION then
    return _M.error(400, "InvalidParameterValue", "Invalid API version: " .. tostring(version), ctx.rid)
  end
  return describe_regions(ctx)
end

return _M
