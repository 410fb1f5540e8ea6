-- invite.parse - what every protocol's response parser shares (invite.protocols.*):
--   * parse.result(res) -> the result table a protocol fills, holding
--     ResponseMetadata = {RequestId, HTTPStatusCode, HTTPHeaders, RetryAttempts};
--   * parse.json(op, res, ctx): a 2xx answer of the JSON protocols (rest-json, awsJson) -> a
--     table with boto3's member names (nested lists and structures included);
--   * parse.invalid(res, ctx, message, retryable) and parse.service_error(res, ctx, code, message,
--     request_id): the error objects protocols return.
--
-- As in boto3, members the declaration does not know are dropped and JSON nulls are absent.
-- Timestamps stay ISO-8601 strings (a number on the wire, seconds since the epoch, is turned
-- into one). Integers come back as Lua integers on 5.3+.
local cjson = require "cjson.safe"
local errors = require "invite.errors"
local retry = require "invite.retry"

local type, tostring = type, tostring
local find, format, lower = string.find, string.format, string.lower

-- lower() of header names, remembered for the names seen (bounded: a server picks them)
local lowered, nlowered = {}, 0
local function lower_name(n)
  local ln = lower(n)
  if nlowered < 512 and type(n) == "string" then
    lowered[n] = ln
    nlowered = nlowered + 1
  end
  return ln
end

local _M = {}

local null = cjson.null

local decode_value

-- parse.decode_members(members, obj, into) -> into (or a new table) holding obj's declared
-- members under their boto3 names.
local function decode_members(members, obj, into)
  local out = into or {}
  for i = 1, #members do -- a declaration: a plain array
    local m = members[i]
    local v = obj[m.wire or m.name]
    if v ~= nil and v ~= null then
      local d = decode_value(m, v)
      if d ~= nil then out[m.name] = d end
    end
  end
  return out
end
_M.decode_members = decode_members

function decode_value(spec, v)
  local t = spec.type
  if t == "list" then
    if type(v) ~= "table" then return nil end
    local out = {}
    for i = 1, #v do
      local e = v[i]
      if e ~= null then
        local d = decode_value(spec.member, e)
        -- a structure that is not an object (a broken or hostile answer) stays in the list as an
        -- empty structure, so its absence cannot read as "nothing went wrong" (an unprocessed
        -- entry that is a string is still an unprocessed entry)
        if d == nil and spec.member.type == "structure" then d = {} end
        out[#out + 1] = d
      end
    end
    return out
  elseif t == "structure" then
    if type(v) ~= "table" then return nil end
    return decode_members(spec.members, v)
  elseif t == "map" then
    -- a JSON object: its string keys kept, each value decoded by the map's `value` spec
    if type(v) ~= "table" then return nil end
    local out, vspec = {}, spec.value or { type = "string" }
    for k, e in pairs(v) do
      if type(k) == "string" and e ~= null then
        local d = decode_value(vspec, e)
        if d ~= nil then out[k] = d end
      end
    end
    return out
  elseif t == "integer" or t == "long" then
    if type(v) ~= "number" then return tonumber(v) end
    return math.tointeger and math.tointeger(v) or v
  elseif t == "timestamp" then
    if type(v) == "number" then
      return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(v))
    end
    return v
  end
  return v
end

-- An answer that is not what its protocol sends (a 2xx whose body cannot be read).
function _M.invalid(res, ctx, message, retryable)
  return errors.new{
    code = "InvalidResponse",
    message = message,
    status = res.status,
    request_id = errors.request_id(res.headers),
    retryable = retryable == true,
    service = ctx and ctx.service,
    operation = ctx and ctx.operation,
  }
end

-- A service's error answer (non-2xx) from the parts a protocol read out of it: code (nil when the
-- answer carries none), message, request_id. Classified by invite.retry (botocore's standard mode)
-- from the code the server sent, as invite.errors.from_response does; with no code the error's
-- code is "HTTP<status>".
function _M.service_error(res, ctx, code, message, request_id)
  local status = res.status
  local service = ctx and ctx.service
  local class = retry.classify_response(status, code, service)
  local headers = res.headers
  return errors.new{
    code = errors.bounded(code) or ("HTTP" .. tostring(status)),
    message = errors.bounded(message) or ("HTTP status " .. tostring(status)),
    status = status,
    request_id = request_id or errors.request_id(headers),
    retryable = class ~= nil,
    throttle = class == "throttling",
    service = service,
    operation = ctx and ctx.operation,
    retry_after = errors.header(headers, "retry-after"),
  }
end

-- parse.result(res) -> {ResponseMetadata = {RequestId, HTTPStatusCode, HTTPHeaders, RetryAttempts}}
-- (room for three more members), the table a protocol puts the answer's members in.
local function result(res)
  -- The header map starts with room for 8 names (the nil fields only size the table: a response
  -- has about that many, and growing a table 1 -> 2 -> 4 -> 8 costs more than the rest of it)
  local hdrs = { _1 = nil, _2 = nil, _3 = nil, _4 = nil, _5 = nil, _6 = nil, _7 = nil, _8 = nil }
  -- one pass: the lowercased map, and the request id as errors.request_id finds it
  -- (x-amzn-requestid, else x-amz-request-id, else x-amz-id-2; the first of each)
  local rid, rid2, rid3
  local list = res.headers
  if type(list) == "table" then
    -- ipairs' walk (up to the first nil) without a call per pair
    local i, h = 1, list[1]
    while h ~= nil do
      if type(h) == "table" then
        local n = h[1]
        if n then
          local v = h[2]
          local ln = lowered[n] or lower_name(n)
          hdrs[ln] = v
          if rid == nil and type(n) == "string" then
            if ln == "x-amzn-requestid" then rid = v or false
            elseif ln == "x-amz-request-id" then if rid2 == nil then rid2 = v or false end
            elseif ln == "x-amz-id-2" then if rid3 == nil then rid3 = v or false end end
          end
        end
      end
      i = i + 1
      h = list[i]
    end
    if not rid then
      -- a list has its answer here; a table without pairs (a map of names, which hand-written
      -- test transports return) is left to errors.request_id, as it always was
      if list[1] == nil then rid = errors.request_id(list) else rid = rid2 or rid3 or nil end
    end
  end
  -- the result, with room for the metadata and three members (sized as above)
  return { ResponseMetadata = {
    RequestId = rid,
    HTTPStatusCode = res.status,
    HTTPHeaders = hdrs,
    RetryAttempts = 0,
  }, _1 = nil, _2 = nil, _3 = nil }
end
_M.result = result

-- parse.json(op, res, ctx) -> result | nil, err
-- res = {status, headers, body} with a 2xx status and a JSON body (or none).
function _M.json(op, res, ctx)
  local body = res.body or ""
  local obj
  if find(body, "%S") then
    local v, derr = cjson.decode(body)
    if type(v) ~= "table" then
      -- a 2xx with a body that is not a JSON object: the answer was cut or
      -- garbled on the way; the call is retried like a broken connection.
      return nil, _M.invalid(res, ctx, format("HTTP %s response is not a JSON object (%s)", tostring(res.status),
        tostring(derr or type(v))), true)
    end
    obj = v
  else
    obj = {}
  end
  return decode_members(op.output, obj, result(res))
end

return _M
