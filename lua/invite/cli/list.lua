-- invite.cli.list: `invite list` - every invitation in the chosen services and regions.
local common = require "invite.cli.common"

local _M = {}

function _M.configure(cmd)
  common.sweep_flags(cmd)
  cmd:epilog("Example: invite list --services guardduty --regions all --json")
end

function _M.run(args)
  local opts, oerr = common.run_options(args)
  if not opts then
    io.stderr:write("invite: ", oerr, "\n")
    return 2
  end
  opts.policy = function() return "keep" end
  local report, err = common.run(opts)
  if not report then
    io.stderr:write("invite: ", err, "\n")
    return 2
  end
  return common.finish(args, report)
end

return _M
