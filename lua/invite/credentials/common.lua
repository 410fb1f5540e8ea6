-- invite.credentials.common: small helpers shared by the credential sources, invite.config and
-- invite.sts: error objects, environment access through an injectable getenv, file reading,
-- ISO 8601 timestamps, the HTTP transport adapter and URL helpers.
--
-- Nothing here does I/O at require time. Every function that reads the environment takes `opts`
-- and uses `opts.env`, which may be a function (a getenv) or a table of name -> value; the
-- default is os.getenv. Empty environment values count as unset (what a shell user means by
-- `export AWS_PROFILE=`).

local _M = {}

local type, tostring = type, tostring
local pairs, ipairs, pcall, require = pairs, ipairs, pcall, require
local os_getenv, io_open = os.getenv, io.open
local floor = math.floor

---------------------------------------------------------------------------------------------
-- Errors: the project convention (code, message, status, request_id, retryable, __tostring).
-- Callers build messages from names, paths and codes only, never from credential values.
---------------------------------------------------------------------------------------------

local errors = require "invite.errors"
local util = require "invite.util"

-- code, message and optional fields (status, request_id, retryable, others) -> an invite.errors
-- error (retryable false unless said).
function _M.new_error(code, message, fields)
  local e = {
    code = code,
    message = message,
    status = fields and fields.status or nil,
    request_id = fields and fields.request_id or nil,
    retryable = fields and fields.retryable or false,
  }
  if fields then
    for k, v in pairs(fields) do
      if e[k] == nil then e[k] = v end
    end
  end
  return errors.new(e)
end

_M.is_error = errors.is_error

---------------------------------------------------------------------------------------------
-- Environment
---------------------------------------------------------------------------------------------

-- Returns a getenv function for opts.env (function, table, or nil -> os.getenv).
function _M.getenv_of(opts)
  local env = opts and opts.env
  if env == nil then return os_getenv end
  if type(env) == "function" then return env end
  if type(env) == "table" then
    return function(name) return env[name] end
  end
  error("opts.env must be a function (getenv) or a table", 3)
end

-- Reads a variable; "" counts as unset.
function _M.getenv(opts, name)
  local v = _M.getenv_of(opts)(name)
  if v == nil or v == "" then return nil end
  return v
end

-- true/false for "true"/"false" (any case); nil when unset; invalid -> nil, message.
function _M.parse_bool(v)
  if v == nil then return nil end
  if type(v) == "boolean" then return v end
  local l = tostring(v):lower()
  if l == "true" then return true end
  if l == "false" then return false end
  return nil, "expected true or false"
end

function _M.home(opts)
  if opts and opts.home then return opts.home end
  return _M.getenv(opts, "HOME")
end

