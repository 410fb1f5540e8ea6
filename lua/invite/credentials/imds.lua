-- invite.credentials.imds: EC2 instance role credentials from the instance metadata service,
-- IMDSv2 first (botocore's InstanceMetadataFetcher, with the differences noted below).
--
-- Steps: PUT <base>/latest/api/token with x-aws-ec2-metadata-token-ttl-seconds: 21600, then
-- GET <base>/latest/meta-data/iam/security-credentials/ (the role name) and
-- GET <base>/latest/meta-data/iam/security-credentials/<role> (JSON), sending
-- x-aws-ec2-metadata-token when a token was obtained.
-- Rules:
--   * AWS_EC2_METADATA_DISABLED=true: not consulted at all.
--   * Token PUT answered 200: IMDSv2. 403, 404 or 405: no token - IMDSv1 is tried next (botocore:
--     IMDS with v2 turned off, or a proxy in front), unless AWS_EC2_METADATA_V1_DISABLED=true /
--     ec2_metadata_v1_disabled, which refuses that fallback. 400: stop, no fallback.
--   * An instance that requires IMDSv2 answers the tokenless GET with 401; that is a failure,
--     never credentials - "v1 fallback refused when a token is required".
--   * Deviation from botocore: a PUT that times out or cannot connect ends the attempt instead of
--     falling back to IMDSv1 (botocore falls back and waits again); a metadata service that does
--     not answer PUT will not answer GET, and this bounds the wait by attempts x timeout.
--   * Timeout per request: AWS_METADATA_SERVICE_TIMEOUT / metadata_service_timeout seconds
--     (default 1); attempts: AWS_METADATA_SERVICE_NUM_ATTEMPTS / metadata_service_num_attempts
--     (default 1).
--   * Base URL: AWS_EC2_METADATA_SERVICE_ENDPOINT / ec2_metadata_service_endpoint, else by
--     AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE / ec2_metadata_service_endpoint_mode (IPv4
--     http://169.254.169.254, IPv6 http://[fd00:ec2::254]).
--   * The credentials JSON must hold AccessKeyId, SecretAccessKey, Token and Expiration; a JSON
--     error document (Code/Message) is reported by its Code.
-- Not finding IMDS (disabled, unreachable, no role attached) lets a chain move on; the reason is
-- kept for the "looked at" list.

local common = require "invite.credentials.common"
local provider = require "invite.credentials.provider"
local config = require "invite.config"

local _M = {}

local type, tostring, tonumber = type, tostring, tonumber
local getenv, new_error = common.getenv, common.new_error

local TOKEN_TTL = "21600"
local CREDS_PATH = "latest/meta-data/iam/security-credentials/"

-- setting from opts.imds[k], else the environment, else the profile (read lazily; a broken
-- config is not fatal here: the value is just not found)
local function setting(opts, key, env_name, profile_key)
  local o = opts.imds or {}
  if o[key] ~= nil then return o[key] end
  return (config.setting(opts, nil, { env_name }, profile_key))
end

function _M.settings(opts)
  local s = {}
  local disabled = getenv(opts, "AWS_EC2_METADATA_DISABLED")
  s.disabled = disabled ~= nil and disabled:lower() == "true"
  local v1off = setting(opts, "v1_disabled", "AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled")
  s.v1_disabled = v1off == true or (type(v1off) == "string" and v1off:lower() == "true")
  s.timeout = tonumber(setting(opts, "timeout", "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout")) or 1
  s.attempts = math.max(1, math.floor(tonumber(setting(opts, "attempts", "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
    "metadata_service_num_attempts")) or 1))
  local base = setting(opts, "endpoint", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint")
  if not base then
    local mode = setting(opts, "endpoint_mode", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
      "ec2_metadata_service_endpoint_mode")
    mode = mode and mode:lower() or "ipv4"
    if mode == "ipv6" then base = "http://[fd00:ec2::254]"
    elseif mode == "ipv4" then base = "http://169.254.169.254"
    else return nil, "ec2_metadata_service_endpoint_mode must be IPv4 or IPv6" end
  end
  if not common.parse_url(base) then return nil, "the metadata service endpoint " .. base .. " is not a URL" end
  s.base = base:gsub("/+$", "") .. "/"
  return s
end

local function request(opts, s, method, path, headers)
  return common.http_request(opts, { method = method, url = s.base .. path, headers = headers,
                                     timeout_ms = math.floor(s.timeout * 1000) })
end

-- Returns token | false (no token: v1 allowed by the server's answer) | nil, reason, stop
local function get_token(opts, s)
  local last
  for _ = 1, s.attempts do
    local res, terr = request(opts, s, "PUT", "latest/api/token",
      { { "x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL } })
    if not res then
      -- see the deviation note above: no v1 fallback after a timeout or connect failure
      return nil, (common.is_timeout(terr) and "timed out after %gs requesting an IMDSv2 token"
        or "cannot reach the metadata service: " .. common.transport_message(terr)):format(s.timeout)
    end
    if res.status == 200 and res.body and res.body ~= "" then return res.body end
    if res.status == 403 or res.status == 404 or res.status == 405 then return false, res.status end
    if res.status == 400 then return nil, "the token request was refused as bad (HTTP 400)" end
    last = "HTTP " .. tostring(res.status) .. " to the token request"
  end
  return false, last
end

local function get(opts, s, path, token, want_json)
  local headers = {}
  if token then headers[1] = { "x-aws-ec2-metadata-token", token } end
  local last
  for _ = 1, s.attempts do
    local res, terr = request(opts, s, "GET", path, headers)
    if not res then
      last = common.is_timeout(terr) and ("timed out after %gs"):format(s.timeout)
        or common.transport_message(terr)
      if common.is_timeout(terr) then break end
    elseif res.status == 200 and res.body and res.body ~= "" then
      if not want_json then return res.body end
      local cjson = require "cjson.safe"
      local doc = cjson.decode(res.body)
      if type(doc) == "table" then return doc end
      last = "the credentials document is not JSON"
    else
      last = "HTTP " .. tostring(res.status)
      if res.status == 401 then
        last = token and "HTTP 401 (the IMDSv2 token was rejected)"
          or "HTTP 401: the instance requires IMDSv2 tokens, and no token could be obtained"
      elseif res.status == 404 then
        last = "HTTP 404 (no IAM role is attached to this instance)"
        break
      end
    end
  end
  return nil, last
end

function _M.fetch(opts)
  local s, serr = _M.settings(opts)
  if not s then return nil, new_error("InvalidConfiguration", "instance metadata: " .. serr) end
  if s.disabled then
    return nil, provider.not_found("instance metadata", "AWS_EC2_METADATA_DISABLED is true")
  end
  local where = "instance metadata (" .. s.base .. ")"
  local token, why = get_token(opts, s)
  if token == nil then return nil, provider.not_found(where, why) end
  if token == false then
    if s.v1_disabled then
      -- botocore raises here: "Unable to retrieve token for use in IMDSv2 call and IMDSv1 has been
      -- disabled"; we report it the same way but let the chain finish its list
      return nil, provider.not_found(where, ("no IMDSv2 token (%s) and the IMDSv1 fallback is disabled")
        :format(tostring(why)))
    end
  end
  local role, rerr = get(opts, s, CREDS_PATH, token or nil, false)
  if not role then return nil, provider.not_found(where, "reading the role name: " .. tostring(rerr)) end
  role = role:match("^%s*([^\r\n%s]+)")
  if not role then return nil, provider.not_found(where, "no IAM role name in the response") end
  local doc, cerr = get(opts, s, CREDS_PATH .. role, token or nil, true)
  if not doc then
    return nil, new_error("InstanceMetadataError", ("%s: reading credentials for role %s: %s")
      :format(where, role, tostring(cerr)), { retryable = true })
  end
  for _, k in ipairs({ "AccessKeyId", "SecretAccessKey", "Token", "Expiration" }) do
    if type(doc[k]) ~= "string" or doc[k] == "" then
      local msg = ("%s: no %s in the credentials for role %s"):format(where, k, role)
      if type(doc.Code) == "string" then msg = msg .. " (Code " .. doc.Code .. ")" end
      return nil, new_error("InstanceMetadataError", msg)
    end
  end
  local exp = common.parse_iso8601(doc.Expiration)
  if not exp then
    return nil, new_error("InstanceMetadataError", where .. ": Expiration is not an ISO 8601 time")
  end
  return { access_key_id = doc.AccessKeyId, secret_access_key = doc.SecretAccessKey,
           session_token = doc.Token, expiration = exp,
           source = ("%s role %s%s"):format(where, role, token and "" or " via IMDSv1") }
end

function _M.new(opts)
  opts = opts or {}
  return provider.new("instance metadata", function() return _M.fetch(opts) end, opts)
end

return _M
