-- support.sim: start, drive and stop `invite sim` from specs.
--
--   local sim = require "support.sim"
--   local s = sim.start{ fixtures = "examples/fixtures/org.json" or { ...table... },
--                        faults = "first 2 guardduty throttle", seed = 7, log = "/tmp/x.jsonl" }
--   s.endpoint            -- "http://127.0.0.1:PORT"
--   s.port, s.pid
--   s:requests([since])   -- request-log entries (array), oldest first
--   s:state()             -- invitations, administrators, detectors, sessions (no secrets)
--   s:set_faults(spec [, seed])
--   s:stop()              -- SIGTERM to its own pid, then waits for it
--   s:count(operation [, service])   -- how many logged requests were that operation (of that service)
--   s:reset(), s:clear_requests(), s:advance_clock(seconds), s:control(method, path [, body])
--   s:fresh()             -- before_each's usual three: reset, set_faults(""), clear_requests
--   s:call{ service=, region=, method=, path=, query=, body=, headers=, creds=, time=, tamper= }
--                         -- a request signed with invite.sigv4, sent on a fresh connection
--   s:raw(bytes)          -- send bytes as they are, return the raw response (until close)
--
--   sim.keys["222222222222"] / sim.keys.prod -> { access_key_id=, secret_access_key=, account=, name= }
--   sim.credentials("prod") -> the same, or a session: sim.sessions.valid / sim.sessions.expired
--   sim.accounts.prod -> "222222222222";  sim.FIXTURE -> path of examples/fixtures/org.json
--   sim.RAM_ARNS.outside / .org / .accepted / .expired / .eu -> the example's RAM invitation ARNs
--   sim.stop_all()        -- stops every simulator this process started (for teardown)
--   sim.shell_quote(s), sim.read_file(path), sim.write_file(path, text)   -- helpers the specs share
--   sim.pluck(list, key)  -- { list[1][key], list[2][key], ... } ({} for a nil list)
--   sim.with(defaults, o) -- a copy of defaults with o's keys over it (a client's options)
--   sim.org_fixture{ admin=, key=, inviter=, members=, services=, regions=, enabled_regions=,
--                    organization=, units=, parents=, suspended= }
--                         -- an organisation to sweep: -> fixture, member IDs (see below)
--
-- The simulator runs as `env -u LD_PRELOAD <lua> bin/invite sim ... --port 0 --exit-with-parent`
-- (opts.lua picks another interpreter, e.g. "luajit"); its first stdout line gives the port and
-- pid. If the spec process dies without stopping it, it exits by itself within a second or so.
local interp = require "support.interp"
local cjson = require "cjson.safe"
local socket = require "socket"

local _M = {}

local function repo_root()
  local src = debug.getinfo(1, "S").source
  local path = src:sub(1, 1) == "@" and src:sub(2) or "spec/support/sim.lua"
  local root = path:match("^(.*)/spec/support/[^/]+$")
  if root == nil then root = "." end
  return root
end

_M.ROOT = repo_root()
_M.FIXTURE = _M.ROOT .. "/examples/fixtures/org.json"

-- The example fixture's RAM resource-share invitations the specs name: staging's in us-east-1 from a
-- stranger (outside), the organisation's management account (org), an accepted and an expired one,
-- and prod's in eu-west-1 (eu).
_M.RAM_ARNS = {
  outside = "arn:aws:ram:us-east-1:777788889999:resource-share-invitation/5c1e9a4e-8f0b-4b8e-9a31-2b7d8f6c1a01",
  org = "arn:aws:ram:us-east-1:111111111111:resource-share-invitation/0b7e4c2a-3d5f-4e61-8a9b-c0d1e2f3a402",
  accepted = "arn:aws:ram:us-east-1:444444444444:resource-share-invitation/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b03",
  expired = "arn:aws:ram:us-east-1:210987654321:resource-share-invitation/e2f1a0b9-c8d7-4e6f-9a5b-4c3d2e1f0a04",
  eu = "arn:aws:ram:eu-west-1:777788889999:resource-share-invitation/3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c05",
}

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

_M.shell_quote, _M.read_file, _M.write_file = shell_quote, read_file, write_file

---------------------------------------------------------------------------------------------------
-- The example fixture's documented test credentials
---------------------------------------------------------------------------------------------------

local fixture_cache
local function example_fixture()
  if not fixture_cache then
    local text = assert(read_file(_M.FIXTURE), "cannot read " .. _M.FIXTURE)
    fixture_cache = assert(cjson.decode(text))
  end
  return fixture_cache
end