-- Expands a leading "~" (or "~/") with the home directory and $VAR / ${VAR} from the
-- environment; unknown variables are left as written (like Python's os.path.expandvars).
function _M.expand_path(opts, path)
  if path == nil then return nil end
  path = path:gsub("%${([%w_]+)}", function(n) return _M.getenv(opts, n) end)
  path = path:gsub("%$([%a_][%w_]*)", function(n) return _M.getenv(opts, n) end)
  if path == "~" or path:sub(1, 2) == "~/" then
    local home = _M.home(opts)
    if home then path = home .. path:sub(2) end
  end
  return path
end

---------------------------------------------------------------------------------------------
-- Files
---------------------------------------------------------------------------------------------

-- Reads a whole file. Returns text | nil, "missing" | nil, reason.
function _M.read_file(path, max_bytes)
  local f, msg = io_open(path, "rb")
  if not f then
    if msg and msg:find("No such file", 1, true) then return nil, "missing" end
    return nil, msg or "cannot open"
  end
  local data, rerr = f:read(max_bytes or "*a")
  f:close()
  if data == nil then
    if rerr then return nil, "cannot read: " .. tostring(rerr) end
    data = ""   -- empty file (read returns nil at EOF with a byte count)
  end
  return data
end

---------------------------------------------------------------------------------------------
-- Time: ISO 8601 / RFC 3339 -> seconds since the epoch (UTC), without os.time's local zone.
---------------------------------------------------------------------------------------------

-- Accepts 2024-01-02T03:04:05Z, with fractional seconds, with +hh:mm / -hh:mm, or a lower-case
-- t/z. Returns epoch seconds (integer part) or nil.
_M.parse_iso8601 = require("invite.time").parse_iso8601

function _M.format_iso8601(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(t))
end

function _M.default_clock()
  return os.time()
end

---------------------------------------------------------------------------------------------
-- HTTP. The credential fetches (IMDS, container, STS) send through the clients' transport
-- choice, invite.transport.new (its contract: t:request{method, url, headers = {{n, v}, ...},
-- body, timeout_ms} -> {status, headers, body} | nil, {kind, curl_code, message}):
--   opts.http        an object with :request or a function(req) (tests, nginx)
--   opts.transport   the same, or a kind name ("curl", "cosocket")
--   neither          invite.transport's default kind where this runs: cosockets in a yieldable
--                    nginx phase, libcurl otherwise
-- and wait through one sleep path: opts.sleep, else that transport's sleep, else the scheduler's
-- (which yields inside a task or to nginx, and blocks elsewhere).
---------------------------------------------------------------------------------------------

-- Transports made from kind names, by kind: credentials fetched in init_worker (curl) do not pin
-- libcurl for later fetches made in a request handler (cosocket).
local by_kind = {}

local function transport_for(opts)
  local spec = opts and opts.http
  if spec == nil then spec = opts and opts.transport end
  local transport = require "invite.transport"
  if spec ~= nil and type(spec) ~= "string" then return transport.new(spec) end
  local kind = spec or transport.default_kind()
  local t = by_kind[kind]
  if not t then
    t = transport.new(kind)
    by_kind[kind] = t
  end
  return t
end

local function send(opts, req)
  local t = transport_for(opts)
  return t:request(req)
end

-- One request -> res | nil, transport error table. A transport that raises (or cannot be made)
-- is a transport error too. scheduler.pcall: the request yields inside a task (Lua 5.1 too).
function _M.http_request(opts, req)
  local ok, res, err = require("invite.scheduler").pcall(send, opts, req)
  if not ok then
    return nil, { kind = "error", message = "transport raised: " .. tostring(res) }
  end
  if res == nil then
    if type(err) ~= "table" then err = { kind = "error", message = tostring(err) } end
    return nil, err
  end
  return res
end

-- The sleep(seconds) of the credential fetches for opts (see above).
function _M.sleep_fn(opts)
  if opts and opts.sleep then return opts.sleep end
  return function(seconds)
    local ok, t = pcall(transport_for, opts)
    if ok and type(t.sleep) == "function" then return t:sleep(seconds) end
    return require("invite.scheduler").sleep(seconds)
  end
end

-- First value of a (lower-cased) response header.
function _M.header(res, name)
  name = name:lower()
  for _, p in ipairs(res.headers or {}) do
    if type(p) == "table" and tostring(p[1]):lower() == name then return p[2] end
  end
  return nil
end

function _M.transport_message(terr)
  if type(terr) ~= "table" then return tostring(terr) end
  local m = terr.message or terr.kind or "transport error"
  if terr.kind and terr.message and not m:find(terr.kind, 1, true) then
    m = terr.kind .. ": " .. m
  end
  return m
end

function _M.is_timeout(terr)
  if type(terr) ~= "table" then return false end
  if terr.kind == "timeout" or terr.curl_code == 28 then return true end
  local m = (terr.message or ""):lower()
  return m:find("timed out", 1, true) ~= nil or m:find("timeout", 1, true) ~= nil
end

---------------------------------------------------------------------------------------------
-- URLs: invite.util's parser, loopback test and RFC 3986 encoder (what SigV4 and the AWS query
-- protocol expect).
---------------------------------------------------------------------------------------------

_M.parse_url = util.parse_url
_M.is_loopback = util.is_loopback
_M.urlencode = util.percent_encode

function _M.copy(t)
  local r = {}
  if t then for k, v in pairs(t) do r[k] = v end end
  return r
end

return _M
