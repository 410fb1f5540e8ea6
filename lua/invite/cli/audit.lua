-- invite.cli.audit: `invite audit verify FILE` - checks an audit log (invite.audit.verify): the
-- hash chain line to line, each run's start and end, one outcome per decision. Exit 0 complete
-- and unbroken, 1 broken or incomplete (each problem on a line of its own, with its line
-- number), 2 usage (no such file).
local _M = {}

function _M.configure(cmd)
  cmd:argument("action", "What to do with the log: verify (checks it; the only action).\n"
    .. "Example: invite audit verify audit.jsonl"):choices{ "verify" }
  cmd:argument("file", "The audit log (JSON lines, as --audit-log writes them).\n"
    .. "Example: /var/log/invite/audit.jsonl")
  cmd:option("--head", "A line hash printed by an earlier verify (its head: line) that the log must still "
    .. "hold: the lines up to it are then as they were.\nExample: --head 3b1f...e9 (64 hex digits)")
    :argname("<sha256>")
  cmd:flag("--json", "Print the result as JSON (ok, unbroken, complete, runs, problems, head).\n"
    .. "Example: invite audit verify audit.jsonl --json | jq .problems")
  cmd:epilog("Exit codes: 0 the log is complete and unbroken, 1 broken or incomplete (each problem with "
    .. "its line number and the rule it breaks), 2 usage (no such file).\n"
    .. "Example: invite audit verify /var/log/invite/audit.jsonl")
  require("invite.cli.common").no_repeats(cmd)
end

function _M.run(args)
  local audit = require "invite.audit"
  local printable = require("invite.report").printable
  if args.head and not (#args.head == 64 and args.head:find("^%x+$")) then
    io.stderr:write("invite: --head must be a SHA-256 in hex (as verify prints it), got ",
      require("invite.cli.common").shown(args.head), "\n")
    return 2
  end
  local res, err = audit.verify(args.file, { head = args.head and args.head:lower() })
  if not res then
    io.stderr:write("invite: ", printable(err), "\n")
    return 2
  end
  if args.json then
    io.stdout:write(require("cjson").encode(res), "\n")
  else
    -- a hostile log's run IDs and file names are shown escaped
    for line in audit.verify_text(res):gmatch("([^\n]*)\n") do io.stdout:write(printable(line), "\n") end
  end
  return res.ok and 0 or 1
end

return _M
