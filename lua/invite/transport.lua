-- invite.transport - chooses how requests go on the wire: "curl", the libcurl
-- transport of invite.core (blocking; keep-alive reuse per client), or
-- "cosocket" (invite.cosocket, ngx_lua cosockets). Inside nginx a blocking call
-- freezes the worker, so default_kind() picks "cosocket" in ngx_lua phases that
-- can yield and "curl" everywhere else (init phases, plain Lua).
--
-- A transport is an object with `kind` (a name, for logs and tests) and
--   t:request{method, url, headers = {{name, value}...}, body, timeout_ms}
--     -> {status, headers = {{lowercased name, value}...}, body}
--      | nil, {kind = "timeout"|"connect"|"tls"|"reset"|"dns"|"other", curl_code, message}
-- and optionally t:sleep(seconds) (the client's default sleep when it has one).
-- Both kinds take opts.max_body_bytes: the largest response body accepted (default 1 MiB, see
-- CURL_ENGINE_DEFAULT_MAX_BODY in src/curl_engine.h and DEFAULT_MAX_BODY_BYTES in invite.cosocket); a larger
-- one fails with kind "other" and a message naming the limit, and is not retried.
-- Clients take `transport = "curl"` (a registered kind), a transport object,
-- or a function(req) -> res | nil, err.
local type, require, tostring, error, rawget = type, require, tostring, error, rawget

local _M = {}

local factories = {}

-- transport.register(kind, factory): factory(opts) -> transport object.
function _M.register(kind, factory)
  if type(kind) ~= "string" or type(factory) ~= "function" then
    error("transport.register(kind, factory): a name and a function", 2)
  end
  factories[kind] = factory
end

-- The largest max_body_bytes accepted (the C transport counts in doubles and size_t).
_M.MAX_BODY_BYTES_LIMIT = 2 ^ 52

--- transport.check_max_body_bytes(v) -> true | nil, message (nil is valid: the default).
function _M.check_max_body_bytes(v)
  if v == nil then return true end
  if type(v) ~= "number" or v ~= v or v < 1 or v > _M.MAX_BODY_BYTES_LIMIT or v % 1 ~= 0 then
    return nil, "max_body_bytes must be a positive whole number of bytes (at most 2^52), got "
      .. tostring(v)
  end
  return true
end

local function checked_max_body_bytes(opts)
  local ok, msg = _M.check_max_body_bytes(opts.max_body_bytes)
  if not ok then error("invite.transport: option " .. msg, 4) end
  return opts.max_body_bytes
end

-- The kind used when a client names none: "cosocket" when running in an
-- ngx_lua phase where cosockets yield (rewrite, access, content, timer, ...),
-- "curl" otherwise. Decided when the client makes its transport (first call).
function _M.default_kind()
  -- without an ngx table there is no nginx (and invite.cosocket need not be loaded)
  if rawget(_G, "ngx") ~= nil and require("invite.cosocket").yieldable() then return "cosocket" end
  return "curl"
end

-- libcurl through invite.core (loaded on first use, not at require time).
-- Clients with the same TLS and timeout settings share one handle (one curl multi,
-- one connection cache): a sweep's many clients reuse connections, and the
-- scheduler waits on a single handle instead of polling one per client.
local shared_handles = setmetatable({}, { __mode = "v" })

_M.register("curl", function(opts)
  local core = require "invite.native"
  local verify = opts.verify ~= false
  local max_body = checked_max_body_bytes(opts)
  local key = table.concat({ tostring(verify), tostring(opts.ca_bundle), tostring(opts.connect_timeout_ms),
                             tostring(opts.timeout_ms), tostring(max_body) }, "\0")
  local h = shared_handles[key]
  if not h then
    h = core.http_new{
      verify = verify,
      ca_bundle = opts.ca_bundle,
      connect_timeout_ms = opts.connect_timeout_ms,
      timeout_ms = opts.timeout_ms,
      max_body = max_body, -- nil: the C default (1 MiB)
    }
    shared_handles[key] = h
  end
  -- Through invite.scheduler: inside one of its tasks (the policy runner's
  -- concurrent sweeps) a request or a sleep yields and the scheduler drives
  -- many at once over curl multi; anywhere else both simply block.
  local scheduler = require "invite.scheduler"
  return {
    kind = "curl",
    handle = h,
    request = function(_, req) return scheduler.request(h, req) end,
    sleep = function(_, s) return scheduler.sleep(s) end,
  }
end)

-- ngx.socket.tcp through invite.cosocket (only usable inside nginx).
_M.register("cosocket", function(opts)
  return require("invite.cosocket").new(opts)
end)

-- transport.new(spec, opts) -> transport object.
-- spec: nil (default kind), a kind name, an object with :request, or a function.
function _M.new(spec, opts)
  opts = opts or {}
  if spec == nil then spec = _M.default_kind() end
  if type(spec) == "string" then
    local f = factories[spec]
    if not f then error("invite: unknown transport kind '" .. spec .. "'", 2) end
    local t = f(opts)
    t.kind = t.kind or spec
    return t
  elseif type(spec) == "function" then
    return { kind = "function", request = function(_, req) return spec(req) end }
  elseif type(spec) == "table" and type(spec.request) == "function" then
    if spec.kind == nil then spec.kind = "custom" end
    return spec
  end
  error("invite: transport must be a kind name, a function or an object with :request, got "
    .. tostring(type(spec)), 2)
end

return _M
