-- invite.cli.count: `invite count` - GetInvitationsCount per service and region (a kind without
-- one, e.g. RAM: its open invitations, listed).
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
  local model = require "invite.model"
  for _, service in ipairs(opts.services or {}) do
    if not model.invitations(service) then
      io.stderr:write("invite: unknown service '", service, "' (", table.concat(model.SERVICES, ", "), ")\n")
      return 2
    end
  end
  -- the same scopes as invite list/plan: who am I, the accounts, their role sessions and regions
  local ok, plan = pcall(runner.plan, opts)
  if not ok then
    io.stderr:write("invite: ", (tostring(plan):gsub("^[^:]*:%d+: ", "")), "\n")
    return 2
  end
  local invite = require "invite"
  local rows, tasks = {}, {}
  for _, scope in ipairs(plan.scopes) do
    local names = model.invitations(scope.service)
    local row = { service = scope.service, region = scope.region, account = scope.account }
    rows[#rows + 1] = row
    tasks[#tasks + 1] = function()
      local c = invite[scope.service].client{ region = scope.client_region or scope.region, endpoint = opts.endpoint,
                                              profile = opts.profile, credentials = scope.credentials }
      if names.count then
        local res, err = c:get_invitations_count{}
        if res then row.count = res[names.count] else row.error = tostring(err) end
      else
        -- a kind with no count operation: its open invitations, listed (every page)
        local list, err = c[names.list_all](c, {})
        if not list then
          row.error = tostring(err)
        else
          local n = 0
          for _, raw in ipairs(list) do
            if not names.open or names.open[raw[names.status]] then n = n + 1 end
          end
          row.count = n
        end
      end
    end
  end
  require("invite.scheduler").run(tasks, { concurrency = opts.concurrency })
  local failed = #plan.errors
  local printable = require("invite.report").printable
  if args.json then
    io.stdout:write(require("cjson").encode(rows), "\n")
  else
    io.stdout:write(("%-14s %-16s %-14s %s\n"):format("SERVICE", "REGION", "ACCOUNT", "INVITATIONS"))
    for _, r in ipairs(rows) do
      -- a server's error message is escaped and redacted (invite.report.printable)
      io.stdout:write(("%-14s %-16s %-14s %s\n"):format(r.service, r.region, r.account or "-",
        r.count or ("error: " .. printable(r.error))))
    end
  end
  if not args.quiet then
    for _, e in ipairs(plan.errors) do io.stderr:write("error: ", printable(e), "\n") end
    for _, line in ipairs(require("invite.scope").skipped_lines(plan)) do io.stderr:write(line, "\n") end
  end
  for _, r in ipairs(rows) do if r.error then failed = failed + 1 end end
  return failed > 0 and 1 or 0
end

return _M
