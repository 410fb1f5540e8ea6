-- invite.cli.common: the flags shared by plan, apply, list and count, and their parsing into
-- invite.run options. Errors are plain strings for the CLI to print with exit code 2.
local _M = {}
local redact = require "invite.redact"

local function split(s)
  local out = {}
  for item in tostring(s):gmatch("[^,%s]+") do out[#out + 1] = item end
  return out
end
_M.split = split

--- A flag's value as a message shows it: a number as it was typed (`-1`), anything else quoted,
-- cut at 40 bytes and escaped (invite.report.escape), e.g. `'lots'`.
-- @return string
function _M.shown(v)
  v = tostring(v)
  if tonumber(v) and #v <= 24 and v:find("^[%w.+-]+$") then return v end
  if #v > 40 then v = v:sub(1, 40) .. "..." end
  return "'" .. require("invite.report").escape(v) .. "'"
end

--- Declare the common flags on an argparse command.
function _M.sweep_flags(cmd)
  cmd:option("--services", "Comma-separated services among " .. table.concat(require("invite.model").SERVICES, ", ")
    .. " (default: the policy's, else all).\nExample: --services macie2,guardduty"):argname("<list>")
  cmd:option("--regions", "Comma-separated regions; 'all' (every region where each service exists in your "
    .. "partition) or 'enabled' (those of them each account has enabled) (default: the policy's, else "
    .. "AWS_REGION / AWS_DEFAULT_REGION / the profile's region).\nExample: --regions enabled"):argname("<list>")
  cmd:option("--unlisted-region", "Accept this region though invite's region table does not know it yet "
    .. "(repeatable or comma-separated).\nExample: --unlisted-region xx-newreg-1"):argname("<region>"):count("*")
  cmd:option("--profile", "Shared-config profile to take credentials and region from.\nExample: --profile audit")
  cmd:option("--endpoint-url", "Send every call to this endpoint (e.g. the simulator).\n"
    .. "Example: --endpoint-url http://127.0.0.1:4566"):argname("<url>")
  cmd:option("--accounts", "Comma-separated account IDs to sweep by assuming --role in each, or 'org': "
    .. "every ACTIVE account of your AWS Organizations organisation (your own account with your own "
    .. "credentials).\nExample: --accounts org"):argname("<list>")
  cmd:option("--ou", "With --accounts org: only the accounts under these roots or OUs, recursively "
    .. "(comma-separated).\nExample: --ou ou-ab12-34cd56ef"):argname("<list>")
  cmd:option("--exclude-accounts", "With --accounts org: account IDs not to sweep (comma-separated).\n"
    .. "Example: --exclude-accounts 999999999999"):argname("<list>")
  cmd:option("--role", "Role name or ARN template ({account}) assumed in each of --accounts "
    .. "(once per account per run).\nExample: --role InviteAuditor"):argname("<role>")
  cmd:option("--external-id", "The ExternalId the role's trust policy asks for.\n"
    .. "Example: --external-id audit-7c1e4b"):argname("<id>")
  cmd:option("--concurrency", "Scopes (service x region x account) in flight at once (default 32).\n"
    .. "Example: --concurrency 4", "32"):show_default(false)
  cmd:flag("--json", "Print the report as JSON on stdout instead of a table.\n"
    .. "Example: invite list --json > invitations.json")
  cmd:option("--audit-log", "Append an audit log (JSON lines, fsync'd) to this file.\n"
    .. "Example: --audit-log /var/log/invite/audit.jsonl"):argname("<file>")
  cmd:flag("--quiet", "No summary, progress or per-scope error lines on stderr (usage errors still print).\n"
    .. "Example: invite apply policy.lua --quiet --json")
  _M.no_repeats(cmd)
end

--- A single-valued option given twice is a conflict (argparse would keep the last one silently):
-- "option '--regions' must be used at most 1 time". Call after declaring the options.
function _M.no_repeats(cmd)
  for _, o in ipairs(cmd._options or {}) do
    if o._maxcount == 1 and o._maxargs == 1 then o:overwrite(false) end
  end
end

--- Check the flags every command shares before anything is sent: --endpoint-url is an
-- http(s) URL, the shared config files parse, and the profile (--profile, AWS_PROFILE) exists.
-- @return true or nil, message
function _M.check_flags(args)
  local config = require "invite.config"
  if args.endpoint_url then
    local ok, e = config.check_endpoint_url(args.endpoint_url, "--endpoint-url")
    if not ok then return nil, tostring(e.message or e) end
  end
  local p, e = config.profile_config{ profile = args.profile }
  if not p then
    return nil, (args.profile and ("--profile " .. args.profile .. ": ") or "") .. tostring(e.message or e)
  end
  return true
end

--- Regions given on the command line, checked like invite.run does (invite.regions.check): a
-- name the region table does not know is refused with the closest one, unless it is unlisted.
-- @treturn {string,...} the regions, or nil and a message naming `flag`
function _M.check_regions(flag, list, unlisted)
  local ok, err = require("invite.regions").check(list, { field = flag, unlisted = unlisted })
  if not ok then
    -- a flag of one region (--region) is named without an index
    if flag == "--region" then err = err:gsub("^%-%-region%[1%] = ", "--region ") end
    return nil, err
  end
  return list
end

--- The --unlisted-region values (repeated, or comma-separated), or nil.
function _M.unlisted(args)
  local out = {}
  for _, v in ipairs(args.unlisted_region or {}) do
    for _, r in ipairs(split(v)) do out[#out + 1] = r end
  end
  return #out > 0 and out or nil
end

--- Turn parsed flags (and policy defaults) into invite.run options.
-- @return opts or nil, message
function _M.run_options(args, policy)
  local fok, ferr = _M.check_flags(args)
  if not fok then return nil, ferr end
  local opts = { endpoint = args.endpoint_url, profile = args.profile, audit_log = args.audit_log }
  if args.services then opts.services = split(args.services) end
  opts.unlisted_regions = _M.unlisted(args)
  if args.regions then
    local word = args.regions
    opts.regions = (word == "all" or word == "enabled") and word or split(word)
    if type(opts.regions) == "table" then
      if #opts.regions == 0 then return nil, "--regions: give at least one region, 'all' or 'enabled'" end
      for _, r in ipairs(opts.regions) do
        if r == "all" or r == "enabled" then
          return nil, "--regions: '" .. r .. "' stands alone, not in a list of regions"
        end
      end
      local ok, rerr = _M.check_regions("--regions", opts.regions, opts.unlisted_regions)
      if not ok then return nil, rerr end
    end
  elseif not (policy and policy.regions) then
    local region, err = require("invite.config").region{ profile = args.profile }
    if not region then return nil, "no region: pass --regions, set one in the policy, or set AWS_REGION ("
      .. tostring(err and err.message or err) .. ")" end
    opts.regions = { region }
  end
  if args.accounts then
    local word = args.accounts
    opts.accounts = (word == "org" or word == "organization") and "organization" or split(word)
    if type(opts.accounts) == "table" and #opts.accounts == 0 then
      return nil, "--accounts: give account IDs or 'org'"
    end
    if not args.role and not (policy and policy.role) then return nil, "--accounts needs --role" end
  end
  if (args.ou or args.exclude_accounts) and opts.accounts ~= "organization" then
    return nil, (args.ou and "--ou" or "--exclude-accounts") .. " needs --accounts org"
  end
  if args.ou then opts.ous = split(args.ou) end
  if args.exclude_accounts then opts.exclude_accounts = split(args.exclude_accounts) end
  opts.role = args.role
  opts.external_id = args.external_id
  local c = tonumber(args.concurrency)
  if not c or c < 1 or c % 1 ~= 0 then
    return nil, "--concurrency must be a whole number >= 1, got " .. _M.shown(args.concurrency)
  end
  opts.concurrency = c
  return opts
end

--- True when file descriptor 2 is a terminal (for the progress line).
function _M.stderr_is_tty()
  local ok = os.execute("test -t 2")
  return ok == true or ok == 0
end

--- Run invite.run, translating misuse errors into a usage message.
-- @return report or nil, message
function _M.run(opts)
  local runner = require "invite.runner"
  local ok, report = pcall(runner.run, opts)
  if not ok then return nil, tostring(report):gsub("^[^:]*:%d+: ", "") end
  return report
end

--- Print a report (table or JSON) and the summary; return the exit code. The table's cells and
-- the error lines (which quote servers' messages) go through invite.report.printable.
function _M.finish(args, report)
  local runner = require "invite.runner"
  local render = require "invite.report"
  -- whatever a server put in any field, the caller's own secrets are not printed (invite.redact)
  io.stdout:write(redact.text(args.json and render.json(report) or render.table(report)))
  if not args.quiet then
    io.stderr:write(runner.summary(report), "\n")
    for _, line in ipairs(require("invite.scope").skipped_lines(report)) do io.stderr:write(line, "\n") end
    for _, w in ipairs(report.warnings or {}) do io.stderr:write("warning: ", render.printable(w), "\n") end
    for _, e in ipairs(report.errors) do io.stderr:write("error: ", render.printable(e), "\n") end
  elseif report.audit_error then
    -- even --quiet says why the run stopped making calls
    io.stderr:write("error: ", render.printable(report.errors[1]), "\n")
  end
  return runner.exit_code(report)
end

return _M
