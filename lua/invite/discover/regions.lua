--- Which regions an account has enabled: the regions enabled by default and the opt-in regions the
-- account has enabled, asked of AWS Account Management's ListRegions
-- (`RegionOptStatusContains = {"ENABLED", "ENABLED_BY_DEFAULT"}`, every page), and, when that
-- fails, of EC2's DescribeRegions (which without `AllRegions` lists the enabled regions only).
-- Both run over the ordinary clients (`invite.account`, `invite.ec2`), so their options, retries
-- and errors are every client's, and inside `invite.scheduler` tasks they yield.
--
--     local regions = require "invite.discover.regions"
--     local set, source = regions.enabled{ region = "eu-west-1", profile = "audit" }
--     if not set then error(tostring(source)) end
--     if set["af-south-1"] then ... end          -- source: "account:ListRegions" or "ec2:DescribeRegions"
--
-- When the fallback runs: on ANY failure of ListRegions, after the client's own retries. The usual
-- one is AccessDeniedException (the caller's policy lacks account:ListRegions, while
-- ec2:DescribeRegions is in AWS's ReadOnlyAccess and ViewOnlyAccess policies); others are an
-- unreachable Account API (it has one endpoint per partition, in us-east-1 for aws, which a network
-- may block while the EC2 endpoint of the region is reachable, e.g. through a VPC endpoint),
-- throttling or server errors that outlasted the retries, and an answer that cannot be read. Both
-- sources say the same thing, so trying the second costs one request and can only help; a failure
-- that would fail both (no credentials, a broken profile) is reported with both errors.
-- @module invite.discover.regions
local errors = require "invite.errors"

local _M = {}

local type, pairs, ipairs, tostring, error = type, pairs, ipairs, tostring, error

--- The sources, in the order they are asked.
_M.SOURCES = { "account:ListRegions", "ec2:DescribeRegions" }

--- The ListRegions statuses of an enabled region.
_M.STATUSES = { "ENABLED", "ENABLED_BY_DEFAULT" }

--- The region DescribeRegions is asked in when neither `opts.region` nor the configuration
-- (AWS_REGION, AWS_DEFAULT_REGION, the profile's region) names one.
_M.DEFAULT_REGION = "us-east-1"

local ENABLED = { ENABLED = true, ENABLED_BY_DEFAULT = true }

local function copy(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return o
end

local function from_account(opts)
  local c = require("invite").account.client(copy(opts))
  local list, err = c:list_all_regions{ RegionOptStatusContains = _M.STATUSES }
  if not list then return nil, err end
  local set = {}
  for _, r in ipairs(list) do
    if type(r.RegionName) == "string" and ENABLED[r.RegionOptStatus] then set[r.RegionName] = true end
  end
  return set
end

local function from_ec2(opts)
  local o = copy(opts)
  if o.region == nil then
    o.region = require("invite.config").region(o) or _M.DEFAULT_REGION
  end
  local c = require("invite").ec2.client(o)
  local res, err = c:describe_regions{}
  if not res then return nil, err end
  local set = {}
  for _, r in ipairs(res.Regions or {}) do
    -- without AllRegions only enabled regions come back; a not-opted-in one is not kept anyway
    if type(r.RegionName) == "string" and r.OptInStatus ~= "not-opted-in" then set[r.RegionName] = true end
  end
  return set
end

--- The regions the account of the credentials has enabled.
-- @tparam[opt] table opts client options, given to both clients (`credentials`, `endpoint`,
--   `profile`, `region`, `max_attempts`, `max_pages`, `env`, ...). `region` chooses the partition
--   of the Account API (default aws) and the region DescribeRegions is asked in (default: the
--   configured region, else us-east-1).
-- @treturn table set: region name -> true
-- @treturn string source: "account:ListRegions" or "ec2:DescribeRegions"
-- @return the ListRegions error when the answer is DescribeRegions', else nil
-- @return[2] nil
-- @return[2] err an invite error, code `RegionDiscoveryError`, whose message quotes both
--   failures; `account_error` and `ec2_error` hold them
-- @raise when opts is not a table, or holds an option no client knows
function _M.enabled(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("invite.discover.regions.enabled: options must be a table", 2)
  end
  opts = opts or {}
  local set, aerr = from_account(opts)
  if set then return set, _M.SOURCES[1] end
  local set2, eerr = from_ec2(opts)
  if set2 then return set2, _M.SOURCES[2], aerr end
  local e = errors.client("RegionDiscoveryError", "neither source answered: " .. tostring(aerr) .. "; then "
    .. tostring(eerr), { service = "account", operation = "discover.regions" })
  e.account_error, e.ec2_error = aerr, eerr
  return nil, e
end

return _M
