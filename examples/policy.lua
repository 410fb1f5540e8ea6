-- examples/policy.lua: the demo policy (`make demo`), over every kind of invitation (Macie,
-- Security Hub, GuardDuty, Detective, Organizations handshakes, RAM shares).
-- Accept the organisation's administrator, decline and delete strangers' invitations older
-- than 30 days, decline the recent ones (keep them visible for review). Detective, Organizations
-- and RAM have no delete: there the old ones are declined, and the outcome says so.
local ORG_ADMIN = "111111111111"
local STALE_DAYS = 30

return {
  regions = { "us-east-1", "eu-west-1" },
  decide = function(inv)
    if inv.account_id == ORG_ADMIN then
      return "accept", "organisation administrator"
    end
    if inv.age_days and inv.age_days > STALE_DAYS then
      return "decline_and_delete", string.format("stranger, %d days old", math.floor(inv.age_days))
    end
    return "decline", "not our organisation"
  end,
}
