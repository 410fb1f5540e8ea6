-- examples/allow_list.lua: keep invitations from the allow-listed administrator accounts,
-- decline every other one. Nothing is accepted automatically.
local ALLOWED = {
  ["111111111111"] = "organisation administrator",
}

return function(inv)
  local why = ALLOWED[inv.account_id]
  if why then return "keep", why end
  return "decline", "inviter " .. inv.account_id .. " is not on the allow-list"
end
