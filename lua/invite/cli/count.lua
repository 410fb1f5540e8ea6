-- invite.cli.count: `invite count` - GetInvitationsCount per service and region.
local common = require "invite.cli.common"

local _M = {}

function _M.configure(cmd)
  common.sweep_flags(cmd)
  cmd:epilog("Example: invite count --regions us-east-1,eu-west-1")
end

function _M.run(args)
  local opts, oerr = common.run_options(args)
  if not opts then
    io.stderr:write("invite: ", oerr, "\n")
    return 2
  end
  local runner = require "invite.runner"
  local regions = opts.regions == "all" and runner.ALL_REGIONS or opts.regions
  local invite = require "invite"
  local services = opts.services or invite.services
  local rows, tasks = {}, {}
  local model = require "invite.model"
  for _, service in ipairs(services) do
    local names = model.invitations(service)
    if not names then
      io.stderr:write("invite: unknown service '", service, "' (", table.concat(model.SERVICES, ", "), ")\n")
      return 2
    end
    for _, region in ipairs(regions) do
      local row = { service = service, region = region }
      rows[#rows + 1] = row
      tasks[#tasks + 1] = function()
        local c = invite[service].client{ region = region, endpoint = opts.endpoint, profile = opts.profile }
        local res, err = c:get_invitations_count{}
        if res then row.count = res[names.count] else row.error = tostring(err) end
      end
    end
  end
  require("invite.scheduler").run(tasks, { concurrency = opts.concurrency })
  local failed = 0
  if args.json then
    io.stdout:write(require("cjson").encode(rows), "\n")
  else
    io.stdout:write(("%-12s %-16s %s\n"):format("SERVICE", "REGION", "INVITATIONS"))
    for _, r in ipairs(rows) do
      -- a server's error message is escaped and redacted (invite.report.printable)
      io.stdout:write(("%-12s %-16s %s\n"):format(r.service, r.region,
        r.count or ("error: " .. require("invite.report").printable(r.error))))
    end
  end
  for _, r in ipairs(rows) do if r.error then failed = failed + 1 end end
  return failed > 0 and 1 or 0
end

return _M
