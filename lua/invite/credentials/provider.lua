-- invite.credentials.provider: the object every credential source returns.
--
--   provider:get()      -> true, access_key, secret_key, session_token | nil, err
--   provider:refresh()  -> true | nil, err   (fetches now; the one function to wrap with a lock)
--   provider:info()     -> { source = ..., expiration = epoch|nil, name = ... } (never a secret)
--
-- A source is a `fetch(self)` function returning a credentials table
--   { access_key_id, secret_access_key, session_token, expiration (epoch seconds or nil),
--     source = "where it came from" }
-- or nil, err. An err with `not_found = true` means "this source is not configured here" and
-- lets a chain try the next source; any other err stops the chain (as botocore raises).
--
-- Refresh (temporary credentials, i.e. with an expiration), after botocore's
-- RefreshableCredentials, with smaller windows so 15-minute STS credentials are not refetched
-- on every call:
--   * more than `advisory` seconds left (default 300): use the cached credentials;
--   * between `mandatory` (default 120) and `advisory` seconds left: try to refresh; if that
--     fails, keep using the cached credentials and do not try again for `retry_interval`
--     seconds (default 30);
--   * less than `mandatory` seconds left, or nothing cached: refresh; a failure is returned.
--   * A refresh whose result is already expired is an error.
-- One refresh at a time (single flight): while `refresh` runs (it yields in a scheduler task
-- or on nginx cosockets), other callers get the cached credentials if they have not expired;
-- with nothing usable cached they wait for that refresh (invite.scheduler.wait: parked tasks,
-- or an ngx.semaphore in nginx light threads) and share its result: its keys, or its own error
-- (a copy each). One fetch however many callers ask; nobody sees a "refresh in progress". A
-- wait is bounded by `refresh_wait` seconds (default 120): past it, or when nothing can ever
-- finish the refresh (every scheduler task waiting), the caller gets a non-retryable
-- RefreshTimeout. A caller that cannot wait (blocking code outside nginx and the scheduler,
-- while a refresh is suspended in some coroutine) fetches for itself.

local common = require "invite.credentials.common"

local _M = {}

local type, tostring, setmetatable, getmetatable, pairs = type, tostring, setmetatable, getmetatable, pairs
local new_error = common.new_error

local DEFAULT_ADVISORY = 300
local DEFAULT_MANDATORY = 120
local DEFAULT_RETRY_INTERVAL = 30
local DEFAULT_REFRESH_WAIT = 120

_M.DEFAULT_ADVISORY = DEFAULT_ADVISORY
_M.DEFAULT_MANDATORY = DEFAULT_MANDATORY
_M.DEFAULT_REFRESH_WAIT = DEFAULT_REFRESH_WAIT

local scheduler -- invite.scheduler, loaded on first use (it loads invite.core lazily itself)

-- Waits while obj[field] is set (a refresh in flight in another task or light thread), parked
-- on obj itself: whoever clears the field calls scheduler.signal(obj).
-- -> true once the field cleared; false when the caller cannot wait (blocking code outside
-- nginx and the scheduler); nil, err (RefreshTimeout, not retryable) after `timeout` seconds
-- or when nothing can finish the refresh. `what` names it in the error.
function _M.await(obj, field, timeout, what)
  if not obj[field] then return true end
  scheduler = scheduler or require "invite.scheduler"
  if not scheduler.can_wait() then return false end
  timeout = timeout or DEFAULT_REFRESH_WAIT
  local deadline = scheduler.now() + timeout
  local why
  while obj[field] do
    local left = deadline - scheduler.now()
    if left <= 0 then why = "timeout" break end
    local ok, werr = scheduler.wait(obj, left)
    if not ok and werr ~= "timeout" then why = werr break end
  end
  if not why then return true end
  local msg
  if why == "deadlock" then
    msg = ("%s: the credential refresh in flight cannot finish (every scheduler task is waiting for it)")
      :format(tostring(what))
  else
    msg = ("%s: gave up after %g s waiting for the credential refresh in flight (%s)")
      :format(tostring(what), timeout, tostring(why))
  end
  return nil, new_error("RefreshTimeout", msg, { retryable = false })
end

-- each waiter gets its own copy of the refresh's error (callers annotate errors in place)
local function copy_error(e)
  if type(e) ~= "table" then return e end
  local c = {}
  for k, v in pairs(e) do c[k] = v end
  return setmetatable(c, getmetatable(e))
end
_M.copy_error = copy_error

local mt = {}
mt.__index = mt
mt.__tostring = function(p)
  return "invite.credentials provider (" .. tostring(p.name) .. ")"
end

function _M.not_found(source, reason)
  return new_error("NoCredentials", reason, { not_found = true, source = source })
end

