--- A local simulator of the AWS invitation APIs of macie2, securityhub and guardduty,
-- plus the parts of STS that multi-account runs need. It verifies SigV4 like AWS (with the
-- project's signer), answers each service in its own wire style from a fixture's state, injects
-- faults deterministically and logs every request. See docs/simulator.md.
--
--     local sim = require "invite.sim"
--     local s = assert(sim.new{ fixtures = "examples/fixtures/org.json", faults = "0.1 throttle", seed = 7 })
--     assert(s:listen{ host = "127.0.0.1", port = 0 })
--     print(s:url()); s:run()
--
-- `s:handle(req)` turns one parsed request into a response without any socket, for unit tests.
-- @module invite.sim
local util = require "invite.sim.util"
local fixtures = require "invite.sim.fixtures"
local state_mod = require "invite.sim.state"
local faults_mod = require "invite.sim.faults"
local log_mod = require "invite.sim.log"
local auth = require "invite.sim.auth"
local rest = require "invite.sim.rest"
local sts = require "invite.sim.sts"
local control = require "invite.sim.control"

local _M = { _VERSION = "0.1.0" }

local REST = {
  macie2 = require "invite.sim.macie2",
  securityhub = require "invite.sim.securityhub",
  guardduty = require "invite.sim.guardduty",
}
--- The services the simulator answers: `{"macie2", "securityhub", "guardduty", "sts"}`.
_M.SERVICES = { "macie2", "securityhub", "guardduty", "sts" }

local Sim = {}
Sim.__index = Sim

local floor, type, tostring = math.floor, type, tostring

-- pid and parent pid of this process, from /proc (Lua has no getpid).
local function own_ids()
  local f = io.open("/proc/self/stat", "r")
  if not f then return nil end
  local line = f:read("*l")
  f:close()
  if not line then return nil end
  local pid = tonumber(line:match("^(%d+)"))
  local ppid = tonumber(line:match("^.*%) %S+ (%d+)"))
  return pid, ppid
end

--- Creates a simulator (not yet listening).
-- @tparam table opts
-- @tparam string|table opts.fixtures fixture file path, or an already-decoded table (required;
--   format in docs/simulator.md)
-- @tparam[opt] string opts.faults fault rules, e.g. "first 2 guardduty:DeclineInvitations throttle=1; 5% 503"
-- @tparam[opt=1] int opts.seed seed of the fault and ID generators
-- @tparam[opt] string opts.log request log path (JSON lines), "-" for stderr; nil keeps it in memory
-- @param[opt] opts.signer the SigV4 module used to verify requests (default `invite.sigv4`)
-- @param[opt] opts.clock `function() -> seconds` (default socket.gettime)
-- @tparam[opt] boolean opts.exit_with_parent stop serving when the parent process goes away
-- @tparam[opt=300] number opts.max_skew allowed request-time skew, seconds
-- @treturn Sim
-- @return[2] nil
-- @return[2] string what is wrong (fixture, faults, seed, log)
function _M.new(opts)
  opts = opts or {}
  local fx, err
  local clock = opts.clock or require("socket").gettime
  if type(opts.fixtures) == "table" then
    fx, err = fixtures.validate(opts.fixtures, "fixtures", { now = clock() })
  elseif type(opts.fixtures) == "string" then
    fx, err = fixtures.load(opts.fixtures, { now = clock() })
  else
    return nil, "a fixture file is required (--fixtures FILE)"
  end
  if not fx then return nil, err end
  local rules, ferr = faults_mod.parse(opts.faults)
  if not rules then return nil, ferr end
  local seed = opts.seed or 1
  if type(seed) ~= "number" or seed ~= floor(seed) then return nil, "seed must be a whole number" end
  local signer = opts.signer
  if not signer then
    local ok, mod = pcall(require, "invite.sigv4")
    if not ok then
      return nil, "the simulator needs the SigV4 signer (invite.sigv4 / invite.core); build it with `make build`: "
        .. tostring(mod)
    end
    signer = mod
  end
  local log, lerr = log_mod.new{ path = opts.log }
  if not log then return nil, lerr end
  local self = setmetatable({
    fixture = fx, state = state_mod.new(fx), faults = faults_mod.new(rules, seed), log = log, signer = signer,
    clock = clock, clock_offset = 0, seed = seed,
    id_rng = util.rng(seed + 101), cred_rng = util.rng(seed + 202), pid = (own_ids()),
    exit_with_parent = opts.exit_with_parent,
    max_skew = opts.max_skew or auth.MAX_SKEW,
  }, Sim)
  return self
end

--- A simulator made by @{new}.
-- @type Sim

--- The simulator's clock: the real one moved by POST /__sim/clock. It decides the allowed
-- signing-time window, session expiry and the expiration of issued credentials alike, so a client
-- whose own clock is moved the same way keeps working.
-- @treturn number epoch seconds
function Sim:now()
  return self.clock() + self.clock_offset
end
Sim.token_now = Sim.now

local function sanitized_query(q)
  if not q or q == "" then return nil end
  local keep = {}
  for pair in q:gmatch("[^&]+") do
    if not pair:find("^X%-Amz%-") then keep[#keep + 1] = pair end
  end
  if #keep == 0 then return nil end
  return table.concat(keep, "&")
end

local function generic_error(status, code, message, rid)
  local res = rest.json(status, { message = message }, rid)
  res.headers[#res.headers + 1] = { "x-amzn-ErrorType", code }
  res.error_code = code
  return res
end

-- Applies a replacing fault (throttle/500/503/reset) or returns nil.
local function fault_response(service, svc, fault, rid)
  if fault.kind == "reset" then
    return { fault = "reset", status = 0, error_code = "(connection reset)" }
  end
  if service == "sts" then return sts.fault(fault.kind, fault.retry_after, rid) end
  return rest.fault(svc, fault.kind, fault.retry_after, rid)
end

local function corrupt(res, kind)
  if kind == "truncate" then
    res.fault = "truncate"
  elseif kind == "badjson" then
    local body = res.body or ""
    res.body = body:sub(1, floor(#body / 2)) .. "<!-- invite sim: corrupted body -->"
  end
  return res
end

--- One request in, one response out, without a socket (the HTTP server calls it; so can tests).
-- Never raises for bad input. Every request is logged.
-- @tparam table req `method`, `path`, `query`, `header` (lower-case names), `headers` (pairs), `body`
-- @treturn table response: `status`, `headers` (pairs), `body`, and `fault`, `delay`,
--   `error_code` when they apply
function Sim:handle(req)
  if req.path:sub(1, 7) == "/__sim/" or req.path == "/__sim" then
    return control.handle(self, req)
  end
  local t0 = self.clock()
  local rid = self.id_rng:uuid()
  local entry = {
    time = util.iso8601(t0 + self.clock_offset, true), id = rid, conn = req.conn, method = req.method, path = req.path,
    query = sanitized_query(req.query),
  }
  local res = self:serve(req, rid, entry)
  entry.status = res.status
  entry.error = res.error_code
  entry.duration_ms = floor((self.clock() - t0) * 1e6 + 0.5) / 1e3
  if res.delay then entry.latency_ms = floor(res.delay * 1000 + 0.5) end
  self.log:write(entry)
  return res
end

--- Answers one non-control request (used by @{Sim:handle}).
-- @local
function Sim:serve(req, rid, entry)
  local info, perr = auth.parse(req)
  local service = info and info.service
  local unsigned_sts, sts_params
  if not info then
    local looks, p = sts.looks_like(req)
    if looks then
      service, sts_params = "sts", p
      unsigned_sts = sts.UNSIGNED[p.Action]
    end
  end
  entry.service = service
  entry.region = info and info.region
  entry.auth = info and info.mode or "none"
  if info then entry.access_key_id = info.access_key_id end
  local svc = REST[service]
  -- operation (known before authentication so errors and the log can name it)
  local operation, params
  if service == "sts" then
    operation, sts_params = sts.operation(req)
  elseif svc then
    operation, params = rest.route(svc.routes, req.method, req.path)
  end
  entry.operation = operation
  -- authentication
  local principal
  if unsigned_sts and operation then
    principal = nil
  else
    local f
    if not info then
      f = perr
    else
      principal, f = auth.verify(req, {
        lookup = function(kid) return self.state:credential(kid) end,
        now = self:now(), token_now = self:token_now(), signer = self.signer, max_skew = self.max_skew,
      })
    end
    if not principal then
      if service == "sts" then return sts.auth_error(f, rid) end
      return rest.auth_error(svc, f, rid)
    end
    entry.account = principal.account
    entry.arn = principal.arn
  end
  if not svc and service ~= "sts" then
    return generic_error(404, "UnknownServiceException", "invite sim does not simulate the service '"
      .. tostring(service) .. "' (it serves macie2, securityhub, guardduty and sts)", rid)
  end
  if not operation then
    if service == "sts" then return sts.unknown_action(sts_params and sts_params.Action, rid) end
    return generic_error(404, "UnknownOperationException", "Unknown operation " .. req.method .. " " .. req.path
      .. " for " .. service, rid)
  end
  -- faults
  local decision = self.faults:decide{ service = service, operation = operation, region = entry.region,
                                       account = entry.account }
  local res
  if decision and decision.fault then
    entry.fault = decision.fault.kind
    local kind = decision.fault.kind
    if kind == "throttle" or kind == "500" or kind == "503" or kind == "reset" then
      res = fault_response(service, svc, decision.fault, rid)
    end
  end
  if not res then
    local ctx = {
      req = req, rid = rid, state = self.state, principal = principal, service = service,
      operation = operation, region = entry.region, account = principal and principal.account,
      params = params or sts_params, cred_rng = self.cred_rng, token_now = self:token_now(),
    }
    if service == "sts" then
      res = sts.dispatch(ctx)
    else
      res = rest.dispatch(svc, ctx)
    end
    entry.account = ctx.account or entry.account
    if ctx.log_ids then entry.account_ids = util.array(util.copy(ctx.log_ids)) end
    if decision and decision.fault then res = corrupt(res, decision.fault.kind) end
  end
  if decision and decision.latency > 0 then
    res.delay = decision.latency
    entry.fault = entry.fault or "latency"
  end
  return res
end

--- Logs a request the HTTP layer refused (malformed, chunked, too large).
-- @local
function Sim:log_reject(info)
  self.log:write{
    time = util.iso8601(self:now(), true), conn = info.conn, method = info.method, path = info.path,
    status = info.status, error = "HTTP " .. tostring(info.status), message = info.message,
  }
end

local function stdout_is_pipe(pid)
  if not pid then return false end
  local p = io.popen("readlink /proc/" .. pid .. "/fd/1 2>/dev/null")
  if not p then return false end
  local target = p:read("*l") or ""
  p:close()
  return target:find("^pipe:") ~= nil
end

--- Logs a failed TLS handshake (e.g. a client that does not trust the certificate).
-- @local
function Sim:log_tls_error(info)
  self.log:write{
    time = util.iso8601(self:now(), true), conn = info.conn, status = 0, error = "TLS handshake failed",
    message = info.message,
  }
end

--- Binds the listening socket (loopback).
-- @tparam[opt] table opts
-- @tparam[opt="127.0.0.1"] string opts.host
-- @tparam[opt=0] int opts.port 0: any free port (then see `s.port` or @{Sim:url})
-- @tparam[opt] table opts.tls `{cert = PEM file, key = PEM file}`: serve HTTPS (needs LuaSec)
-- @treturn boolean true
-- @return[2] nil
-- @return[2] string why it could not listen
function Sim:listen(opts)
  opts = opts or {}
  local http = require "invite.sim.http"
  local parent = select(2, own_ids())
  local watch
  if self.exit_with_parent and stdout_is_pipe(self.pid) then
    -- Linux reports the write end of a pipe readable (POLLERR) once its reader is gone: the
    -- parent closed our stdout (e.g. pclose() after a failed test), so nobody will stop us.
    watch = { { getfd = function() return 1 end, dirty = function() return false end,
                on_ready = function() self:stop() end } }
  end
  local srv, err = http.new{
    watch = watch,
    host = opts.host or "127.0.0.1", port = opts.port or 0,
    handler = function(req) return self:handle(req) end,
    on_reject = function(info) self:log_reject(info) end,
    tls = opts.tls,
    on_tls_error = function(info) self:log_tls_error(info) end,
    -- exit_with_parent: stop once the process that started us is gone (a crashed test run must
    -- not leave simulators behind); the parent pid changes when we are re-parented. Also stop
    -- when stdout is a pipe whose reader went away (above).
    on_tick = self.exit_with_parent and parent and function()
      if select(2, own_ids()) ~= parent then self:stop() end
    end or nil,
  }
  if not srv then return nil, err end
  self.server, self.port, self.host, self.tls = srv, srv.port, srv.host, opts.tls ~= nil
  return true
end

--- The base URL clients use, e.g. "http://127.0.0.1:43127" (IPv6 hosts in brackets).
-- @treturn string
function Sim:url()
  local host = self.host or "127.0.0.1"
  if host:find(":") then host = "[" .. host .. "]" end
  return (self.tls and "https://" or "http://") .. host .. ":" .. tostring(self.port)
end

--- Serves until @{Sim:stop} (or POST /__sim/stop) or an error such as lua5.4's SIGINT
-- "interrupted!"; closes the socket and the log when done.
-- @treturn boolean true (and "interrupted" after SIGINT)
-- @return[2] nil
-- @return[2] err
function Sim:run()
  local ok, err = pcall(self.server.run, self.server)
  self:close()
  if not ok then
    if tostring(err):find("interrupted!$") then return true, "interrupted" end
    return nil, err
  end
  return true
end

--- Asks a running @{Sim:run} to return (after the current request).
function Sim:stop()
  if self.server then self.server:stop() end
end

--- Closes the listening socket and the request log.
function Sim:close()
  if self.server then self.server:close() end
  self.log:close()
end

return _M
