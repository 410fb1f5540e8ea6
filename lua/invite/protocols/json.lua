--- The awsJson protocols, 1.0 and 1.1 (botocore's "json"; AWS Organizations is 1.1): every
-- operation is a POST to the endpoint's "/" with
--   * `X-Amz-Target: <targetPrefix>.<Operation>` (signed, like every header invite sends),
--   * `Content-Type: application/x-amz-json-<jsonVersion>`,
--   * a body that is the JSON object of the input members (wire names, declaration order);
--     `{}` when none is given, as botocore sends.
-- The service's declaration names them: `protocol = "json"`, `json_version = "1.1"` (default
-- "1.0"), `target_prefix = "AWSOrganizationsV20161128"`.
-- An answer: a 2xx JSON body -> the output members (invite.parse); an error -> code from the
-- body's `__type` (`namespace#Code` keeps the part after `#`) or the x-amzn-ErrorType header,
-- message from message / Message (invite.errors.from_response).
-- @module invite.protocols.json
local build = require "invite.build"
local parse = require "invite.parse"
local errors = require "invite.errors"

local error, tostring, setmetatable = error, tostring, setmetatable

local _M = { name = "json" }

local JSON_VERSIONS = { ["1.0"] = true, ["1.1"] = true }

-- def -> op -> the X-Amz-Target value; def -> the Content-Type (made once each)
local targets = setmetatable({}, { __mode = "k" })
local content_types = setmetatable({}, { __mode = "k" })

local function target_of(def, op)
  local by_op = targets[def]
  if not by_op then
    by_op = setmetatable({}, { __mode = "k" })
    targets[def] = by_op
  end
  local t = by_op[op]
  if not t then
    if type(def.target_prefix) ~= "string" or def.target_prefix == "" then
      error("invite.protocols.json: the declaration of " .. tostring(def.name) .. " has no target_prefix", 3)
    end
    t = def.target_prefix .. "." .. op.name
    by_op[op] = t
  end
  return t
end

local function content_type_of(def)
  local ct = content_types[def]
  if not ct then
    local v = def.json_version or "1.0"
    if not JSON_VERSIONS[v] then
      error("invite.protocols.json: json_version must be \"1.0\" or \"1.1\", got " .. tostring(v), 3)
    end
    ct = "application/x-amz-json-" .. v
    content_types[def] = ct
  end
  return ct
end

--- json.build(op, params, endpoint, def) -> req
-- op: an operation view from invite.model; params: validated boto3 params; endpoint: the
-- client's resolved endpoint (config.resolve: scheme, authority, base_path, url); def: the
-- service's declaration. req = {method, path, query, url, headers = {{name, value}...}, body}.
function _M.build(op, params, endpoint, def)
  local base = endpoint.base_path
  return {
    method = "POST",
    path = base .. "/",
    query = "",
    url = build.root_url(endpoint),
    headers = {
      { "Host", endpoint.authority },
      { "Content-Type", content_type_of(def) },
      { "X-Amz-Target", target_of(def, op) },
    },
    body = build.json_object(op.input, params),
  }
end

--- A 2xx answer -> the result (boto3 names, ResponseMetadata) | nil, err.
_M.parse = parse.json

--- A non-2xx answer -> err.
_M.error = errors.from_response

return _M
