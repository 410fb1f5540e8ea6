-- invite.cli.apply: `invite apply POLICY.lua` - like plan, then carries the decisions out.
local plan = require "invite.cli.plan"
return { configure = plan.configure_apply, run = plan.run_apply }
