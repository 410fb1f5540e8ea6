-- invite.sim.regions: where the simulator answers a service. AWS answers a service only in the
-- regions where it exists, and an account only in the regions it has enabled (an opt-in region
-- it has not enabled answers UnrecognizedClientException). `refusal` is asked once per
-- authenticated request, before the operation runs.
local rest = require "invite.sim.rest"

local _M = {}

--- The opt-in regions of the aws partition: disabled for an account until it enables them (AWS
-- docs, "Specify which AWS Regions your account can use": the regions introduced after 20 March
-- 2019). Every other region of every partition is enabled by default. A fixture account lists
-- the ones it has enabled in `enabled_regions`.
_M.OPT_IN = {}
for r in ([[af-south-1 ap-east-1 ap-east-2 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5
  ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-1 eu-south-2 il-central-1 me-central-1
  me-south-1 mx-central-1]]):gmatch("%S+") do _M.OPT_IN[r] = true end

--- The opt-in regions, sorted.
function _M.opt_in_list()
  local list = {}
  for r in pairs(_M.OPT_IN) do list[#list + 1] = r end
  table.sort(list)
  return list
end

--- The partition of a region (invite.regions: botocore's table, else its name patterns).
function _M.partition(region)
  return require("invite.regions").partition(region)
end

--- Every region of the partition `region` belongs to, sorted, each with the account's status:
-- `{ name, opt_in = bool, enabled = bool }`. `account` is the fixture's account (its
-- `enabled_regions` set), or nil.
function _M.of_partition(region, account)
  local enabled = account and account.enabled_regions or {}
  local out = {}
  for _, name in ipairs(require("invite.regions").all(_M.partition(region))) do
    local opt_in = _M.OPT_IN[name] == true
    out[#out + 1] = { name = name, opt_in = opt_in, enabled = not opt_in or enabled[name] == true }
  end
  return out
end

--- Whether `account` (a fixture account ID) may use `region`: every region but an opt-in one it
-- has not enabled.
function _M.enabled(sim, account, region)
  if not _M.OPT_IN[region] then return true end
  local a = account and sim.state:account(account)
  return a ~= nil and a.enabled_regions ~= nil and a.enabled_regions[region] == true
end

-- An opt-in region the calling account has not enabled: AWS's front door there does not know the
-- caller's credentials, so the request is answered as one signed with an unknown key, in the
-- service's own style (rest-json services and Account: 403 UnrecognizedClientException "The
-- security token included in the request is invalid."; STS: 403 InvalidClientTokenId; EC2: 401
-- AuthFailure).
local function not_enabled(sim, r)
  if not r.account or not r.region or _M.enabled(sim, r.account, r.region) then return nil end
  local failure = { kind = "unknown_key", message = "The security token included in the request is invalid." }
  if r.other then return r.other.auth_error(failure, r.rid) end
  return rest.auth_error(r.svc, failure, r.rid)
end

--- Whether the simulator serves the invitation service `service` in `region`: where it exists
-- (invite.regions, botocore's table). A region the table does not know serves nothing; a service
-- the table does not list at all (declared after it was generated) is served in every region the
-- table knows. The fixture checker asks it too.
-- @treturn boolean
function _M.exists(service, region)
  local regions = require "invite.regions"
  return regions.known(region) and (not regions.listed(service) or regions.exists(service, region))
end

-- Where the service does not exist, AWS has no endpoint (an SDK fails to resolve the host); the
-- simulator, reached on one address, answers 404 UnknownEndpoint in the service's style instead
-- (docs/simulator.md, "Limits and deliberate differences").
local function no_endpoint(r)
  if not r.svc or type(r.region) ~= "string" or _M.exists(r.service, r.region) then return nil end
  local def = require("invite.model").service(r.service).def
  local host = (def.endpoint_prefix or r.service) .. "." .. r.region .. "."
    .. require("invite.config").partition(r.region).dns
  return rest.error(r.svc, 404, "UnknownEndpoint", "invite sim: " .. r.service .. " does not exist in " .. r.region
    .. " (no endpoint " .. host .. ")", r.rid)
end

--- The answer refusing a request in its region, or nil when the request may be served.
-- @tparam table sim the simulator (fixture, state)
-- @tparam table r `service`, `other` (module of a service without invitations) or `svc` (an
--   invitation service's), `region`, `account` (the caller's), `rid`
-- @return response or nil
function _M.refusal(sim, r)
  return no_endpoint(r) or not_enabled(sim, r)
end

return _M
