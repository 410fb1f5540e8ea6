-- invite.cli.whoami: `invite whoami` - the account, ARN and user ID of the credentials invite
-- would use (STS GetCallerIdentity), as a table or --json.
local common = require "invite.cli.common"

local _M = {}

function _M.configure(cmd)
  cmd:option("--profile", "Shared-config profile to take credentials and region from.\nExample: --profile audit")
  cmd:option("--region", "Region of the STS endpoint (default: AWS_REGION / the profile's, else the global "
    .. "endpoint).\nExample: --region eu-west-1")
  cmd:option("--endpoint-url", "Send the call to this endpoint (e.g. the simulator).\n"
    .. "Example: --endpoint-url http://127.0.0.1:4566"):argname("<url>")
  cmd:flag("--json", "Print {Account, Arn, UserId, Partition} as JSON.\nExample: invite whoami --json")
  common.no_repeats(cmd)
  cmd:epilog("Example: invite whoami --profile audit")
end

function _M.run(args)
  local ok, err = common.check_flags(args)
  if ok and args.region then ok, err = common.check_regions("--region", { args.region }) end
  if not ok then
    io.stderr:write("invite: ", err, "\n")
    return 2
  end
  local id, werr = require("invite.scope").whoami{ profile = args.profile, region = args.region,
                                                   endpoint = args.endpoint_url }
  local printable = require("invite.report").printable
  if not id then
    io.stderr:write("invite: who am I (STS GetCallerIdentity): ", printable(werr), "\n")
    return 1
  end
  if args.json then
    local cjson = require "cjson"
    io.stdout:write(cjson.encode{ Account = id.account, Arn = id.arn, UserId = id.user_id,
                                  Partition = id.partition }, "\n")
  else
    for _, row in ipairs{ { "Account", id.account }, { "Arn", id.arn }, { "UserId", id.user_id },
                          { "Partition", id.partition } } do
      io.stdout:write(("%-10s %s\n"):format(row[1], printable(tostring(row[2] or "-"))))
    end
  end
  return 0
end

return _M
