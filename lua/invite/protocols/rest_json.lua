--- The rest-json protocol (macie2, securityhub, guardduty): botocore's rest-json serialiser and
-- parser.
--
-- A request:
--   * `uri` members fill the URI template's {labels}, percent-encoded (RFC 3986: everything but
--     A-Z a-z 0-9 - _ . ~ is %XX-encoded; a greedy {label+} keeps its slashes);
--   * `querystring` members become name=value pairs in declaration order;
--   * `body` members become one JSON object (wire names, declaration order); when the operation
--     has body members but none was given the body is {}, when it has none at all the body is
--     empty (botocore does the same);
--   * Content-Type: application/json whenever there is a body.
-- An answer: a 2xx JSON body -> the output members (invite.parse); an error -> code from the
-- x-amzn-ErrorType header or the body's __type / code, message from message / Message
-- (invite.errors.from_response).
-- @module invite.protocols.rest_json
local build = require "invite.build"
local parse = require "invite.parse"
local errors = require "invite.errors"

local tostring, error, setmetatable = tostring, error, setmetatable
local find, gsub, sub = string.find, string.gsub, string.sub
local concat = table.concat

local percent_encode, int_string, json_object = build.percent_encode, build.int_string, build.json_object

local _M = { name = "rest-json" }

-- endpoint -> op -> URL, for operations whose URL does not depend on the parameters
local fixed_urls = setmetatable({}, { __mode = "k" })

--- rest_json.build(op, params, endpoint) -> req
-- op: an operation view from invite.model; params: validated boto3 params; endpoint: the
-- client's resolved endpoint (config.resolve: scheme, authority, base_path, url).
-- req = {method, path, query, url, headers = {{name, value}...}, body}.
function _M.build(op, params, endpoint)
  local has_body_members = false
  local body_given = false
  local query, labels -- made when a member needs them
  local input = op.input
  for i = 1, #input do
    local m = input[i]
    local v = params[m.name]
    local loc = m.location or "body"
    if loc == "body" then
      has_body_members = true
      if v ~= nil then body_given = true end
    elseif v ~= nil then
      local s = (m.type == "integer" or m.type == "long") and int_string(v) or tostring(v)
      if loc == "uri" then
        labels = labels or {}
        labels[m.wire] = s
      elseif loc == "querystring" then
        query = query or {}
        query[#query + 1] = percent_encode(m.wire) .. "=" .. percent_encode(s)
      else
        error("invite.protocols.rest_json: unsupported location " .. tostring(loc) .. " for " .. m.name)
      end
    end
  end
  local path = op.uri
  local base = endpoint.base_path
  local q = query and concat(query, "&") or ""
  local url
  local templated = find(path, "{", 1, true)
  if not templated and q == "" then
    local by_op = fixed_urls[endpoint]
    if not by_op then
      by_op = setmetatable({}, { __mode = "k" })
      fixed_urls[endpoint] = by_op
    end
    url = by_op[op]
    if base ~= "" then path = base .. path end
    if not url then
      url = endpoint.scheme .. "://" .. endpoint.authority .. path
      by_op[op] = url
    end
  else
    if templated then
      local missing
      labels = labels or {}
      path = gsub(path, "{([^}]+)}", function(label)
        local greedy = sub(label, -1) == "+"
        if greedy then label = sub(label, 1, -2) end
        local v = labels[label]
        if v == nil then missing = label; return "" end
        local enc = percent_encode(v)
        if greedy then enc = gsub(enc, "%%2F", "/") end
        return enc
      end)
      if missing then error("invite.protocols.rest_json: URI label {" .. missing .. "} has no value", 2) end
    end
    if base ~= "" then path = base .. path end
    url = endpoint.scheme .. "://" .. endpoint.authority .. path .. (q ~= "" and ("?" .. q) or "")
  end
  local body = ""
  if body_given then
    body = json_object(op.input, params)
  elseif has_body_members then
    body = "{}"
  end
  local headers = { { "Host", endpoint.authority } }
  if body ~= "" then headers[#headers + 1] = { "Content-Type", "application/json" } end
  return {
    method = op.method,
    path = path,
    query = q,
    url = url,
    headers = headers,
    body = body,
  }
end

--- A 2xx answer -> the result (boto3 names, ResponseMetadata) | nil, err.
_M.parse = parse.json

--- A non-2xx answer -> err.
_M.error = errors.from_response

return _M
