-- invite.cli.plan: `invite plan POLICY.lua` - list every invitation and show what the policy
-- would do; sends no mutating call. `invite apply` shares this module with apply = true.
local common = require "invite.cli.common"

local _M = {}

local function configure(cmd, apply)
  cmd:argument("policy", "Policy file: Lua returning a function, or a table with decide (and optional "
    .. "services, regions, accounts, role).\nExample: examples/policy.lua")
  common.sweep_flags(cmd)
  cmd:epilog(apply and "Example: invite apply examples/policy.lua --regions us-east-1 --audit-log audit.jsonl"
    or "Example: invite plan examples/policy.lua --regions us-east-1,eu-west-1")
end

local function run(args, apply)
  local policy, perr = require("invite.policy").load(args.policy)
  if not policy then
    io.stderr:write("invite: ", perr, "\n")
    return 2
  end
  local opts, oerr = common.run_options(args, policy)
  if not opts then
    io.stderr:write("invite: ", oerr, "\n")
    return 2
  end
  opts.policy, opts.apply = policy, apply
  -- the audit log's start line names the policy by its bytes and the command line (redacted)
  local audit = require "invite.audit"
  opts.audit_meta = { policy = audit.file_digest(args.policy), argv = audit.command_line(args._argv),
                      cwd = os.getenv("PWD") }
  if not args.quiet and common.stderr_is_tty() then
    opts.on_progress = function(done, total)
      io.stderr:write(("\r%d/%d scopes"):format(done, total))
      if done == total then io.stderr:write("\n") end
    end
  end
  local report, err = common.run(opts)
  if not report then
    io.stderr:write("invite: ", err, "\n")
    return 2
  end
  return common.finish(args, report)
end

function _M.configure(cmd) configure(cmd, false) end
function _M.run(args) return run(args, false) end
_M.configure_apply = function(cmd) configure(cmd, true) end
_M.run_apply = function(args) return run(args, true) end

return _M
