-- examples/stale.lua: decline-then-delete invitations older than N days (default 30,
-- INVITE_STALE_DAYS to change it); newer ones are kept for a human to look at.
local days = tonumber(os.getenv("INVITE_STALE_DAYS") or "30")

return function(inv)
  if inv.age_days == nil then return "keep", "no invitation date" end
  if inv.age_days > days then
    return "decline_and_delete", string.format("older than %d days (%d)", days, math.floor(inv.age_days))
  end
  return "keep", string.format("%d days old", math.floor(inv.age_days))
end
