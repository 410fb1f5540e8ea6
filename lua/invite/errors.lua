-- invite.errors - the one error type of the service clients, and the parsers
-- that turn an HTTP response or a transport failure into it.
--
-- Every runtime failure of a service call is returned as `nil, err` where err
-- is a table with code, message, status, request_id, retryable, service,
-- operation (and, where it applies, problems, kind, attempts) and a
-- __tostring that gives one readable line. Nothing here ever sees a secret:
-- errors are built from the response and from names, never from credentials.
local cjson = require "cjson.safe"

local type, tostring, pairs, select = type, tostring, pairs, select
local find, sub, gsub, lower = string.find, string.sub, string.gsub, string.lower

local _M = {}

local util = require "invite.util"
-- errors.new{code=, message=, ...} -> err, errors.is_error(v): the one error type, invite.util's
-- (its __tostring gives the one line "service Operation: Code (HTTP n): message [request-id x]").
_M.new, _M.is_error = util.new_error, util.is_error

-- Whether an error is retried, and as what, is invite.retry's classify (botocore's standard mode);
-- these are its tables and a status/code view of it, for callers of the older names.
local retry = require "invite.retry"
local classify_response, classify_transport = retry.classify_response, retry.classify_transport


-- Header lookup in a list of {name, value} pairs (the transport lowercases
-- names; compare case-insensitively anyway so other transports can be lax).
local function header(headers, name)
  if type(headers) ~= "table" then return nil end
  name = lower(name)
  for i = 1, #headers do
    local h = headers[i]
    if type(h) == "table" and type(h[1]) == "string" and lower(h[1]) == name then return h[2] end
  end
  -- also accept a map, for hand-written test transports
  for k, v in pairs(headers) do
    if type(k) == "string" and lower(k) == name then return v end
  end
  return nil
end
_M.header = header

function _M.request_id(headers)
  return header(headers, "x-amzn-requestid") or header(headers, "x-amz-request-id")
      or header(headers, "x-amz-id-2")
end

-- "Name:http://internal.amazon.com/..." -> "Name"; "aws.protocoltests#Name" -> "Name";
-- "com.amazonaws.guardduty#BadRequestException:extra" -> "BadRequestException".
function _M.clean_code(code)
  if type(code) ~= "string" then return nil end
  local colon = find(code, ":", 1, true)
  if colon then code = sub(code, 1, colon - 1) end
  local hash = find(code, "#[^#]*$")
  if hash then code = sub(code, hash + 1) end
  code = gsub(code, "^%s+", "")
  code = gsub(code, "%s+$", "")
  if code == "" then return nil end
  return code
end

local REASON = {
  [400] = "BadRequest", [401] = "Unauthorized", [403] = "Forbidden", [404] = "NotFound",
  [405] = "MethodNotAllowed", [408] = "RequestTimeout", [409] = "Conflict",
  [413] = "RequestEntityTooLarge", [429] = "TooManyRequests", [500] = "InternalServerError",
  [501] = "NotImplemented", [502] = "BadGateway", [503] = "ServiceUnavailable",
  [504] = "GatewayTimeout",
}

-- A printable, bounded excerpt of a body that is not JSON.
local function excerpt(body)
  if type(body) ~= "string" or body == "" then return "empty body" end
  local s = sub(body, 1, 120)
  s = gsub(s, "[%c\128-\255]", "?")
  if #body > 120 then s = s .. "..." end
  return "body: " .. s
end

--- The longest message an error keeps from a server (bytes); the rest is cut and counted.
_M.MESSAGE_MAX = 1024

-- A server's message, at most MESSAGE_MAX bytes (never cutting a UTF-8 character in two).
local function bounded(message)
  if type(message) ~= "string" or #message <= _M.MESSAGE_MAX then return message end
  local n = _M.MESSAGE_MAX
  -- back up over continuation bytes (10xxxxxx) to the start of the character that would be cut
  while n > 0 and find(sub(message, n + 1, n + 1), "^[\128-\191]") do n = n - 1 end
  return sub(message, 1, n) .. "... (" .. #message .. " bytes, cut to " .. n .. ")"
end
_M.bounded = bounded

local function field(obj, ...)
  if type(obj) ~= "table" then return nil end
  for i = 1, select("#", ...) do
    local v = obj[select(i, ...)]
    if type(v) == "string" and v ~= "" then return v end
  end
  return nil
end

-- errors.from_response(res, ctx) -> err for a non-2xx HTTP response.
-- res = {status, headers, body}; ctx = {service=, operation=}.
-- The code comes from, in order: the x-amzn-ErrorType header (part before
-- ':'), the body's __type (part after any '#'), code, Code. The message from
-- message, Message, errorMessage or the x-amzn-ErrorMessage header.
function _M.from_response(res, ctx)
  ctx = ctx or {}
  local status = res.status
  local headers = res.headers
  local body = res.body
  local obj
  if type(body) == "string" and find(body, "^%s*{") then
    local v = cjson.decode(body)
    if type(v) == "table" then obj = v end
  end
  local code = _M.clean_code(header(headers, "x-amzn-errortype"))
      or _M.clean_code(field(obj, "__type"))
      or _M.clean_code(field(obj, "code"))
      or _M.clean_code(field(obj, "Code"))
  local message = bounded(field(obj, "message", "Message", "errorMessage", "ErrorMessage")
      or header(headers, "x-amzn-errormessage"))
  if not obj then
    -- not JSON (a proxy's HTML page, a truncated body): still a clear error
    message = (message and message .. "; " or "") .. "non-JSON error response with HTTP status "
        .. tostring(status) .. " (" .. excerpt(body) .. ")"
  end
  -- classified by the code the server sent, not one made up below from the status
  local class = classify_response(status, code, ctx.service)
  code = bounded(code) or REASON[status] or ("HTTP" .. tostring(status))
  return _M.new{
    code = code,
    message = message or ("HTTP " .. tostring(status)),
    status = status,
    request_id = _M.request_id(headers) or field(obj, "requestId", "RequestId"),
    retryable = class ~= nil,
    throttle = class == "throttling",
    service = ctx.service,
    operation = ctx.operation,
    retry_after = header(headers, "retry-after"),
  }
end

-- Transport failures (err.kind from the transport) -> err.
local KIND_CODE = {
  timeout = "RequestTimeoutError",
  connect = "ConnectionError",
  reset = "ConnectionResetError",
  dns = "EndpointResolutionError",
  tls = "TLSError",
  other = "TransportError",
}
function _M.from_transport(terr, ctx)
  ctx = ctx or {}
  if type(terr) ~= "table" then terr = { kind = "other", message = tostring(terr) } end
  local kind = terr.kind or "other"
  local retryable = classify_transport(kind, terr.curl_code) ~= nil
  return _M.new{
    code = KIND_CODE[kind] or "TransportError",
    message = tostring(terr.message or kind) .. (terr.curl_code and (" (curl " .. terr.curl_code .. ")") or ""),
    kind = kind,
    curl_code = terr.curl_code,
    retryable = retryable,
    service = ctx.service,
    operation = ctx.operation,
  }
end

-- Local errors (validation, configuration) are never retryable.
function _M.client(code, message, ctx, extra)
  local e = extra or {}
  e.code, e.message = code, message
  e.service = ctx and ctx.service
  e.operation = ctx and ctx.operation
  e.retryable = false
  return _M.new(e)
end

return _M
