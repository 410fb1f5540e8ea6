-- examples/accept_admin.lua: accept the organisation administrator's invitation and decline
-- all others. Two invitations from the admin in one scope stop that scope (invite refuses
-- to accept twice).
local ORG_ADMIN = os.getenv("INVITE_ORG_ADMIN") or "111111111111"

return function(inv)
  if inv.account_id == ORG_ADMIN then return "accept", "organisation administrator" end
  return "decline", "not the organisation administrator"
end
