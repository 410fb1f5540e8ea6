-- invite.cli.accept: `invite accept --service S --region R ID` - accepts one invitation: ID is the
-- invitation's ID or ARN (a Detective graph ARN, a handshake ID, a RAM invitation ARN, a Macie or
-- GuardDuty invitation ID) or the inviting account's ID. It runs invite.run in apply mode with a
-- policy that accepts that one invitation and keeps the rest, so the accept goes through the same
-- steps as a policy's (the GuardDuty detector lookup, the audit log, one outcome each).
local common = require "invite.cli.common"
local model = require "invite.model"

local _M = {}

function _M.configure(cmd)
  cmd:option("--service", "Service of the invitation: " .. model.join(model.SERVICES, " or ")
    .. ".\nExample: --service ram"):count(1)
  cmd:option("--region", "Region of the invitation (Organizations is global: not needed) (default: AWS_REGION /\n"
    .. "AWS_DEFAULT_REGION / the profile's).\nExample: --region eu-west-1")
  cmd:option("--profile", "Shared-config profile to take credentials and region from.\nExample: --profile audit")
  cmd:option("--endpoint-url", "Send the calls to this endpoint (e.g. the simulator).\n"
    .. "Example: --endpoint-url http://127.0.0.1:4566"):argname("<url>")
  cmd:option("--audit-log", "Append an audit log (JSON lines, fsync'd) to this file.\n"
    .. "Example: --audit-log audit.jsonl"):argname("<file>")
  cmd:flag("--json", "Print the report as JSON on stdout instead of a table.\nExample: --json")
  cmd:flag("--quiet", "No summary on stderr.\nExample: --quiet")
  cmd:argument("id", "The invitation's ID or ARN, or the 12-digit ID of the account that sent it.\n"
    .. "Example: arn:aws:ram:us-east-1:999999999999:resource-share-invitation/...")
  common.no_repeats(cmd)
  cmd:epilog("Example: invite accept --service guardduty --region us-east-1 222222222222")
end

function _M.run(args)
  local svc = model.invitations(args.service)
  if not svc then
    io.stderr:write("invite: --service '", tostring(args.service), "': unknown service (",
      table.concat(model.SERVICES, ", "), ")\n")
    return 2
  end
  local id = args.id
  if id == "" then
    io.stderr:write("invite: the invitation ID must not be empty\n")
    return 2
  end
  args.services, args.regions, args.concurrency = args.service, args.region, "1"
  local opts, oerr = common.run_options(args)
  if not opts then
    io.stderr:write("invite: ", oerr, "\n")
    return 2
  end
  local matched = 0
  opts.apply = true
  opts.policy = function(inv)
    if inv.invitation_id == id or inv.account_id == id then
      matched = matched + 1
      return "accept", "invite accept " .. id
    end
    return "keep", "not the invitation to accept"
  end
  local report, err = common.run(opts)
  if not report then
    io.stderr:write("invite: ", err, "\n")
    return 2
  end
  -- the table shows the accepted invitation; the summary still counts the ones kept
  local shown = {}
  for _, rec in ipairs(report.invitations) do
    if rec.action == "accept" then shown[#shown + 1] = rec end
  end
  report.invitations = shown
  local code = common.finish(args, report)
  if matched == 0 then
    io.stderr:write("invite: no open invitation ", require("invite.report").printable(id), " in ", svc.name, " ",
      svc.global and "(global)" or tostring(args.region or opts.regions[1]), "\n")
    return 1
  end
  return code
end

return _M
