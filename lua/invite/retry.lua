-- invite.retry - AWS "standard" retry mode, as the SDKs implement it:
--   * at most max_attempts attempts in all (default 3; AWS_MAX_ATTEMPTS or the
--     client's max_attempts option);
--   * retried: throttling (429, ThrottlingException, TooManyRequestsException,
--     LimitExceededException, ... see invite.errors), transient server errors
--     (500, 502, 503, 504), broken connections and timeouts, and a 2xx whose
--     body is not JSON (all the invitation calls are idempotent);
--     never retried: validation, access, not-found and every other 4xx;
--   * delay before attempt n+1: full jitter, random() * min(2^(n-1), 20) s;
--     a Retry-After header (seconds or an HTTP date) replaces the jitter,
--     capped at the same 20 s so a hostile or confused server cannot stall a
--     sweep;
--   * a retry quota per client (500 tokens; a retry costs 5, 10 after a
--     timeout; a success refunds what its retries cost, or 1 without retries)
--     so a failing region stops being hammered.
-- The clock, the sleep and the random source are injected by the client.
local type, tonumber, tostring = type, tonumber, tostring
local match, lower = string.match, string.lower
local min, max, floor = math.min, math.max, math.floor

local _M = { _VERSION = "0.1.0" }

_M.DEFAULT_MAX_ATTEMPTS = 3
_M.MAX_BACKOFF = 20
_M.QUOTA_CAPACITY = 500
_M.RETRY_COST = 5
_M.TIMEOUT_RETRY_COST = 10
_M.NO_RETRY_INCREMENT = 1

local days_from_civil = require("invite.time").days_from_civil

local MONTHS = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8, sep = 9,
  oct = 10, nov = 11, dec = 12 }

-- Retry-After -> seconds to wait (>= 0) or nil. `now` is epoch seconds.
function _M.parse_retry_after(v, now)
  if v == nil then return nil end
  v = tostring(v)
  local secs = match(v, "^%s*(%d+%.?%d*)%s*$")
  if secs then return tonumber(secs) end
  -- IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT"
  local d, mon, y, hh, mm, ss = match(v, "(%d%d?)%s+(%a%a%a)%s+(%d%d%d%d)%s+(%d%d):(%d%d):(%d%d)")
  if d and MONTHS[lower(mon)] and now then
    local t = days_from_civil(tonumber(y), MONTHS[lower(mon)], tonumber(d)) * 86400
        + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
    return max(0, t - now)
  end
  return nil
end

-- retry.delay(attempt, err, random, now) -> seconds before the next attempt.
-- attempt is the number of the attempt that just failed (1-based).
function _M.delay(attempt, err, random, now)
  local ra = err and _M.parse_retry_after(err.retry_after, now)
  if ra then return min(ra, _M.MAX_BACKOFF) end
  return random() * min(2 ^ (attempt - 1), _M.MAX_BACKOFF)
end

-- Quota ------------------------------------------------------------------
function _M.new_quota(capacity)
  capacity = capacity or _M.QUOTA_CAPACITY
  return { capacity = capacity, available = capacity }
end

-- Take the cost of one retry after `err`; nil when the quota is exhausted.
function _M.acquire(quota, err)
  if not quota then return 0 end
  local cost = (err and err.kind == "timeout") and _M.TIMEOUT_RETRY_COST or _M.RETRY_COST
  if quota.available < cost then return nil end
  quota.available = quota.available - cost
  return cost
end

function _M.release(quota, spent)
  if not quota then return end
  local refund = (spent and spent > 0) and spent or _M.NO_RETRY_INCREMENT
  quota.available = min(quota.capacity, quota.available + refund)
end

-- retry.max_attempts(value) -> integer >= 1 | nil, message
function _M.check_max_attempts(v)
  local n = tonumber(v)
  if not n or n ~= floor(n) or n < 1 then
    return nil, "max_attempts must be an integer >= 1, got " .. tostring(v)
  end
  return floor(n)
end

-- The attempts after a failed first one (err is its error); see retry.run.
local function retry_loop(err, attempt_fn, opts, a, b, c, d)
  local max_attempts = opts.max_attempts or _M.DEFAULT_MAX_ATTEMPTS
  local spent = 0
  local attempt = 1
  while true do
    if type(err) == "table" then err.attempts = attempt end
    if not (type(err) == "table" and err.retryable) or attempt >= max_attempts then
      return nil, err
    end
    local cost = _M.acquire(opts.quota, err)
    if not cost then
      err.message = tostring(err.message) .. " (retry quota exhausted)"
      return nil, err
    end
    spent = spent + cost
    local wait = _M.delay(attempt, err, opts.random, opts.now and opts.now())
    if opts.on_retry then opts.on_retry(err, attempt, wait) end
    if wait > 0 then opts.sleep(wait) end
    attempt = attempt + 1
    local res
    res, err = attempt_fn(attempt, a, b, c, d)
    if res ~= nil then
      _M.release(opts.quota, spent)
      return res, attempt - 1
    end
  end
end

-- retry.run(attempt_fn, opts[, a, b, c, d]) -> result, retries | nil, err
-- attempt_fn(attempt_number, a, b, c, d) -> result | nil, err (err.retryable decides); the
-- extra arguments let a caller pass its state without making a closure per call.
-- opts = {max_attempts, sleep(seconds), random() -> [0,1), now() -> epoch s,
--         quota, on_retry(err, attempt, delay)}.
function _M.run(attempt_fn, opts, a, b, c, d)
  -- the first attempt outside the loop: the usual call succeeds at once, and a path without a
  -- loop is one LuaJIT can compile into its caller's trace
  local res, err = attempt_fn(1, a, b, c, d)
  if res ~= nil then
    _M.release(opts.quota, 0)
    return res, 0
  end
  return retry_loop(err, attempt_fn, opts, a, b, c, d)
end

return _M
