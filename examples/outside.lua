-- examples/outside.lua: say no to what comes from outside. AWS RAM resource shares whose sender
-- is not an account of our organisation are declined (rejected); so are invitations to join an
-- organisation whose management account we do not know (AWS Organizations INVITE handshakes).
-- Shares from inside the organisation, and everything else, are kept for a person to review.
--
--   invite plan examples/outside.lua --regions enabled
--
-- Whether a share's sender is inside the organisation (inv.from_organization) comes from
-- Organizations ListAccounts: run it with credentials that may list the organisation's accounts
-- (its management account or a delegated administrator). Elsewhere that is unknown (nil), and
-- such a share is kept, not declined on a guess.
local KNOWN_MANAGEMENT = {
  ["111111111111"] = "our own organisation's management account",
}

return {
  services = { "ram", "organizations" },
  decide = function(inv)
    if inv.service == "ram" then
      local what = inv.share_name and ("'" .. inv.share_name .. "'") or "a resource share"
      local types = inv.resource_types and #inv.resource_types > 0
        and (" (" .. table.concat(inv.resource_types, ", ") .. ")") or ""
      if inv.from_organization == false then
        return "decline", what .. types .. " shared by " .. inv.account_id .. ", outside our organisation"
      elseif inv.from_organization == nil then
        return "keep", "cannot tell whether " .. inv.account_id .. " is in our organisation"
      end
      return "keep", what .. " shared from inside our organisation"
    end
    if inv.service == "organizations" then -- an INVITE handshake: join the organisation inv.organization_id
      local known = KNOWN_MANAGEMENT[inv.management_account]
      if known then return "keep", known end
      return "decline", "invitation to " .. tostring(inv.organization_id) .. " from unknown management account "
        .. tostring(inv.management_account)
    end
    return "keep"
  end,
}
