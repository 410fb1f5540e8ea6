-- invite.cli.sim: `invite sim` - runs the local AWS simulator in the foreground.
--
--   invite sim --fixtures FILE | --example [--host 127.0.0.1] [--port N] [--faults SPEC] [--seed N] [--log FILE]
--              [--exit-with-parent] [--tls-cert FILE --tls-key FILE]
--
-- On start it prints one line, `invite sim listening on http(s)://HOST:PORT (pid N)`, and flushes
-- stdout; nothing else goes to stdout. It stops on SIGINT (clean shutdown), on POST /__sim/stop,
-- or on SIGTERM (the request log is flushed line by line, so nothing is lost). --example serves the
-- example organisation installed with invite (invite.examples: the checkout's examples/, or the
-- invite rock's copy in its tree), so that the simulator can be tried without a checkout.
local _M = {}

function _M.configure(cmd)
  cmd:summary("Run the local AWS simulator.")
  local model = require "invite.model"
  cmd:description("Serves the invitation APIs of " .. model.join(model.SERVICES) .. " and STS "
    .. "(GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity) on one loopback port, verifying "
    .. "SigV4 like AWS. The format of FILE, the fault syntax and the /__sim/ control endpoints are "
    .. "described in docs/simulator.md.")
  cmd:option("--fixtures", "Fixture file (JSON) describing accounts, keys, detectors and invitations.\n"
    .. "Example: --fixtures examples/fixtures/org.json")
    :argname("<file>")
  cmd:flag("--example", "Serve the example organisation installed with invite (examples/fixtures/org.json "
    .. "of the invite rock, or of the checkout) instead of --fixtures: no checkout needed.\n"
    .. "Example: invite sim --example --port 4566")
  cmd:option("--host", "Address to listen on: loopback only (default 127.0.0.1).\nExample: --host 127.0.0.1",
    "127.0.0.1"):show_default(false)
  cmd:option("--port", "Port to listen on; 0 (the default) picks any free port, printed on start.\n"
    .. "Example: --port 4566", "0"):show_default(false):convert(function(s)
    local n = tonumber(s)
    if not n or n ~= math.floor(n) or n < 0 or n > 65535 then
      return nil, "--port must be a whole number 0-65535, got " .. require("invite.cli.common").shown(s)
    end
    return n
  end)
  cmd:option("--faults", "Fault rules (syntax in docs/simulator.md).\n"
    .. "Example: --faults \"first 2 guardduty:DeclineInvitations throttle=1; 5% 503\"")
    :argname("<spec>")
  cmd:option("--seed", "Seed of the fault and ID generators (default 1).\nExample: --seed 7", "1")
    :show_default(false):convert(function(s)
    local n = tonumber(s)
    if not n or n ~= math.floor(n) then
      return nil, "--seed must be a whole number, got " .. require("invite.cli.common").shown(s)
    end
    return n
  end)
  cmd:option("--log", "Append the request log (JSON lines) to this file; '-' for stderr.\n"
    .. "Example: --log sim-requests.jsonl"):argname("<file>")
  cmd:option("--tls-cert", "Serve HTTPS with this PEM certificate (needs --tls-key and LuaSec).\n"
    .. "Example: --tls-cert sim-cert.pem --tls-key sim-key.pem"):argname("<file>")
  cmd:option("--tls-key", "PEM private key of --tls-cert.\nExample: --tls-key sim-key.pem"):argname("<file>")
  cmd:flag("--exit-with-parent", "Stop when the process that started the simulator exits (for test harnesses).\n"
    .. "Example: invite sim --fixtures org.json --port 0 --exit-with-parent")
end

function _M.run(args)
  local sim = require "invite.sim"
  if args.example and args.fixtures then
    io.stderr:write("invite sim: --example and --fixtures go alone: --example serves the installed example "
      .. "fixture, --fixtures FILE your own\n")
    return 2
  elseif args.example then
    local where, err = require("invite.examples").locate()
    if not where then
      io.stderr:write("invite sim: --example: ", tostring(err), "\n")
      return 2
    end
    args.fixtures = where.fixture
    io.stderr:write("invite sim: serving the example fixture ", where.fixture, "\n")
  elseif not args.fixtures then
    io.stderr:write("invite sim: --fixtures FILE (your fixture) or --example (the installed example "
      .. "organisation) is required\n")
    return 2
  end
  if not require("invite.util").is_loopback(args.host) then
    io.stderr:write("invite sim: refusing to listen on ", args.host, ": the simulator serves loopback only\n")
    return 2
  end
  local s, err = sim.new{ fixtures = args.fixtures, faults = args.faults, seed = args.seed, log = args.log,
                          exit_with_parent = args.exit_with_parent }
  if not s then
    io.stderr:write("invite sim: ", tostring(err), "\n")
    return 2
  end
  if (args.tls_cert == nil) ~= (args.tls_key == nil) then
    io.stderr:write("invite sim: --tls-cert and --tls-key go together (a PEM certificate and its key)\n")
    return 2
  end
  local tls = args.tls_cert and { cert = args.tls_cert, key = args.tls_key } or nil
  local ok, lerr = s:listen{ host = args.host, port = args.port, tls = tls }
  if not ok then
    io.stderr:write("invite sim: ", tostring(lerr), "\n")
    -- a certificate or key that cannot be loaded is bad input (2); a taken port is a runtime failure (1)
    if tls and (tostring(lerr):find("^cannot load TLS") or tostring(lerr):find("^TLS needs")) then return 2 end
    return 1
  end
  io.stdout:write(string.format("invite sim listening on %s (pid %s)\n", s:url(), tostring(s.pid)))
  io.stdout:flush()
  local rok, rerr = s:run()
  if not rok then
    io.stderr:write("invite sim: ", tostring(rerr), "\n")
    return 1
  end
  if rerr == "interrupted" then io.stderr:write("invite sim: interrupted, stopped\n") end
  return 0
end

return _M