-- Checks a fetched credentials table; returns it or nil, err. Never echoes values.
local function validate(name, c)
  if type(c) ~= "table" then
    return nil, new_error("InvalidCredentials", name .. ": the source returned no credentials")
  end
  if type(c.access_key_id) ~= "string" or c.access_key_id == "" then
    return nil, new_error("InvalidCredentials", name .. ": the access key id is missing or empty")
  end
  if type(c.secret_access_key) ~= "string" or c.secret_access_key == "" then
    return nil, new_error("InvalidCredentials", name .. ": the secret access key is missing or empty")
  end
  if c.session_token ~= nil and type(c.session_token) ~= "string" then
    return nil, new_error("InvalidCredentials", name .. ": the session token is not a string")
  end
  if c.session_token == "" then c.session_token = nil end
  if c.expiration ~= nil and type(c.expiration) ~= "number" then
    local t = common.parse_iso8601(c.expiration)
    if not t then
      return nil, new_error("InvalidCredentials", name .. ": the expiration is not an ISO 8601 time")
    end
    c.expiration = t
  end
  return c
end
_M.validate = validate

-- new(name, fetch, opts) -> provider. opts: clock, refresh_advisory, refresh_mandatory,
-- refresh_retry_interval, refresh_wait (seconds a caller waits for a refresh in flight).
function _M.new(name, fetch, opts)
  opts = opts or {}
  local clock = opts.clock or common.default_clock
  if type(clock) ~= "function" then error("opts.clock must be a function", 3) end
  local p = setmetatable({
    name = name,
    _fetch = fetch,
    _clock = clock,
    advisory = opts.refresh_advisory or DEFAULT_ADVISORY,
    mandatory = opts.refresh_mandatory or DEFAULT_MANDATORY,
    retry_interval = opts.refresh_retry_interval or DEFAULT_RETRY_INTERVAL,
    refresh_wait = opts.refresh_wait or DEFAULT_REFRESH_WAIT,
  }, mt)
  if p.mandatory > p.advisory then p.mandatory = p.advisory end
  return p
end

-- _inflight counts refreshes running at once: more than one only when a caller that could
-- not wait fetched beside a suspended refresh; _refreshing stays set until the last ends.
function mt:refresh()
  self._inflight = (self._inflight or 0) + 1
  self._refreshing = true
  scheduler = scheduler or require "invite.scheduler"
  local ok, c, err = scheduler.pcall(self._fetch, self) -- the fetch yields inside a task (Lua 5.1 too)
  self._inflight = self._inflight - 1
  self._refreshing = self._inflight > 0
  self._last_err = nil
  local r, rerr = self:_store(ok, c, err)
  if not r then self._last_err = rerr end
  if not self._refreshing then (scheduler or require "invite.scheduler").signal(self) end
  return r, rerr
end

function mt:_store(ok, c, err)
  if not ok then
    -- a bug in a source; its message comes from our code, not from credential values
    return nil, new_error("CredentialsError", self.name .. ": " .. tostring(c))
  end
  if not c then
    if type(err) ~= "table" then err = new_error("CredentialsError", self.name .. ": " .. tostring(err)) end
    return nil, err
  end
  local v, verr = validate(self.name, c)
  if not v then return nil, verr end
  if v.expiration and v.expiration <= self._clock() then
    return nil, new_error("ExpiredCredentials", ("%s: the credentials it returned expired at %s")
      :format(v.source or self.name, common.format_iso8601(v.expiration)))
  end
  self._creds = v
  self._next_try = nil
  return true
end

function mt:get()
  local c = self._creds
  local now = self._clock()
  if c then
    local exp = c.expiration
    if exp == nil or now < exp - self.advisory then
      return true, c.access_key_id, c.secret_access_key, c.session_token
    end
  end
  local usable = c and now < c.expiration       -- cached and not yet expired
  local mandatory = not c or now >= c.expiration - self.mandatory
  if self._refreshing then
    if usable then return true, c.access_key_id, c.secret_access_key, c.session_token end
    local waited, werr = _M.await(self, "_refreshing", self.refresh_wait, self.name)
    if waited == nil then return nil, werr end
    if waited then
      -- the refresh in flight ended: its result is ours
      c = self._creds
      if c and (c.expiration == nil or self._clock() < c.expiration) then
        return true, c.access_key_id, c.secret_access_key, c.session_token
      end
      if self._last_err then return nil, copy_error(self._last_err) end
    end
    -- nothing to share (could not wait, or invalidated meanwhile): fetch here
    mandatory = true
  end
  if not mandatory and self._next_try and now < self._next_try then
    return true, c.access_key_id, c.secret_access_key, c.session_token
  end
  local ok, err = self:refresh()
  if not ok then
    if not mandatory and usable then
      self._next_try = now + self.retry_interval
      return true, c.access_key_id, c.secret_access_key, c.session_token
    end
    return nil, err
  end
  c = self._creds
  return true, c.access_key_id, c.secret_access_key, c.session_token
end

function mt:info()
  local c = self._creds
  return { name = self.name, source = c and c.source or nil, expiration = c and c.expiration or nil,
           cached = c ~= nil }
end

-- Drops cached credentials (the next get() fetches again).
function mt:invalidate()
  self._creds = nil
  self._next_try = nil
end

_M.mt = mt

return _M
