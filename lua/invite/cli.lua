-- invite.cli: the `invite` command-line entry point. Parses arguments with lua-argparse and hands
-- over to one module per command, lua/invite/cli/<command>.lua, which exports
--   configure(cmd)  -- declares the command's options on its argparse command
--   run(args)       -- runs it; returns an exit code (0 ok, 1 failure, 2 usage error)
-- Adding a command means adding its module and a line to COMMANDS below.
-- Exit codes: 0 all done, 1 errors, 2 usage (bad flags, bad policy file), 3 some accounts unprocessed.
local argparse = require "argparse"

local _M = { _VERSION = require "invite.version" }

-- name, one-line summary (shown in `invite --help`)
_M.COMMANDS = {
  { "plan", "Show what a policy would do to every invitation; sends no mutating call." },
  { "apply", "Run a policy and carry out its decisions (batched), with a report and an audit log." },
  { "list", "List every invitation in the chosen services and regions." },
  { "count", "Count invitations per service and region." },
  { "decline", "Decline the invitations sent by the given account IDs." },
  { "delete", "Delete the invitations sent by the given account IDs." },
  { "accept", "Accept one invitation, by its ID or ARN or by the account that sent it." },
  { "audit", "Check an audit log: `invite audit verify FILE` says whether it is complete and unbroken." },
  { "whoami", "Show the account, ARN and user ID of the credentials invite uses (STS GetCallerIdentity)." },
  { "sim", "Run the local AWS simulator ({services} invitation APIs and STS)." }, -- {services}: model.SERVICES
}

-- Commands that ship in a rock of their own: command -> rock. Without that rock installed the
-- command is still listed, and running it says what to install (exit 2).
_M.OPTIONAL = { sim = "invite-sim" }

-- The command's module, or nil and a message when it belongs to a rock that is not installed.
local function load_command(name)
  local rock = _M.OPTIONAL[name]
  if not rock then return require("invite.cli." .. name) end
  local module = "invite.cli." .. name
  local ok, mod = pcall(require, module)
  if ok then return mod end
  if not tostring(mod):find("module '" .. module .. "' not found", 1, true) then error(mod, 0) end
  return nil, ("`invite %s` needs the %s rock, which is not installed beside invite: install it "
    .. "into the same tree (from a source checkout: luarocks make %s-scm-1.rockspec)"):format(name, rock, rock)
end

--- The argparse parser of the whole CLI.
-- @tparam[opt] string only configure only this command's options (the others are declared with
--   their summaries, enough for `invite --help` and for naming an unknown command); nil configures
--   every command (the manual page generator walks them all). Loading and configuring all seven
--   command modules costs about 2 ms, a seventh of a one-shot `invite decline`.
-- @return the parser
function _M.parser(only)
  local model = require "invite.model"
  local parser = argparse("invite",
    "Decline, delete or accept AWS " .. model.titles() .. " invitations by policy.")
  parser:command_target("command")
  parser:require_command(true)
  parser:flag("--version", "Print the version and exit.\nExample: invite --version"):action(function()
    io.stdout:write("invite ", _M._VERSION, "\n")
    os.exit(0)
  end)
  parser:epilog("Run `invite <command> --help` for the flags of one command.\n"
    .. "Exit codes: 0 all done, 1 errors, 2 usage (bad flags, a policy file that does not load), "
    .. "3 some accounts unprocessed. The table (or --json) goes to stdout, the summary and errors to stderr.\n"
    .. "Example: invite plan examples/policy.lua --regions us-east-1,eu-west-1")
  for _, c in ipairs(_M.COMMANDS) do
    local cmd = parser:command(c[1], (c[2]:gsub("{services}", table.concat(model.SERVICES, ", "))))
    if only == nil or only == c[1] then
      local mod = load_command(c[1])
      if mod then mod.configure(cmd) end
    end
  end
  return parser
end

-- A word that looks like a negative number ("-1", "-0.5", "-.5"): never an option name (no
-- option of invite is a dash and a digit).
local function negative_number(word)
  return type(word) == "string" and word:find("^%-%.?%d") ~= nil
end

-- argparse takes any word starting with '-' for an option, so `--concurrency -1` failed with
-- "unknown option '-1'" instead of the flag's own rule. An option that takes a value, followed by
-- a negative-number-looking word, is rewritten to `--option=-1` (which argparse reads as the
-- value), so the flag's check reports it. Words after "--" are left alone.
local function join_negative_values(parser, argv)
  local takes_value = {}
  local function collect(p)
    for _, o in ipairs(p._options or {}) do
      if (o._maxargs or 0) >= 1 then
        for _, name in ipairs(o._aliases or {}) do takes_value[name] = true end
      end
    end
    for _, c in ipairs(p._commands or {}) do collect(c) end
  end
  collect(parser)
  local out, i = {}, 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" then
      for j = i, #argv do out[#out + 1] = argv[j] end
      break
    end
    if takes_value[a] and a:sub(1, 2) == "--" and negative_number(argv[i + 1]) then
      out[#out + 1] = a .. "=" .. argv[i + 1]
      i = i + 2
    else
      out[#out + 1] = a
      i = i + 1
    end
  end
  return out
end

-- Runs the CLI with an argument list (without the program name). Returns an exit code.
function _M.main(argv)
  argv = argv or {}
  -- The root takes flags only (--version, -h), so the first other word names the command.
  local only = ""
  for _, a in ipairs(argv) do
    if a:sub(1, 1) ~= "-" then only = a break end
  end
  if _M.OPTIONAL[only] then
    local mod, why = load_command(only)
    if not mod then
      io.stderr:write("invite: ", why, "\n")
      return 2
    end
  end
  local parser = _M.parser(only)
  local ok, args = parser:pparse(join_negative_values(parser, argv))
  if not ok then
    io.stderr:write(parser:get_usage(), "\n\ninvite: error: ", tostring(args), "\n")
    return 2
  end
  args._argv = argv -- as typed: the audit log's start line records it (redacted)
  return load_command(args.command).run(args) or 0
end

return _M
