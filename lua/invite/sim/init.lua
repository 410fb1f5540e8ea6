--- A local simulator of the AWS invitation APIs of invite's services (macie2, securityhub and
-- guardduty; each is served by its module invite.sim.<name>), plus the parts of STS that
-- multi-account runs need. It verifies SigV4 like AWS (with the
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
local control = require "invite.sim.control"
local regions = require "invite.sim.regions"

local _M = { _VERSION = require "invite.version" }

-- The other services (declared without invitations, e.g. sts, organizations) that have a module
-- invite.sim.<name>: name -> module, and their names in model order. Such a module answers in its
-- own wire style and has
--   operation(req) -> the operation's API name or nil, and the request's parameters
--   dispatch(ctx) -> response            ctx: req, rid, state, principal, service, operation,
--                                        region, account, params, cred_rng, token_now
--   error(status, code, message, rid) -> response (with error_code); validation_code, the code
--                                        of a refused input (e.g. "ValidationError")
--   auth_error(failure, rid), fault(kind, retry_after, rid) (kind throttle, 500 or 503),
--   unknown_operation(req, params, rid) -> response
--   and optionally looks_like(req) -> bool, params (an unsigned request still answered in its
--   style) and UNSIGNED (operations answered without a signature).
local others_cache
local function others()
  if not others_cache then
    local by_name, list = {}, {}
    local model = require "invite.model"
    for _, name in ipairs(model.declared()) do
      local module = "invite.sim." .. name
      local ok, mod = pcall(require, module)
      -- a module answering in its own style (it finds the operation itself: Organizations' json
      -- 1.1, the query protocol), whether or not the service has invitations
      if not model.invitations(name) or (ok and type(mod) == "table" and type(mod.operation) == "function") then
        if ok then
          by_name[name], list[#list + 1] = mod, name
        elseif not tostring(mod):find("module '" .. module .. "' not found", 1, true) then
          error(mod, 0)
        end
      end
    end
    others_cache = { by_name = by_name, list = list }
  end
  return others_cache.by_name, others_cache.list
end

-- The services the simulator answers: every invitation service of invite with a module
-- invite.sim.<name> (invite.sim.fixtures.services), then the others (above).
local function served()
  local list, seen = {}, {}
  for i, name in ipairs((fixtures.services())) do list[i], seen[name] = name, true end
  for _, name in ipairs(select(2, others())) do
    if not seen[name] then list[#list + 1] = name end
  end
  return list
end

--- The services the simulator answers, e.g. `{"macie2", "securityhub", "guardduty", "sts"}`
-- (found on first access).
-- @table SERVICES
setmetatable(_M, {
  __index = function(t, k)
    if k ~= "SERVICES" then return nil end
    local list = served()
    rawset(t, k, list)
    return list
  end,
})

local Sim = {}
Sim.__index = Sim

local floor, type, tostring, pairs, ipairs, format = math.floor, type, tostring, pairs, ipairs, string.format

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

-- Applies a replacing fault (throttle/500/503/reset) or returns nil. `other`: the module of a
-- service without invitations, else nil (svc is the invitation service's).
local function fault_response(other, svc, fault, rid)
  if fault.kind == "reset" then
    return { fault = "reset", status = 0, error_code = "(connection reset)" }
  end
  if other then return other.fault(fault.kind, fault.retry_after, rid) end
  return rest.fault(svc, fault.kind, fault.retry_after, rid)
end

---------------------------------------------------------------------------------------------------
-- Hostile answers (see faults.lua): big or streamed bodies, bodies changed at the JSON level,
-- errors that quote the caller's secrets.
---------------------------------------------------------------------------------------------------

local CHUNK = 65536
local ESCAPES = "\27]0;pwned\7\27[2J"
local PLACEHOLDER = "INVITESIMBIGMESSAGEPLACEHOLDER"
local LIST_MEMBER = { ListInvitations = "invitations", ListDetectors = "detectorIds" }
local UNPROCESSED_OPS = { DeclineInvitations = true, DeleteInvitations = true }

-- A streamed body: `prefix`, `n` copies of the one-character `fill`, `suffix`; and its length.
-- Memory stays at one CHUNK whatever n is.
local function filled(prefix, fill, n, suffix)
  local block = fill:rep(CHUNK)
  local stage, left = 1, n
  return function()
    if stage == 1 then
      stage = 2
      if prefix ~= "" then return prefix end
    end
    if stage == 2 then
      if left > 0 then
        local k = left < CHUNK and left or CHUNK
        left = left - k
        return k == CHUNK and block or block:sub(1, k)
      end
      stage = 3
      if suffix ~= "" then return suffix end
    end
    return nil
  end, #prefix + n + #suffix
end

-- The key of `t` whose lower-cased name is `name`'s (the services differ in member casing).
local function member(t, name)
  local want = name:lower()
  for k, v in pairs(t) do
    if type(k) == "string" and k:lower() == want then return k, v end
  end
  return nil
end

-- A 200 JSON answer decoded, or nil when there is nothing to change.
local function decoded(res)
  if res.status ~= 200 or type(res.body) ~= "string" then return nil end
  local t = util.json_decode(res.body)
  if type(t) ~= "table" then return nil end
  return t
end

-- A 400 in the service's style (STS: XML ValidationError) with `message`.
local function bad_request(other, svc, message, rid)
  if other then return other.error(400, other.validation_code, message, rid) end
  return rest.error(svc, 400, "BadRequestException", message, rid)
end

-- bigmessage=BYTES: the message is an introduction then "x"s, exactly BYTES bytes, streamed.
local function big_message(other, svc, bytes, rid)
  local res = bad_request(other, svc, PLACEHOLDER, rid)
  local at = res.body:find(PLACEHOLDER, 1, true)
  local intro = ("invite sim: a message of " .. bytes .. " bytes "):sub(1, bytes)
  res.stream, res.length = filled(res.body:sub(1, at - 1) .. intro, "x", bytes - #intro,
    res.body:sub(at + #PLACEHOLDER))
  res.body = nil
  return res
end

local function echo_secrets(other, svc, req, rid)
  local token = req.header["x-amz-security-token"]
  if not token then
    local _, q = util.parse_query(req.query)
    token = q and q["X-Amz-Security-Token"]
  end
  return bad_request(other, svc, "invite sim refused the request signed with X-Amz-Security-Token: "
    .. (token or "(none)") .. " and Authorization: " .. (req.header.authorization or "(none)"), rid)
end

-- bigpage=N: N invitations of one fixed width (inviters 9 + 11 digits, IDs sim-bigpage-NNNNNNN),
-- streamed a few hundred at a time with an exact Content-Length.
local function big_page(svc, res, n, now)
  local t = decoded(res)
  if not t then return res end
  local names = svc.names
  local list = member(t, names.invitations) or names.invitations
  local tmpl = util.json_encode(rest.invitation_json(svc, { inviter = "@A@", id = "@I@", status = "Invited",
    invited_at = now, invited_at_iso = util.iso8601(now, true) }))
  tmpl = tmpl:gsub("%%", "%%%%"):gsub("@A@", "%%s"):gsub("@I@", "%%s")
  local width = #format(tmpl, "900000000000", "sim-bigpage-0000000")
  return rest.stream_list(res, "{" .. util.json_string(list) .. ":[", n, width, function(i)
    return format(tmpl, format("9%011d", i), format("sim-bigpage-%07d", i))
  end)
end

--- Changes an answer after its operation ran (the operation itself already happened).
-- @local
function Sim:corrupt(res, fault, c)
  local kind = fault.kind
  if kind == "truncate" then
    res.fault = "truncate"
  elseif kind == "badjson" then
    local body = res.body or ""
    res.body = body:sub(1, floor(#body / 2)) .. "<!-- invite sim: corrupted body -->"
  elseif kind == "lost" then
    return { fault = "reset", status = 0, error_code = "(connection reset)" }
  elseif kind == "bigbody" or kind == "bigbody-nolength" then
    local body = res.body or ""
    local pad = fault.bytes > #body and fault.bytes - #body or 0
    res.stream, res.length = filled(body, " ", pad, "")
    res.body = nil
    if kind == "bigbody-nolength" then res.length = nil end
  elseif c.other then
    -- a service in its own style shapes its own lists (Detective's ListInvitations), if it can
    return c.other.shape_fault and c.other.shape_fault(res, fault, c, self:now()) or res
  elseif not c.svc or not (LIST_MEMBER[c.operation] or UNPROCESSED_OPS[c.operation]) then
    return res -- the list and unprocessed faults shape only those answers
  elseif kind == "bigpage" and c.operation == "ListInvitations" then
    return big_page(c.svc, res, fault.count, self:now())
  else
    local t = decoded(res)
    if not t then return res end
    local names = c.svc.names
    if kind == "endless-pages" and LIST_MEMBER[c.operation] then
      local lk = member(t, c.operation == "ListDetectors" and "detectorIds" or names.invitations)
      t[lk or LIST_MEMBER[c.operation]] = util.array{}
      self.endless_seq = (self.endless_seq or 0) + 1
      -- "!" sorts before every inviter and detector ID: sent back after the fault, the list restarts
      t[member(t, names.token) or names.token] = rest.encode_token(c.operation == "ListDetectors" and "detectors"
        or "invitations", c.service, c.region, c.account, "!endless-" .. self.endless_seq)
    elseif (kind == "malformed-invitation" or kind == "escape") and c.operation == "ListInvitations" then
      local lk, list = member(t, names.invitations)
      if type(list) ~= "table" then return res end
      local at = util.iso8601(self:now(), true)
      if kind == "malformed-invitation" then
        table.insert(list, 1, { [names.inv_id] = "sim-malformed-invitation", [names.inv_status] = "Invited",
                                [names.inv_at] = at })
      else
        for _, inv in ipairs(type(list[1]) == "table" and list or {}) do
          for name, base in pairs{ [names.inv_id] = "sim-escape", [names.inv_at] = at } do
            local k, v = member(inv, name)
            inv[k or name] = (type(v) == "string" and v or base) .. ESCAPES
          end
        end
      end
      t[lk] = util.array(list)
    elseif kind == "malformed-unprocessed" and c.first_id then
      local uk, list = member(t, names.unprocessed)
      if type(list) ~= "table" then list = {} end
      local w = c.svc.words.not_found
      local entry
      if fault.garbage then
        entry = type(w) == "table" and w[2] or w
      elseif names.un_code then
        entry = { [names.un_code] = w[1], [names.un_message] = w[2] }
      else
        entry = { [names.un_result] = w }
      end
      table.insert(list, 1, entry)
      t[uk or names.unprocessed] = util.array(list)
    else
      return res
    end
    res.body = util.json_encode(t)
  end
  return res
end

-- malformed-unprocessed: the request as the operation sees it, without the first account ID
-- (every copy of it). Returns the changed request and that ID, or the request unchanged.
local function without_first_id(svc, req)
  local body = util.json_decode(req.body or "")
  if type(body) ~= "table" then return req end
  local k, ids = member(body, svc.names.ids)
  if type(ids) ~= "table" or type(ids[1]) ~= "string" then return req end
  local first, rest_ids = ids[1], {}
  for _, id in ipairs(ids) do
    if id ~= first then rest_ids[#rest_ids + 1] = id end
  end
  body[k] = util.array(rest_ids)
  local copy = {}
  for key, v in pairs(req) do copy[key] = v end
  copy.body = util.json_encode(body)
  return copy, first, ids, #rest_ids
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
  local by_other = others()
  local unsigned, other_params
  if not info then
    -- an unsigned request that looks like a call of a service answering in its own style (STS's
    -- form-encoded Action=...): answered in that style, and its unsigned operations served
    for _, name in ipairs(select(2, others())) do
      local m = by_other[name]
      local looks, p = false, nil
      if m.looks_like then looks, p = m.looks_like(req) end
      if looks then
        service, other_params = name, p
        unsigned = m.UNSIGNED and p and m.UNSIGNED[p.Action]
        break
      end
    end
  end
  entry.service = service
  entry.region = info and info.region
  entry.auth = info and info.mode or "none"
  if info then entry.access_key_id = info.access_key_id end
  local _, rest_services = fixtures.services()
  local other = service and by_other[service] or nil
  -- a rest-style module: an invitation service's, or an invitation kind's not yet declared as one
  local svc = not other and service and (rest_services[service] or fixtures.kinds()[service]) or nil
  -- operation (known before authentication so errors and the log can name it)
  local operation, params
  if other then
    operation, other_params = other.operation(req)
  elseif svc then
    operation, params = rest.route(svc.routes, req.method, req.path)
  end
  entry.operation = operation
  -- authentication
  local principal
  if unsigned and operation then
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
      if other then return other.auth_error(f, rid) end
      return rest.auth_error(svc, f, rid)
    end
    entry.account = principal.account
    entry.arn = principal.arn
  end
  if not svc and not other then
    return generic_error(404, "UnknownServiceException", "invite sim does not simulate the service '"
      .. tostring(service) .. "' (it serves " .. require("invite.model").join(served()) .. ")", rid)
  end
  if not operation then
    if other then return other.unknown_operation(req, other_params, rid) end
    return generic_error(404, "UnknownOperationException", "Unknown operation " .. req.method .. " " .. req.path
      .. " for " .. service, rid)
  end
  -- a region where the service does not exist, or that the account has not enabled
  local refused = regions.refusal(self, { service = service, other = other, svc = svc, region = entry.region,
                                          account = principal and principal.account, rid = rid })
  if refused then return refused end
  -- faults
  local decision = self.faults:decide{ service = service, operation = operation, region = entry.region,
                                       account = entry.account }
  local res
  if decision and decision.fault then
    entry.fault = decision.fault.kind
    local kind = decision.fault.kind
    if kind == "throttle" or kind == "500" or kind == "503" or kind == "reset" then
      res = fault_response(other, svc, decision.fault, rid)
    elseif kind == "bigmessage" then
      res = big_message(other, svc, decision.fault.bytes, rid)
    elseif kind == "echo-secrets" then
      res = echo_secrets(other, svc, req, rid)
    end
  end
  local replaced = res ~= nil
  local first_id, all_ids, left
  local op_req = req
  if not res and decision and decision.fault and decision.fault.kind == "malformed-unprocessed" and svc
      and UNPROCESSED_OPS[operation] then
    op_req, first_id, all_ids, left = without_first_id(svc, req)
    if first_id and left == 0 then
      -- nothing left to carry out (guardduty would refuse an empty list): an empty answer
      res = rest.json(200, { [svc.names.unprocessed] = util.array{} }, rid)
    end
  end
  if not res then
    local ctx = {
      req = op_req, rid = rid, state = self.state, principal = principal, service = service,
      operation = operation, region = entry.region, account = principal and principal.account,
      params = params or other_params, cred_rng = self.cred_rng, token_now = self:token_now(),
    }
    if other then
      res = other.dispatch(ctx)
    else
      res = rest.dispatch(svc, ctx)
    end
    entry.account = ctx.account or entry.account
    if ctx.log_ids then entry.account_ids = util.array(util.copy(ctx.log_ids)) end
    if ctx.log_form then entry.form = util.array(ctx.log_form) end -- EC2: the form as sent (no secrets)
  end
  if all_ids then entry.account_ids = util.array(util.copy(all_ids)) end -- what was sent, first ID included
  if decision and decision.fault and not replaced then
    res = self:corrupt(res, decision.fault, { svc = svc, other = other, service = service, operation = operation,
      region = entry.region, account = entry.account, first_id = first_id })
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
