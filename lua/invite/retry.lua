-- invite.retry - AWS "standard" retry mode, as the SDKs implement it:
--   * at most max_attempts attempts in all (default 3; AWS_MAX_ATTEMPTS or the
--     client's max_attempts option);
--   * what is retried: retry.classify below, botocore's standard mode
--     (StandardRetryConditions) with the deviations docs/clients.md lists under
--     "Retries: where invite differs from botocore"; a 2xx whose body is not JSON
--     is retried too (invite.parse: all the invitation calls are idempotent);
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

local _M = {}

_M.DEFAULT_MAX_ATTEMPTS = 3
_M.MAX_BACKOFF = 20
_M.QUOTA_CAPACITY = 500
_M.RETRY_COST = 5
_M.TIMEOUT_RETRY_COST = 10
_M.NO_RETRY_INCREMENT = 1

local days_from_civil = require("invite.time").days_from_civil

-- Classification ------------------------------------------------------------
-- The facts are botocore's (botocore/retries/standard.py and special.py); spec/pipeline/retry_botocore_spec.lua
-- asks botocore itself about every code, status and transport failure.

--- Error codes that are throttling whatever their status (ThrottledRetryableChecker).
_M.THROTTLING_CODES = {
  Throttling = true, ThrottlingException = true, ThrottledException = true,
  RequestThrottledException = true, TooManyRequestsException = true,
  ProvisionedThroughputExceededException = true, TransactionInProgressException = true,
  RequestLimitExceeded = true, BandwidthLimitExceeded = true, LimitExceededException = true,
  RequestThrottled = true, SlowDown = true, PriorRequestNotComplete = true,
  EC2ThrottledException = true,
}
--- Error codes that are transient whatever their status (TransientRetryableChecker).
_M.TRANSIENT_CODES = { RequestTimeout = true, RequestTimeoutException = true, PriorRequestNotComplete = true }
--- HTTP statuses that are transient whatever the code (TransientRetryableChecker).
_M.TRANSIENT_STATUS = { [500] = true, [502] = true, [503] = true, [504] = true }
--- Codes one service adds (special.RetryIDPCommunicationError: STS's identity provider was not reached).
_M.SERVICE_TRANSIENT_CODES = { sts = { IDPCommunicationError = true } }
--- Transport failure kinds that are transient: the connection was not made, broke or timed out
-- (botocore retries every ConnectionError and HTTPClientError; see the deviations for "tls" and "other").
_M.TRANSIENT_KINDS = { timeout = true, connect = true, reset = true, dns = true }
--- curl codes that make an "other" failure transient: the connection broke mid-exchange
-- (7 couldn't connect, 18 partial file, 28 timeout, 52 empty reply, 55 send error, 56 recv error,
-- 92 HTTP/2 stream error; the transport reports most of them with a kind of their own).
_M.TRANSIENT_CURL = { [7] = true, [18] = true, [28] = true, [52] = true, [55] = true, [56] = true, [92] = true }

local THROTTLING_CODES, TRANSIENT_CODES, TRANSIENT_STATUS = _M.THROTTLING_CODES, _M.TRANSIENT_CODES,
  _M.TRANSIENT_STATUS
local SERVICE_TRANSIENT_CODES, TRANSIENT_KINDS, TRANSIENT_CURL = _M.SERVICE_TRANSIENT_CODES,
  _M.TRANSIENT_KINDS, _M.TRANSIENT_CURL

--- An HTTP error answer -> "throttling" | "transient" | nil (not retried).
-- status: the HTTP status; code: the error code the server sent (nil when it sent none: not a
-- code made up from the status); service: "sts", "guardduty", ...
function _M.classify_response(status, code, service)
  if code ~= nil then
    if THROTTLING_CODES[code] then return "throttling" end
    if TRANSIENT_CODES[code] then return "transient" end
    local extra = SERVICE_TRANSIENT_CODES[service]
    if extra and extra[code] then return "transient" end
  elseif status == 429 then
    -- deviation: botocore retries a 429 only for a throttling code; one without any code (a proxy,
    -- a load balancer) is throttling by definition (RFC 6585)
    return "throttling"
  end
  if TRANSIENT_STATUS[status] then return "transient" end
  return nil
end

--- A transport failure -> "transient" | nil. kind as the transports report it ("timeout",
-- "connect", "reset", "dns", "tls", "other", ...), curl_code when curl gave one.
function _M.classify_transport(kind, curl_code)
  if TRANSIENT_KINDS[kind] or (kind == "other" and TRANSIENT_CURL[curl_code]) then return "transient" end
  -- deviation: TLS failures and the other local failures (a body over max_body_bytes, a raising or
  -- missing transport) are not retried; botocore retries every exception of its HTTP layer
  return nil
end

--- retry.classify{ status =, code =, service = } or retry.classify{ kind =, curl_code = }
-- -> "throttling" | "transient" | nil. With `kind` it is a transport failure (no answer came).
function _M.classify(t)
  if t.kind ~= nil then return _M.classify_transport(t.kind, t.curl_code) end
  return _M.classify_response(t.status, t.code, t.service)
end

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
