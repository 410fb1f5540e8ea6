-- invite.cli.delete: `invite delete --service S --region R ID...` (see invite.cli.decline).
local decline = require "invite.cli.decline"
return { configure = decline.configure_delete, run = decline.run_delete }