local function build_tables()
  local fx = example_fixture()
  local keys, accounts, sessions = {}, {}, {}
  for _, a in ipairs(fx.accounts) do
    accounts[a.name] = a.id
    for i, k in ipairs(a.access_keys or {}) do
      local c = { access_key_id = k.id, secret_access_key = k.secret, account = a.id, name = a.name }
      if i == 1 then
        keys[a.id] = c
        keys[a.name] = c
      end
      keys[k.id] = c
    end
  end
  for _, s in ipairs(fx.sessions or {}) do
    local c = { access_key_id = s.access_key_id, secret_access_key = s.secret, session_token = s.session_token,
                account = s.account, role = s.role }
    keys[s.access_key_id] = c
    local iso = s.expiration and s.expiration:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d")
    if iso and iso .. "Z" < os.date("!%Y-%m-%dT%H:%M:%SZ") then
      sessions.expired = c
    else
      sessions.valid = c
    end
  end
  return keys, accounts, sessions
end

setmetatable(_M, { __index = function(t, k)
  if k == "keys" or k == "accounts" or k == "sessions" then
    local keys, accounts, sessions = build_tables()
    rawset(t, "keys", keys)
    rawset(t, "accounts", accounts)
    rawset(t, "sessions", sessions)
    return rawget(t, k)
  end
end })

-- Credentials of an account of the example fixture, by ID, name or access key ID.
function _M.credentials(who)
  local c = _M.keys[who] or _M.sessions[who]
  if not c then error("support.sim: no credentials for '" .. tostring(who) .. "' in " .. _M.FIXTURE, 2) end
  return c
end

---------------------------------------------------------------------------------------------------
-- Process
---------------------------------------------------------------------------------------------------

local Sim = {}
Sim.__index = Sim

local running = {}

local function tmpname(suffix)
  local p = os.tmpname()
  os.remove(p)
  return p .. (suffix or "")
end

