-- invite.cli.decline: `invite decline|delete --service S --region R ID...` - one batched call
-- (split in 50s by the client), with a line per account ID: done, or unprocessed and why. A kind
-- acted on one invitation at a time (Detective, Organizations, RAM) takes invitation IDs or ARNs
-- and makes one call each; it has no delete.
-- An ID argument `-` reads IDs from standard input (lua5.1's interpreter takes fewer than 8,000
-- script arguments; a list of any length fits there).
local _M = {}

-- the per-service names (ID parameter, unprocessed list) are the declaration's `invitations`
local model = require "invite.model"

local function configure(cmd, verb)
  cmd:option("--service", "Service whose invitations to " .. verb .. ": " .. model.join(model.SERVICES, " or ")
    .. ".\nExample: --service securityhub"):count(1)
  cmd:option("--region", "Region of the invitations (default: AWS_REGION / AWS_DEFAULT_REGION / the profile's).\n"
    .. "Example: --region eu-west-1")
  cmd:option("--profile", "Shared-config profile to take credentials and region from.\nExample: --profile audit")
  cmd:option("--endpoint-url", "Send the call to this endpoint (e.g. the simulator).\n"
    .. "Example: --endpoint-url http://127.0.0.1:4566"):argname("<url>")
  cmd:flag("--json", "Print the service's response as JSON instead of one line per account ID.\n"
    .. "Example: --json")
  cmd:argument("ids", "Account IDs (12 digits) that sent the invitations (Detective, Organizations and RAM:\n"
    .. "the invitations' graph ARNs, handshake IDs or invitation ARNs, one call each); - reads more from\n"
    .. "standard input (separated by spaces or newlines), for lists longer than a command line takes.\n"
    .. "Example: 222222222222 333333333333"):args("+")
  require("invite.cli.common").no_repeats(cmd)
  cmd:epilog("Example: invite " .. verb .. " --service guardduty --region us-east-1 222222222222 333333333333")
end

local STDIN_MAX = 8 * 1024 * 1024 -- 600,000 IDs; more is not an ID list

-- args.ids with each "-" replaced by the IDs read from standard input -> ids | nil, message
local function expand_ids(ids)
  local out, read = {}, false
  for _, id in ipairs(ids) do
    if id == "-" then
      if read then return nil, "account IDs: - (standard input) given twice" end
      read = true
      local text = io.stdin:read(STDIN_MAX + 1) or ""
      if #text > STDIN_MAX then
        return nil, ("account IDs: standard input is longer than %d bytes"):format(STDIN_MAX)
      end
      for word in text:gmatch("%S+") do out[#out + 1] = word end
    else
      out[#out + 1] = id
    end
  end
  if #out == 0 then return nil, "account IDs: standard input (-) held none" end
  return out
end

-- A kind acted on one invitation at a time (Detective, Organizations handshakes, RAM): the IDs
-- are invitation IDs or ARNs, one call each; it has no delete. Exit 1 when any call failed.
local function run_each(args, svc, op)
  local printable = require("invite.report").printable
  if op ~= "decline_invitations" then
    io.stderr:write("invite: ", svc.name, " has no delete (", svc.no_delete, "): use invite decline\n")
    return 2
  end
  local spec = svc.decline
  local region = svc.global and (args.region or require("invite.regions").global(svc.name, "aws").signing_region)
    or args.region
  local client = require("invite")[svc.name].client{ region = region, endpoint = args.endpoint_url,
                                                     profile = args.profile }
  local failed, answers = 0, {}
  for _, id in ipairs(args.ids) do
    local res, err = client[spec.operation](client, spec.params_of{ invitation_id = id })
    if not res and type(err) == "table" and err.code == "ValidationError" then
      io.stderr:write("invite: ", printable(err), "\n")
      return 2
    end
    answers[#answers + 1] = res or { error = tostring(err) }
    if not res then failed = failed + 1 end
    if not args.json then
      io.stdout:write(printable(id), "  ", res and "declined" or ("error: " .. printable(err)), "\n")
    end
  end
  if args.json then io.stdout:write(require("cjson").encode(answers), "\n") end
  return failed > 0 and 1 or 0
end

local function run(args, op, done_word)
  local service = args.service
  local svc = model.invitations(service)
  if not svc then
    io.stderr:write("invite: --service '", tostring(service), "': unknown service (",
      table.concat(model.SERVICES, ", "), ")\n")
    return 2
  end
  local common = require "invite.cli.common"
  local fok, ferr = common.check_flags(args)
  if fok and args.region then fok, ferr = common.check_regions("--region", { args.region }) end
  if fok then
    args.ids, ferr = expand_ids(args.ids)
    fok = args.ids ~= nil
  end
  if not fok then
    io.stderr:write("invite: ", ferr, "\n")
    return 2
  end
  if svc.each then return run_each(args, svc, op) end
  local client = require("invite")[service].client{ region = args.region, endpoint = args.endpoint_url,
                                                    profile = args.profile }
  local res, err = client[op](client, { [svc.ids] = args.ids })
  -- a server's error message and unprocessed reasons are escaped and redacted (invite.report.printable)
  local printable = require("invite.report").printable
  if not res then
    io.stderr:write("invite: ", printable(err), "\n")
    return (type(err) == "table" and err.code == "ValidationError") and 2 or 1
  end
  if args.json then
    io.stdout:write(require("cjson").encode(res), "\n")
  end
  local unprocessed = {}
  for _, e in ipairs(res[svc.unprocessed] or {}) do
    unprocessed[e[svc.unprocessed_account]] = svc.reason(e)
  end
  local n = 0
  for _, id in ipairs(args.ids) do
    if unprocessed[id] then n = n + 1 end
    if not args.json then
      io.stdout:write(id, "  ", unprocessed[id] and ("unprocessed: " .. printable(unprocessed[id])) or done_word, "\n")
    end
  end
  return n > 0 and 3 or 0
end

function _M.configure(cmd) configure(cmd, "decline") end
function _M.run(args) return run(args, "decline_invitations", "declined") end
_M.configure_delete = function(cmd) configure(cmd, "delete") end
_M.run_delete = function(args) return run(args, "delete_invitations", "deleted") end

return _M