-- opts: fixtures (path or table), faults, seed, log, lua (interpreter, default: the one running the
-- spec, support.interp),
-- host (default 127.0.0.1), args (extra CLI arguments, list).
function _M.start(opts)
  opts = opts or {}
  local fixtures = opts.fixtures or _M.FIXTURE
  local tmp_fixture
  if type(fixtures) == "table" then
    tmp_fixture = tmpname(".json")
    local f = assert(io.open(tmp_fixture, "w"))
    f:write(assert(cjson.encode(fixtures)))
    f:close()
    fixtures = tmp_fixture
  end
  local errfile = tmpname(".err")
  local cmd = { "exec env -u LD_PRELOAD", opts.lua or interp.LUA, shell_quote(_M.ROOT .. "/bin/invite"), "sim",
                "--fixtures", shell_quote(fixtures), "--port", "0", "--exit-with-parent" }
  if opts.host then cmd[#cmd + 1] = "--host " .. shell_quote(opts.host) end
  if opts.faults then cmd[#cmd + 1] = "--faults " .. shell_quote(opts.faults) end
  if opts.seed then cmd[#cmd + 1] = "--seed " .. shell_quote(opts.seed) end
  if opts.log then cmd[#cmd + 1] = "--log " .. shell_quote(opts.log) end
  for _, a in ipairs(opts.args or {}) do cmd[#cmd + 1] = shell_quote(a) end
  cmd[#cmd + 1] = "2>" .. shell_quote(errfile)
  local h = assert(io.popen(table.concat(cmd, " "), "r"))
  local line = h:read("*l")
  local url, pid = (line or ""):match("listening on (https?://%S+) %(pid (%d+)%)")
  if not url then
    h:close()
    local err = read_file(errfile) or ""
    os.remove(errfile)
    if tmp_fixture then os.remove(tmp_fixture) end
    error("invite sim did not start: " .. tostring(line or "") .. err, 2)
  end
  local s = setmetatable({
    endpoint = url, port = tonumber(url:match(":(%d+)$")), pid = tonumber(pid), handle = h,
    errfile = errfile, tmp_fixture = tmp_fixture, host = url:match("^https?://(.-):%d+$"),
  }, Sim)
  running[s] = true
  return s
end

-- What the simulator wrote to stderr so far.
function Sim:stderr()
  return read_file(self.errfile) or ""
end

function Sim:stop()
  if self.stopped then return end
  self.stopped = true
  os.execute("kill -TERM " .. tostring(self.pid) .. " 2>/dev/null")
  self.handle:close()
  os.remove(self.errfile)
  if self.tmp_fixture then os.remove(self.tmp_fixture) end
  running[self] = nil
end

-- { list[1][key], list[2][key], ... }: the IDs or ARNs of a listing ({} for a nil list).
function _M.pluck(list, key)
  local out = {}
  for i, v in ipairs(list or {}) do out[i] = v[key] end
  return out
end

-- A copy of `defaults` with the keys of `o` (may be nil) over it: a client's options in a spec.
function _M.with(defaults, o)
  local t = {}
  for k, v in pairs(defaults) do t[k] = v end
  for k, v in pairs(o or {}) do t[k] = v end
  return t
end

--- An organisation for cross-account sweeps: the admin account with access key `key` ({id, secret}),
-- a stranger `inviter`, and one member per ID in `members` with an InviteManager role the admin may
-- assume and, in every service x region, one invitation from the stranger (5 days old).
-- o.enabled_regions: the opt-in regions each account has enabled, function(id) -> list or a table
-- by account ID (default: none).
-- o.organization (true, or a table of `organization` fields to use instead of the defaults): the
-- accounts but the stranger form an AWS Organizations organisation (o-simspecorg1, root r-sim1)
-- managed by the admin account; o.units its OUs ({id =, name =, parent =}), o.parents member ID ->
-- unit ID (default: the root), o.suspended member IDs whose status is SUSPENDED.
-- -> fixture (for sim.start), members
function _M.org_fixture(o)
  local accounts = { { id = o.admin, name = "admin", access_keys = { o.key } } }
  local invitations = {}
  for _, id in ipairs(o.members) do
    accounts[#accounts + 1] = { id = id, roles = { { name = "InviteManager", trusted_accounts = { o.admin } } } }
    for _, svc in ipairs(o.services) do
      for _, region in ipairs(o.regions) do
        invitations[#invitations + 1] = { service = svc, region = region, account = id, inviter = o.inviter,
          id = svc .. "-" .. region .. "-" .. id, invited_at = "now-5d" }
      end
    end
  end
  accounts[#accounts + 1] = { id = o.inviter, name = "stranger" }
  local er = o.enabled_regions
  for _, a in ipairs(accounts) do
    if type(er) == "function" then a.enabled_regions = er(a.id) elseif er then a.enabled_regions = er[a.id] end
  end
  local fx = { accounts = accounts, invitations = invitations }
  if o.organization then
    -- every account but the stranger in one organisation, o.admin its management account
    local org = { id = "o-simspecorg1", management_account = o.admin, root = "r-sim1", units = o.units,
                  outside = { o.inviter } }
    for k, v in pairs(type(o.organization) == "table" and o.organization or {}) do org[k] = v end
    fx.organization = org
    local suspended = {}
    for _, id in ipairs(o.suspended or {}) do suspended[id] = true end
    for _, a in ipairs(accounts) do
      if suspended[a.id] then a.status = "SUSPENDED" end
      if o.parents and o.parents[a.id] then a.parent = o.parents[a.id] end
    end
  end
  return fx, o.members
end

function _M.stop_all()
  for s in pairs(running) do s:stop() end
end

---------------------------------------------------------------------------------------------------
-- Plain HTTP/1.1 client (one connection per call)
---------------------------------------------------------------------------------------------------

-- Reads one HTTP response from a connected socket. Returns status, headers (lower-case map),
-- body, raw head; or nil, error ("closed" if the peer closed without a full response).
local function read_response(c)
  local head = {}
  local status_line, err = c:receive("*l")
  if not status_line then return nil, err end
  local status = tonumber(status_line:match("^HTTP/1%.%d (%d%d%d)"))
  if not status then return nil, "bad status line: " .. status_line end
  local headers = {}
  head[1] = status_line
  while true do
    local l, e = c:receive("*l")
    if not l then return nil, e end
    if l == "" then break end
    head[#head + 1] = l
    local k, v = l:match("^([^:]+):%s*(.-)%s*$")
    if k then
      k = k:lower()
      headers[k] = headers[k] and (headers[k] .. "," .. v) or v
    end
  end
  if status == 100 then return read_response(c) end
  local len = tonumber(headers["content-length"] or "0") or 0
  local body = ""
  if len > 0 then
    local b, e, partial = c:receive(len)
    if not b then return nil, e == "closed" and "truncated" or e, partial end
    body = b
  end
  return status, headers, body, table.concat(head, "\n")
end
_M.read_response = read_response

function Sim:connect()
  local c = assert(socket.tcp())
  c:settimeout(10)
  assert(c:connect(self.host, self.port))
  return c
end

-- Sends a control request. Returns the decoded JSON (raises on a non-200 answer).
function Sim:control(method, path, body)
  local c = self:connect()
  body = body or ""
  c:send(method .. " " .. path .. " HTTP/1.1\r\nHost: " .. self.host .. ":" .. self.port
    .. "\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body)
  local status, headers, rbody = read_response(c)
  c:close()
  if status ~= 200 then
    error("sim control " .. method .. " " .. path .. ": " .. tostring(status) .. " " .. tostring(rbody), 2)
  end
  local t = cjson.decode(rbody)
  if type(headers) ~= "table" or t == nil then error("sim control: bad answer " .. tostring(rbody), 2) end
  return t
end

function Sim:requests(since)
  local path = "/__sim/requests"
  if since then path = path .. "?since=" .. tostring(since) end
  return self:control("GET", path)
end

--- How many of the requests the simulator logged were `operation` (e.g. "DeclineInvitations"), of
-- `service` alone when given (e.g. "detective").
function Sim:count(operation, service)
  local n = 0
  for _, r in ipairs(self:requests()) do
    if r.operation == operation and (service == nil or r.service == service) then n = n + 1 end
  end
  return n
end

--- The state a test starts from: the fixture's state again, no faults, an empty request log.
function Sim:fresh()
  self:reset()
  self:set_faults("")
  self:clear_requests()
end

function Sim:state() return self:control("GET", "/__sim/state") end
function Sim:reset() return self:control("POST", "/__sim/reset") end
function Sim:clear_requests() return self:control("DELETE", "/__sim/requests") end
function Sim:faults() return self:control("GET", "/__sim/faults") end

function Sim:set_faults(spec, seed)
  local body = assert(cjson.encode({ spec = spec or "", seed = seed }))
  return self:control("POST", "/__sim/faults", body)
end

function Sim:advance_clock(seconds)
  return self:control("POST", "/__sim/clock", assert(cjson.encode({ advance = seconds })))
end

-- Sends bytes as they are on a fresh connection; returns everything received until the server
-- closes the connection or `timeout` seconds pass (default 2).
function Sim:raw(bytes, timeout)
  local c = self:connect()
  c:settimeout(timeout or 2)
  c:send(bytes)
  local out = {}
  while true do
    local data, err, partial = c:receive(8192)
    data = data or partial
    if data and #data > 0 then out[#out + 1] = data end
    if err then break end
  end
  c:close()
  return table.concat(out)
end

---------------------------------------------------------------------------------------------------
-- Signed requests (invite.sigv4)
---------------------------------------------------------------------------------------------------

-- Builds a signed request. o: service, region (default us-east-1), method (GET), path ("/"),
-- query (""), body (""), headers (extra list of pairs), creds (table or a name for
-- sim.credentials; default "prod"), time (signing time, default now), presign (boolean).
-- Returns method, path, query, headers (list), body.
function _M.sign(o, host)
  local sigv4 = require "invite.sigv4"
  local creds = o.creds or "prod"
  if type(creds) ~= "table" then creds = _M.credentials(creds) end
  local headers = { { "Host", host } }
  if o.body and o.body ~= "" and not o.no_content_type then
    headers[#headers + 1] = { "Content-Type", o.content_type or "application/json" }
  end
  for _, h in ipairs(o.headers or {}) do headers[#headers + 1] = h end
  local out = assert(sigv4.sign{
    method = o.method or "GET", path = o.path or "/", query = o.query or "", headers = headers,
    body = o.body or "", access_key = creds.access_key_id, secret_key = creds.secret_access_key,
    session_token = creds.session_token, region = o.region or "us-east-1", service = o.service,
    time = o.time or os.time(), presign = o.presign, expires = o.expires,
  })
  local query = out.query
  local sent = out.headers or headers
  return o.method or "GET", o.path or "/", query, sent, o.body or ""
end

-- Signs and sends a request; returns a response table { status, headers, body, json } (json: the
-- decoded body when it is JSON) or nil, error when the connection failed or was reset.
-- o.tamper(method, path, query, headers, body) may change the request after signing.
function Sim:call(o)
  local host = self.host .. ":" .. self.port
  local method, path, query, headers, body = _M.sign(o, host)
  if o.unsigned then
    headers = { { "Host", host } }
    if body ~= "" then headers[2] = { "Content-Type", o.content_type or "application/x-www-form-urlencoded" } end
    query = o.query or ""
  end
  if o.tamper then method, path, query, headers, body = o.tamper(method, path, query, headers, body) end
  local lines = { method .. " " .. path .. (query ~= "" and ("?" .. query) or "") .. " HTTP/1.1" }
  for _, h in ipairs(headers) do lines[#lines + 1] = h[1] .. ": " .. h[2] end
  lines[#lines + 1] = "Content-Length: " .. #body
  lines[#lines + 1] = "Connection: close"
  local c = self:connect()
  c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
  local status, rheaders, rbody = read_response(c)
  c:close()
  if not status then return nil, rheaders end
  local res = { status = status, headers = rheaders, body = rbody }
  if (rheaders["content-type"] or ""):find("json") then res.json = cjson.decode(rbody) end
  return res
end

return _M
